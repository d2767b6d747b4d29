// What the Reports section shows of each report (GET /api/reports/...): headline cards, the
// per-agent and per-queue tables, the weekday × hour heat table, the backlog columns and
// the ratings' bars. Plain functions from a report to nodes; sizes go through the CSSOM
// (the page's CSP allows no inline style), colour levels through classes.
import { h } from "../dom.js";
import { getLang, t } from "../i18n.js";
import { formatDuration } from "./dashboard.js";
import { table } from "./forms.js";

const HEAT_LEVELS = 5;

export function formatNumber(value, digits = 0) {
  if (value === null || value === undefined) return t("rp_none");
  return new Intl.NumberFormat(getLang(), { maximumFractionDigits: digits }).format(value);
}

export function formatShare(value) {
  if (value === null || value === undefined) return t("rp_none");
  return new Intl.NumberFormat(getLang(), { style: "percent", maximumFractionDigits: 1 }).format(value);
}

function formatAverage(value) {
  return value === null || value === undefined ? t("rp_none") : `${formatNumber(value, 2)} / 5`;
}

/** A moment in the report's time zone: "10/03 14:00", or the date alone for midnights. */
export function formatMoment(iso, zone, { time = true } = {}) {
  const options = { timeZone: zone, day: "2-digit", month: "2-digit" };
  if (time) Object.assign(options, { hour: "2-digit", minute: "2-digit" });
  return new Intl.DateTimeFormat(getLang(), options).format(new Date(iso));
}

function card(id, labelKey, value, detail) {
  return h(
    "div",
    { className: "ap-card rp-card", attrs: { id: `rp-card-${id}`, role: "group", "aria-labelledby": `rp-card-${id}-label` } },
    h("p", { className: "ap-card-label", attrs: { id: `rp-card-${id}-label` }, text: t(labelKey) }),
    h("p", { className: "ap-card-value", dataset: { value: id }, text: value }),
    h("p", { className: "ap-card-detail muted", text: detail }),
  );
}

function statsDetail(stats, key = "rp_stats") {
  if (!stats.count) return t("rp_of", { n: 0 });
  return t(key, { median: formatDuration(stats.median), p90: formatDuration(stats.p90), n: formatNumber(stats.count) });
}

/** The headline cards of /api/reports/summary. */
export function summaryCards(summary) {
  const zone = summary.period.timezone;
  const { waiting_now: now, csat } = summary;
  return h(
    "div",
    { className: "ap-cards rp-cards", attrs: { id: "rp-cards" } },
    card("created", "rp_created", formatNumber(summary.created), t("rp_period_note", { first: summary.period.first_day, last: summary.period.last_day, zone })),
    card("handoff-rate", "rp_handoff_rate", formatShare(summary.handoff_rate), t("rp_of", { n: formatNumber(summary.handed_off) })),
    card("containment", "rp_containment", formatShare(summary.containment_rate), t("rp_of", { n: formatNumber(summary.bot_contained) })),
    card("closed", "rp_closed", formatNumber(summary.closed), t("rp_rated", { n: formatNumber(csat.count) })),
    card("frt", "rp_frt", formatDuration(summary.first_response.mean), statsDetail(summary.first_response)),
    card(
      "frt-business",
      "rp_frt_business",
      formatDuration(summary.first_response_business_hours.mean),
      statsDetail(summary.first_response_business_hours),
    ),
    card("waiting", "rp_waiting", formatDuration(summary.waiting.mean), statsDetail(summary.waiting)),
    card(
      "waiting-now",
      "rp_waiting_now",
      formatNumber(now.count),
      now.count && now.oldest_handed_off_at
        ? t("rp_waiting_since", { time: formatMoment(now.oldest_handed_off_at, zone) })
        : t("rp_nobody_waiting"),
    ),
    card(
      "resolution-creation",
      "rp_resolution_creation",
      formatDuration(summary.resolution_from_creation.mean),
      statsDetail(summary.resolution_from_creation),
    ),
    card(
      "resolution-handoff",
      "rp_resolution_handoff",
      formatDuration(summary.resolution_from_handoff.mean),
      statsDetail(summary.resolution_from_handoff),
    ),
    card("csat", "rp_csat", formatAverage(csat.average), t("rp_csat_detail", { share: formatShare(csat.satisfied_share), n: formatNumber(csat.count) })),
  );
}

function csatCell(csat) {
  return csat.count ? `${formatNumber(csat.average, 2)} (${formatNumber(csat.count)})` : t("rp_none");
}

/** The per-agent table of /api/reports/agents. */
export function agentsTable(report) {
  if (!report.items.length) return h("p", { className: "muted", attrs: { id: "rp-agents-empty" }, text: t("rp_no_agents") });
  return h(
    "div",
    { className: "ap-scroll" },
    table(
      [
        ["rp_agent", (row) => row.name],
        ["rp_closed_short", (row) => formatNumber(row.closed)],
        ["rp_first_responses", (row) => formatNumber(row.first_response.count)],
        ["rp_frt_mean", (row) => formatDuration(row.first_response.mean)],
        ["rp_frt_median", (row) => formatDuration(row.first_response.median)],
        ["rp_messages_sent", (row) => formatNumber(row.messages_sent)],
        ["rp_csat_short", (row) => csatCell(row.csat)],
      ],
      report.items,
      { className: "admin-table ap-table ap-numbers rp-table", rowAttrs: (row) => ({ "data-user-id": row.user_id }) },
    ),
  );
}

/** A figure's cell, named for the tests and titled with its detail (median, p90, count). */
function figureCell(name, text, detail) {
  return h("span", { className: detail ? "rp-hint" : "", dataset: { figure: name }, attrs: detail ? { title: detail } : {}, text });
}

/** The per-queue table of /api/reports/queues. "Entered" and the time in queue follow each
 * ticket's history (a transferred ticket counts in every queue it passed through); the
 * other columns go by the ticket's queue now. */
export function queuesTable(report) {
  if (!report.items.length) return h("p", { className: "muted", text: t("rp_no_queues") });
  const entered = (row) => figureCell("entered", formatNumber(row.entered), t("rp_entered_detail", { n: formatNumber(row.handed_off) }));
  const stay = ({ time_in_queue: stays }) => figureCell("time-in-queue", formatDuration(stays.mean), stays.count ? statsDetail(stays, "rp_stays") : "");
  return h(
    "div",
    { className: "ap-scroll" },
    table(
      [
        ["rp_queue", (row) => (row.queue_id === null ? h("em", { text: t("rp_no_queue") }) : row.queue_name)],
        ["rp_created_short", (row) => formatNumber(row.created)],
        ["rp_entered_short", entered],
        ["rp_closed_short", (row) => formatNumber(row.closed)],
        ["rp_waiting_mean", (row) => formatDuration(row.waiting.mean)],
        ["rp_time_in_queue_mean", stay],
        ["rp_frt_mean", (row) => formatDuration(row.first_response.mean)],
        ["rp_frt_business_mean", (row) => formatDuration(row.first_response_business_hours.mean)],
        ["rp_resolution_mean", (row) => formatDuration(row.resolution_from_handoff.mean)],
        ["rp_csat_short", (row) => csatCell(row.csat)],
      ],
      report.items,
      { className: "admin-table ap-table ap-numbers rp-table", rowAttrs: (row) => ({ "data-queue-id": row.queue_id ?? "none" }) },
    ),
    h("p", { className: "muted ap-note", attrs: { id: "rp-queues-note" }, text: t("rp_queues_note") }),
  );
}

/** The weekday × hour table of /api/reports/volume, each cell shaded by its share of the
 * busiest one; `what` is "messages" or "tickets". */
export function volumeTable(report, what) {
  const max = Math.max(0, ...report.cells.map((cell) => cell[what]));
  const days = t("rp_day_names").split(",");
  const byDay = Array.from({ length: 7 }, () => []);
  for (const cell of report.cells) byDay[cell.weekday][cell.hour] = cell[what];
  const hours = Array.from({ length: 24 }, (_, hour) => hour);
  return h(
    "div",
    { className: "ap-scroll" },
    h(
      "table",
      { className: "rp-heat", attrs: { id: "rp-heat", "data-what": what } },
      h("caption", { className: "muted", text: t("rp_volume_total", { n: formatNumber(report[what]) }) }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { attrs: { scope: "col" }, className: "rp-heat-corner", text: t("rp_weekday") }),
          ...hours.map((hour) => h("th", { attrs: { scope: "col", title: `${t("rp_hour")} ${hour}` }, text: String(hour) })),
        ),
      ),
      h(
        "tbody",
        {},
        ...byDay.map((counts, weekday) =>
          h(
            "tr",
            { dataset: { weekday } },
            h("th", { attrs: { scope: "row" }, text: days[weekday] }),
            ...hours.map((hour) => {
              const count = counts[hour] ?? 0;
              const level = count && max ? Math.max(1, Math.ceil((HEAT_LEVELS * count) / max)) : 0;
              return h("td", {
                className: `rp-heat-${level}`,
                dataset: { hour, count },
                attrs: { title: `${days[weekday]} ${String(hour).padStart(2, "0")}h: ${count}` },
                text: count ? formatNumber(count) : "",
              });
            }),
          ),
        ),
      ),
    ),
  );
}

/** The backlog of /api/reports/backlog as columns, tallest = the peak. */
export function backlogColumns(report) {
  const zone = report.period.timezone;
  if (!report.points.length) return h("p", { className: "muted", text: t("rp_backlog_empty") });
  const peak = Math.max(1, ...report.points.map((point) => point.backlog));
  const daily = report.freq === "day";
  const last = report.points[report.points.length - 1];
  return h(
    "div",
    {},
    h(
      "ol",
      { className: "rp-columns", attrs: { id: "rp-backlog-columns" } },
      ...report.points.map((point) => {
        const fill = h("span", { className: "rp-column-fill" });
        fill.style.height = `${(100 * point.backlog) / peak}%`;
        const label = t("rp_backlog_point", { at: formatMoment(point.at, zone, { time: !daily || !isMidnight(point.at, zone) }), n: point.backlog });
        return h("li", { className: "rp-column", dataset: { at: point.at, backlog: point.backlog }, attrs: { title: label } }, fill, h("span", { className: "rp-sr", text: label }));
      }),
    ),
    h("p", {
      className: "muted ap-note",
      attrs: { id: "rp-backlog-peak" },
      text: t("rp_backlog_peak", { n: formatNumber(Math.max(...report.points.map((point) => point.backlog))), last: formatNumber(last.backlog) }),
    }),
  );
}

function isMidnight(iso, zone) {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
  return parts === "00:00";
}

/** The ratings' distribution of /api/reports/csat as bars. */
export function csatBars(report) {
  if (!report.count) return h("p", { className: "muted", text: t("rp_no_ratings") });
  const max = Math.max(1, ...report.distribution.map((score) => score.count));
  return h(
    "div",
    {},
    h(
      "ul",
      { className: "ap-bars rp-scores", attrs: { id: "rp-scores" } },
      ...[...report.distribution].reverse().map(({ score, count }) => {
        const fill = h("span", { className: `ap-bar-fill rp-score-${score}` });
        fill.style.width = `${(100 * count) / max}%`;
        return h(
          "li",
          { className: "ap-bar", dataset: { score } },
          h("span", { className: "ap-bar-label", text: t("rp_score", { n: score }) }),
          h("span", { className: "ap-bar-track", attrs: { "aria-hidden": "true" } }, fill),
          h("span", { className: "ap-bar-count", dataset: { count: score }, text: formatNumber(count) }),
        );
      }),
    ),
    h("p", {
      className: "muted ap-note",
      text: `${formatAverage(report.average)} · ${t("rp_csat_detail", { share: formatShare(report.satisfied_share), n: formatNumber(report.count) })}`,
    }),
  );
}
