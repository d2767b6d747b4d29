// The dashboard: today's figures from GET /api/reports/dashboard (see service/reports for
// what each one means). It refetches, debounced, when tickets or messages change, and
// exports the figures shown as CSV.
import { api } from "../api.js";
import { debounce, h, replace } from "../dom.js";
import { extend, getLang, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { table } from "./forms.js";

extend({
  en: {
    dash_reports: "Reports over a period",
    section_dashboard: "Dashboard",
    dash_day: "Day",
    dash_today: "Today",
    dash_export: "Export CSV",
    dash_waiting: "Waiting now",
    dash_oldest: "oldest for {time}",
    dash_nobody_waiting: "nobody waiting",
    dash_created: "Created",
    dash_closed: "Closed",
    dash_first_response: "Average first response",
    dash_first_response_n: "tickets answered: {n}",
    dash_csat: "Rating (CSAT)",
    dash_csat_n: "ratings: {n}",
    dash_none: "—",
    dash_by_status: "Tickets by status",
    dash_by_queue: "Tickets by queue",
    dash_status_note: "Bot, waiting and open: right now. Closed: on the day.",
    dash_queue: "Queue",
    dash_no_queue: "No queue",
    dash_bot: "Bot",
    dash_pending: "Waiting",
    dash_open: "Open",
    dash_closed_day: "Closed",
    dash_no_tickets: "No tickets.",
    dash_updated: "Updated at {time} · {zone}",
    dash_metric: "metric",
    dash_value: "value",
  },
  "pt-BR": {
    dash_reports: "Relatórios de um período",
    section_dashboard: "Painel",
    dash_day: "Dia",
    dash_today: "Hoje",
    dash_export: "Exportar CSV",
    dash_waiting: "Aguardando agora",
    dash_oldest: "o mais antigo há {time}",
    dash_nobody_waiting: "ninguém aguardando",
    dash_created: "Criados",
    dash_closed: "Encerrados",
    dash_first_response: "Primeira resposta média",
    dash_first_response_n: "tickets respondidos: {n}",
    dash_csat: "Avaliação (CSAT)",
    dash_csat_n: "avaliações: {n}",
    dash_none: "—",
    dash_by_status: "Tickets por situação",
    dash_by_queue: "Tickets por fila",
    dash_status_note: "Bot, aguardando e abertos: agora. Encerrados: no dia.",
    dash_queue: "Fila",
    dash_no_queue: "Sem fila",
    dash_bot: "Bot",
    dash_pending: "Aguardando",
    dash_open: "Abertos",
    dash_closed_day: "Encerrados",
    dash_no_tickets: "Nenhum ticket.",
    dash_updated: "Atualizado às {time} · {zone}",
    dash_metric: "métrica",
    dash_value: "valor",
  },
  es: {
    dash_reports: "Informes de un período",
    section_dashboard: "Panel",
    dash_day: "Día",
    dash_today: "Hoy",
    dash_export: "Exportar CSV",
    dash_waiting: "Esperando ahora",
    dash_oldest: "el más antiguo hace {time}",
    dash_nobody_waiting: "nadie esperando",
    dash_created: "Creados",
    dash_closed: "Cerrados",
    dash_first_response: "Primera respuesta media",
    dash_first_response_n: "tickets respondidos: {n}",
    dash_csat: "Evaluación (CSAT)",
    dash_csat_n: "evaluaciones: {n}",
    dash_none: "—",
    dash_by_status: "Tickets por estado",
    dash_by_queue: "Tickets por cola",
    dash_status_note: "Bot, esperando y abiertos: ahora. Cerrados: en el día.",
    dash_queue: "Cola",
    dash_no_queue: "Sin cola",
    dash_bot: "Bot",
    dash_pending: "Esperando",
    dash_open: "Abiertos",
    dash_closed_day: "Cerrados",
    dash_no_tickets: "Ningún ticket.",
    dash_updated: "Actualizado a las {time} · {zone}",
    dash_metric: "métrica",
    dash_value: "valor",
  },
});

const STATUSES = [
  ["bot", "dash_bot"],
  ["pending", "dash_pending"],
  ["open", "dash_open"],
  ["closed", "dash_closed_day"],
];
const REFETCH_MS = 800;
const TICK_MS = 30_000;

/** "45 s", "12 min", "3 h 05 min", "2 d 4 h": a duration as people read it. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return t("dash_none");
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(getLang(), { maximumFractionDigits: digits }).format(value);
}

/** A CSV cell: quoted when it must be, and never read as a formula by a spreadsheet. */
function csvCell(value) {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(report) {
  const rows = [
    [t("dash_metric"), t("dash_value")],
    ["date", report.date],
    ["timezone", report.timezone],
    ["generated_at", report.generated_at],
    ["waiting_now", report.waiting.count],
    ["oldest_waiting_since", report.waiting.oldest_handed_off_at ?? ""],
    ["oldest_wait_seconds", report.waiting.oldest_wait_seconds ?? ""],
    ["created", report.created],
    ["closed", report.closed],
    ["first_response_count", report.first_response.count],
    ["first_response_average_seconds", report.first_response.average_seconds ?? ""],
    ["csat_count", report.csat.count],
    ["csat_average", report.csat.average ?? ""],
    ...STATUSES.map(([status]) => [`status_${status}`, report.by_status[status]]),
    [],
    ["queue_id", "queue", "bot", "pending", "open", "closed"],
    ...report.by_queue.map((row) => [
      row.queue_id ?? "",
      row.queue_id === null ? t("dash_no_queue") : row.queue_name,
      row.bot,
      row.pending,
      row.open,
      row.closed,
    ]),
  ];
  return `${rows.map((row) => row.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

function download(report) {
  // A byte-order mark so that spreadsheets read the file as UTF-8.
  const blob = new Blob(["\ufeff", toCsv(report)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = h("a", { className: "ap-hidden", attrs: { href: url, download: `atende-dashboard-${report.date}.csv` } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function card(id, labelKey, value, detail) {
  return h(
    "div",
    { className: "ap-card", attrs: { id: `dash-${id}`, role: "group", "aria-labelledby": `dash-${id}-label` } },
    h("p", { className: "ap-card-label", attrs: { id: `dash-${id}-label` }, text: t(labelKey) }),
    h("p", { className: "ap-card-value", dataset: { value: id }, text: value }),
    h("p", { className: "ap-card-detail muted", text: detail }),
  );
}

/** Horizontal bars drawn with CSS; the width is set through the CSSOM. */
function bars(report) {
  const max = Math.max(1, ...STATUSES.map(([status]) => report.by_status[status]));
  return h(
    "ul",
    { className: "ap-bars", attrs: { id: "dash-status" } },
    ...STATUSES.map(([status, key]) => {
      const count = report.by_status[status];
      const fill = h("span", { className: `ap-bar-fill ap-bar-${status}` });
      fill.style.width = `${(100 * count) / max}%`;
      return h(
        "li",
        { className: "ap-bar", dataset: { status } },
        h("span", { className: "ap-bar-label", text: t(key) }),
        h("span", { className: "ap-bar-track", attrs: { "aria-hidden": "true" } }, fill),
        h("span", { className: "ap-bar-count", dataset: { count: status }, text: formatNumber(count) }),
      );
    }),
  );
}

export default {
  id: "dashboard",
  titleKey: "section_dashboard",
  roles: ["admin", "supervisor"],
  async render(root) {
    let report = null;
    let alive = true;
    let fetching = null;
    let again = false;
    // Until a day is picked, the page follows "today" (the server's, in the company's zone).
    let followToday = true;
    const day = h("input", { attrs: { type: "date", id: "dash-date" } });
    const todayButton = h("button", {
      attrs: { type: "button", id: "dash-today" },
      text: t("dash_today"),
      on: {
        click: () => {
          followToday = true;
          refetch();
        },
      },
    });
    const exportButton = h("button", {
      attrs: { type: "button", id: "dash-export", disabled: true },
      text: t("dash_export"),
      on: { click: () => report && download(report) },
    });
    const updated = h("p", { className: "muted ap-updated", attrs: { id: "dash-updated", "aria-live": "off" } });
    const body = h("div", { className: "ap-dashboard", attrs: { "aria-live": "off" } }, h("p", { className: "muted", text: t("loading") }));
    replace(
      root,
      h(
        "div",
        { className: "ap-toolbar" },
        h("label", { className: "ap-inline", attrs: { for: "dash-date" }, text: t("dash_day") }),
        day,
        todayButton,
        h("span", { className: "spacer" }),
        h("a", { attrs: { href: "#reports", id: "dash-reports" }, text: t("dash_reports") }),
        exportButton,
      ),
      updated,
      body,
    );
    day.addEventListener("change", () => {
      followToday = !day.value;
      refetch();
    });

    /** Fetch and show; a call while one is running runs once more after it. */
    async function refetch() {
      if (fetching) {
        again = true;
        return fetching;
      }
      fetching = (async () => {
        try {
          const fresh = await api("/api/reports/dashboard", { query: { date: followToday ? null : day.value } });
          if (!alive) return;
          report = fresh;
          report.receivedAt = Date.now();
          show();
        } catch (failure) {
          if (alive) toast(failure.message || t("error_generic"), "error");
        }
      })();
      await fetching;
      fetching = null;
      if (again && alive) {
        again = false;
        await refetch();
      }
    }

    function waitedNow() {
      const waited = report.waiting.oldest_wait_seconds;
      return waited === null ? null : waited + (Date.now() - report.receivedAt) / 1000;
    }

    function show() {
      exportButton.disabled = false;
      day.value = report.date;
      updated.textContent = t("dash_updated", {
        time: new Intl.DateTimeFormat(getLang(), { timeStyle: "medium" }).format(new Date()),
        zone: report.timezone,
      });
      const { waiting, first_response: first, csat } = report;
      replace(
        body,
        h(
          "div",
          { className: "ap-cards" },
          card(
            "waiting",
            "dash_waiting",
            formatNumber(waiting.count),
            waiting.count ? t("dash_oldest", { time: formatDuration(waitedNow()) }) : t("dash_nobody_waiting"),
          ),
          card("created", "dash_created", formatNumber(report.created), report.date),
          card("closed", "dash_closed", formatNumber(report.closed), report.date),
          card(
            "first-response",
            "dash_first_response",
            formatDuration(first.average_seconds),
            t("dash_first_response_n", { n: first.count }),
          ),
          card(
            "csat",
            "dash_csat",
            csat.average === null ? t("dash_none") : `${formatNumber(csat.average, 2)} / 5`,
            t("dash_csat_n", { n: csat.count }),
          ),
        ),
        h(
          "div",
          { className: "ap-panels" },
          h(
            "section",
            { className: "ap-part", attrs: { "aria-labelledby": "dash-status-title" } },
            h("h2", { className: "ap-subheading", attrs: { id: "dash-status-title" }, text: t("dash_by_status") }),
            bars(report),
            h("p", { className: "muted ap-note", text: t("dash_status_note") }),
          ),
          h(
            "section",
            { className: "ap-part", attrs: { "aria-labelledby": "dash-queue-title" } },
            h("h2", { className: "ap-subheading", attrs: { id: "dash-queue-title" }, text: t("dash_by_queue") }),
            report.by_queue.length
              ? h(
                  "div",
                  { className: "ap-scroll" },
                  table(
                    [
                      ["dash_queue", (row) => (row.queue_id === null ? h("em", { text: t("dash_no_queue") }) : row.queue_name)],
                      ...STATUSES.map(([status, key]) => [key, (row) => formatNumber(row[status])]),
                    ],
                    report.by_queue,
                    {
                      className: "admin-table ap-table ap-numbers",
                      rowAttrs: (row) => ({ "data-queue-id": row.queue_id ?? "none" }),
                    },
                  ),
                )
              : h("p", { className: "muted", text: t("dash_no_tickets") }),
          ),
        ),
      );
    }

    const scheduled = debounce(() => {
      if (alive) refetch();
    }, REFETCH_MS);
    // The oldest wait grows by itself: refresh its text between events.
    const ticker = setInterval(() => {
      if (report?.waiting.count) {
        const detail = body.querySelector("#dash-waiting .ap-card-detail");
        if (detail) detail.textContent = t("dash_oldest", { time: formatDuration(waitedNow()) });
      }
    }, TICK_MS);

    await refetch();
    return {
      onEvent(event) {
        if (event.type?.startsWith("ticket.") || event.type === "message.created") scheduled();
      },
      destroy() {
        alive = false;
        clearInterval(ticker);
      },
    };
  },
};
