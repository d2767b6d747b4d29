// Reports: the figures of a period (GET /api/reports/summary, agents, queues, volume,
// backlog, csat; definitions in docs/metrics.md), for the last 7, 30 or 90 days or any
// days up to 366, for all queues or one. Each report downloads as the server's CSV file.
import { ApiError, allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, field, input, select, showErrors } from "./forms.js";
import "./reports_text.js";
import { agentsTable, backlogColumns, csatBars, queuesTable, summaryCards, volumeTable } from "./reports_views.js";

const PRESETS = [7, 30, 90];
const DEFAULT_PRESET = 30;
const MAX_DAYS = 366;
const MAX_HOURLY_DAYS = 31;
const REPORTS = ["summary", "agents", "queues", "volume", "backlog", "csat"];

/** "YYYY-MM-DD" moved by `days`. */
function shiftDay(day, days) {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date + days)).toISOString().slice(0, 10);
}

function daysBetween(first, last) {
  return Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
}

export default {
  id: "reports",
  titleKey: "section_reports",
  roles: ["admin", "supervisor"],
  async render(root) {
    let alive = true;
    let generation = 0;
    let today = null; // the company's today, as the server said in the first report
    let preset = DEFAULT_PRESET;
    let shown = null; // {summary, agents, …} of the last load
    let volumeWhat = "messages";
    let backlogFreq = "day";

    const from = input({ type: "date", id: "rp-from", required: true });
    const to = input({ type: "date", id: "rp-to", required: true });
    const queue = select([["", t("rp_all_queues")]], "", { id: "rp-queue" });
    const presetButtons = PRESETS.map((days) =>
      h("button", {
        className: "rp-preset",
        attrs: { type: "button", id: `rp-preset-${days}`, "aria-pressed": String(days === preset) },
        text: t("rp_last_days", { n: days }),
        on: { click: () => choosePreset(days) },
      }),
    );
    const customButton = h("button", {
      className: "rp-preset",
      attrs: { type: "button", id: "rp-preset-custom", "aria-pressed": "false" },
      text: t("rp_custom"),
      on: {
        click: () => {
          markPreset(null);
          from.focus();
        },
      },
    });
    const form = h(
      "form",
      { className: "rp-toolbar", attrs: { id: "rp-form", novalidate: true } },
      h(
        "div",
        { className: "rp-presets", attrs: { role: "group", "aria-label": t("rp_period") } },
        ...presetButtons,
        customButton,
      ),
      field("from", from, { labelKey: "rp_from" }),
      field("to", to, { labelKey: "rp_to" }),
      h("button", { className: "primary", attrs: { type: "submit", id: "rp-apply" }, text: t("rp_apply") }),
      field("queue_id", queue, { labelKey: "rp_queue" }),
      h("p", { className: "form-error", attrs: { role: "alert" } }),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      markPreset(null);
      load();
    });
    for (const dateInput of [from, to]) dateInput.addEventListener("input", () => markPreset(null));
    queue.addEventListener("change", () => load());

    const note = h("p", { className: "muted ap-updated", attrs: { id: "rp-period-note", "aria-live": "polite" } });
    const parts = Object.fromEntries(REPORTS.map((name) => [name, h("div", { className: "rp-body", attrs: { id: `rp-${name}` } })]));
    const volumeSelect = select(
      [
        ["messages", t("rp_volume_messages")],
        ["tickets", t("rp_volume_tickets")],
      ],
      volumeWhat,
      { id: "rp-volume-what", "aria-label": t("rp_volume_of") },
    );
    volumeSelect.addEventListener("change", () => {
      volumeWhat = volumeSelect.value;
      if (shown) replace(parts.volume, volumeTable(shown.volume, volumeWhat));
    });
    const freqSelect = select(
      [
        ["day", t("rp_by_day")],
        ["hour", t("rp_by_hour")],
      ],
      backlogFreq,
      { id: "rp-backlog-freq", "aria-label": t("rp_backlog_by") },
    );
    freqSelect.addEventListener("change", () => {
      backlogFreq = freqSelect.value;
      loadBacklog();
    });
    const backlogNote = h("p", { className: "muted ap-note", text: t("rp_backlog_note_day") });

    replace(
      root,
      form,
      note,
      panel("summary", "rp_summary", [], parts.summary),
      panel("agents", "rp_agents", [], parts.agents),
      panel("queues", "rp_queues", [], parts.queues),
      panel("volume", "rp_volume", [volumeSelect], parts.volume),
      h(
        "div",
        { className: "rp-panels" },
        panel("backlog", "rp_backlog", [freqSelect], backlogNote, parts.backlog),
        panel("csat", "rp_csat_title", [], parts.csat),
      ),
    );

    function panel(name, titleKey, controls, ...body) {
      const title = `rp-${name}-title`;
      return h(
        "section",
        { className: "ap-part rp-part", attrs: { "aria-labelledby": title } },
        h(
          "div",
          { className: "rp-part-head" },
          h("h2", { className: "ap-subheading", attrs: { id: title }, text: t(titleKey) }),
          h("span", { className: "spacer" }),
          ...controls,
          h("button", {
            className: "rp-csv",
            attrs: { type: "button", id: `rp-csv-${name}`, "aria-label": t("rp_csv_of", { report: t(titleKey) }), disabled: true },
            text: t("rp_csv"),
            on: { click: () => download(name) },
          }),
        ),
        ...body,
      );
    }

    function markPreset(days) {
      preset = days;
      for (const button of [...presetButtons, customButton]) {
        const id = button.id.replace("rp-preset-", "");
        button.setAttribute("aria-pressed", String(days === null ? id === "custom" : id === String(days)));
      }
    }

    function choosePreset(days) {
      markPreset(days);
      if (today) {
        to.value = today;
        from.value = shiftDay(today, -(days - 1));
      }
      load();
    }

    /** The query every report of the current choice takes. */
    function query() {
      const chosen = { queue_id: queue.value || null };
      if (today || preset === null) {
        chosen.from = from.value || null;
        chosen.to = to.value || null;
      }
      return chosen;
    }

    /** The API's own checks of a period, before asking: {field: message}, or null. */
    function invalid(asked) {
      if (!asked.from && !asked.to && preset !== null) return null;
      if (!asked.from) return { from: t("rp_required") };
      if (!asked.to) return { to: t("rp_required") };
      if (asked.from > asked.to) return { from: t("rp_from_after_to") };
      if (daysBetween(asked.from, asked.to) > MAX_DAYS) return { to: t("rp_too_long", { n: MAX_DAYS }) };
      return null;
    }

    async function load() {
      const mine = ++generation;
      clearErrors(form);
      const asked = query();
      const wrong = invalid(asked);
      if (wrong) {
        showErrors(form, new ApiError(422, "invalid", t("error_generic"), wrong));
        return;
      }
      for (const button of root.querySelectorAll(".rp-csv")) button.disabled = true;
      root.setAttribute("aria-busy", "true");
      try {
        const fetched = await Promise.all(
          REPORTS.map((name) => api(`/api/reports/${name}`, { query: name === "backlog" ? { ...asked, freq: backlogFreq } : asked })),
        );
        if (!alive || mine !== generation) return;
        shown = Object.fromEntries(REPORTS.map((name, index) => [name, fetched[index]]));
        show();
      } catch (failure) {
        if (!alive || mine !== generation) return;
        showErrors(form, failure);
        if (failure.status !== 422) toast(failure.message || t("error_generic"), "error");
      } finally {
        root.removeAttribute("aria-busy");
      }
    }

    async function loadBacklog() {
      if (!shown) return;
      const mine = generation;
      try {
        const backlog = await api("/api/reports/backlog", { query: { ...query(), freq: backlogFreq } });
        if (!alive || mine !== generation) return;
        shown.backlog = backlog;
        showBacklog();
      } catch (failure) {
        if (alive) toast(failure.message || t("error_generic"), "error");
      }
    }

    function showBacklog() {
      backlogNote.textContent = t(shown.backlog.freq === "day" ? "rp_backlog_note_day" : "rp_backlog_note_hour");
      replace(parts.backlog, backlogColumns(shown.backlog));
    }

    function show() {
      const { period } = shown.summary;
      if (!today) today = period.last_day;
      from.value = period.first_day;
      to.value = period.last_day;
      const days = daysBetween(period.first_day, period.last_day);
      const hourly = freqSelect.querySelector("option[value=hour]");
      hourly.disabled = days > MAX_HOURLY_DAYS;
      note.textContent = t("rp_period_note", { first: period.first_day, last: period.last_day, zone: period.timezone });
      replace(parts.summary, summaryCards(shown.summary));
      replace(parts.agents, agentsTable(shown.agents));
      replace(parts.queues, queuesTable(shown.queues));
      replace(parts.volume, volumeTable(shown.volume, volumeWhat));
      showBacklog();
      replace(parts.csat, csatBars(shown.csat));
      for (const button of root.querySelectorAll(".rp-csv")) button.disabled = false;
    }

    async function download(name) {
      if (!shown) return;
      const report = shown[name];
      const asked = { ...query(), from: report.period.first_day, to: report.period.last_day, format: "csv" };
      if (name === "backlog") asked.freq = report.freq;
      try {
        const blob = await api(`/api/reports/${name}`, { query: asked, blob: true });
        const queueId = report.queue_id === null ? "" : `-queue-${report.queue_id}`;
        const url = URL.createObjectURL(blob);
        const link = h("a", {
          className: "ap-hidden",
          attrs: { href: url, download: `atende-${name}-${report.period.first_day}-${report.period.last_day}${queueId}.csv` },
        });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (failure) {
        if (alive) toast(failure.message || t("error_generic"), "error");
      }
    }

    replace(parts.summary, h("p", { className: "muted", text: t("loading") }));
    try {
      const queues = await allPages("/api/queues");
      if (!alive) return null;
      for (const item of queues) queue.append(h("option", { attrs: { value: item.id }, text: item.name }));
    } catch (failure) {
      toast(failure.message || t("error_generic"), "error");
    }
    await load();
    return {
      destroy() {
        alive = false;
      },
    };
  },
};
