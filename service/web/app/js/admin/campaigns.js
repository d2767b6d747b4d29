// Campaigns: the list with live progress bars, one campaign's statistics, actions (start,
// pause, resume, cancel, delete) and recipients, and the editor (campaigns_form.js). The
// numbers move as `campaign.progress` events arrive (at most one a second per campaign).
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, formatTime, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { openCampaignEditor } from "./campaigns_form.js";
import { confirmDialog, select, table } from "./forms.js";

extend({
  en: {
    section_campaigns: "Campaigns",
    cp_empty: "No campaigns yet.",
    cp_col_name: "Campaign",
    cp_col_status: "Status",
    cp_col_progress: "Progress",
    cp_open: "Open",
    cp_back: "All campaigns",
    cp_progress_text: "{done} of {total}",
    cp_status_draft: "Draft",
    cp_status_scheduled: "Scheduled",
    cp_status_running: "Running",
    cp_status_paused: "Paused",
    cp_status_finished: "Finished",
    cp_status_cancelled: "Cancelled",
    cp_r_queued: "Queued",
    cp_r_confirming: "Awaiting reply",
    cp_r_sent: "Sent",
    cp_r_delivered: "Delivered",
    cp_r_read: "Read",
    cp_r_failed: "Failed",
    cp_r_skipped: "Skipped",
    cp_all_statuses: "All statuses",
    cp_total: "Recipients",
    cp_went_out: "Sent",
    cp_delivered_rate: "Delivered",
    cp_read_rate: "Read",
    cp_start: "Start",
    cp_pause: "Pause",
    cp_resume: "Resume",
    cp_cancel: "Cancel campaign",
    cp_delete: "Delete",
    cp_csv: "Download recipients (CSV)",
    cp_start_confirm: "Start “{name}”? Its audience is frozen now and the messages go out at the configured pace.",
    cp_cancel_confirm: "Cancel “{name}” for good? Who was not reached yet is skipped.",
    cp_delete_confirm: "Delete “{name}” and its recipients?",
    cp_deleted: "Campaign deleted.",
    cp_recipients: "Recipients",
    cp_col_number: "Number",
    cp_col_contact: "Contact",
    cp_col_reason: "Reason",
    cp_col_sent_at: "Sent at",
    cp_more: "Load more",
    cp_no_recipients: "No recipients here.",
    cp_next_send: "Next send: {at}",
  },
  "pt-BR": {
    section_campaigns: "Campanhas",
    cp_empty: "Nenhuma campanha ainda.",
    cp_col_name: "Campanha",
    cp_col_status: "Situação",
    cp_col_progress: "Progresso",
    cp_open: "Abrir",
    cp_back: "Todas as campanhas",
    cp_progress_text: "{done} de {total}",
    cp_status_draft: "Rascunho",
    cp_status_scheduled: "Agendada",
    cp_status_running: "Enviando",
    cp_status_paused: "Pausada",
    cp_status_finished: "Concluída",
    cp_status_cancelled: "Cancelada",
    cp_r_queued: "Na fila",
    cp_r_confirming: "Aguardando resposta",
    cp_r_sent: "Enviada",
    cp_r_delivered: "Entregue",
    cp_r_read: "Lida",
    cp_r_failed: "Falhou",
    cp_r_skipped: "Ignorada",
    cp_all_statuses: "Todas as situações",
    cp_total: "Destinatários",
    cp_went_out: "Enviadas",
    cp_delivered_rate: "Entregues",
    cp_read_rate: "Lidas",
    cp_start: "Iniciar",
    cp_pause: "Pausar",
    cp_resume: "Retomar",
    cp_cancel: "Cancelar campanha",
    cp_delete: "Excluir",
    cp_csv: "Baixar destinatários (CSV)",
    cp_start_confirm: "Iniciar “{name}”? O público é fixado agora e as mensagens saem no ritmo configurado.",
    cp_cancel_confirm: "Cancelar “{name}” de vez? Quem ainda não recebeu é ignorado.",
    cp_delete_confirm: "Excluir “{name}” e seus destinatários?",
    cp_deleted: "Campanha excluída.",
    cp_recipients: "Destinatários",
    cp_col_number: "Número",
    cp_col_contact: "Contato",
    cp_col_reason: "Motivo",
    cp_col_sent_at: "Enviada em",
    cp_more: "Carregar mais",
    cp_no_recipients: "Nenhum destinatário aqui.",
    cp_next_send: "Próximo envio: {at}",
  },
  es: {
    section_campaigns: "Campañas",
    cp_empty: "Todavía no hay campañas.",
    cp_col_name: "Campaña",
    cp_col_status: "Estado",
    cp_col_progress: "Progreso",
    cp_open: "Abrir",
    cp_back: "Todas las campañas",
    cp_progress_text: "{done} de {total}",
    cp_status_draft: "Borrador",
    cp_status_scheduled: "Programada",
    cp_status_running: "Enviando",
    cp_status_paused: "Pausada",
    cp_status_finished: "Terminada",
    cp_status_cancelled: "Cancelada",
    cp_r_queued: "En cola",
    cp_r_confirming: "Esperando respuesta",
    cp_r_sent: "Enviado",
    cp_r_delivered: "Entregado",
    cp_r_read: "Leído",
    cp_r_failed: "Falló",
    cp_r_skipped: "Omitido",
    cp_all_statuses: "Todos los estados",
    cp_total: "Destinatarios",
    cp_went_out: "Enviados",
    cp_delivered_rate: "Entregados",
    cp_read_rate: "Leídos",
    cp_start: "Iniciar",
    cp_pause: "Pausar",
    cp_resume: "Reanudar",
    cp_cancel: "Cancelar campaña",
    cp_delete: "Eliminar",
    cp_csv: "Descargar destinatarios (CSV)",
    cp_start_confirm: "¿Iniciar “{name}”? El público se fija ahora y los mensajes salen al ritmo configurado.",
    cp_cancel_confirm: "¿Cancelar “{name}” definitivamente? Quien no lo recibió todavía se omite.",
    cp_delete_confirm: "¿Eliminar “{name}” y sus destinatarios?",
    cp_deleted: "Campaña eliminada.",
    cp_recipients: "Destinatarios",
    cp_col_number: "Número",
    cp_col_contact: "Contacto",
    cp_col_reason: "Motivo",
    cp_col_sent_at: "Enviado el",
    cp_more: "Cargar más",
    cp_no_recipients: "No hay destinatarios aquí.",
    cp_next_send: "Próximo envío: {at}",
  },
});

const RECIPIENT_STATUSES = ["queued", "confirming", "sent", "delivered", "read", "failed", "skipped"];
const PROGRESS_EVENT = "campaign.progress";

/** Recipients no longer waiting, out of all of them. */
function progressOf(counts) {
  const total = RECIPIENT_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0);
  const done = total - (counts.queued ?? 0) - (counts.confirming ?? 0);
  return { total, done };
}

function progressBar(counts, id) {
  const { total, done } = progressOf(counts);
  const bar = h("progress", { className: "cp-progress", attrs: { max: Math.max(total, 1), value: done, "aria-label": t("cp_col_progress") } });
  return h(
    "span",
    { className: "cp-progress-cell", dataset: { progressFor: id } },
    bar,
    h("span", { className: "cp-progress-text", text: t("cp_progress_text", { done, total }) }),
  );
}

function statusBadge(status) {
  return h("span", { className: `cp-status cp-status-${status}`, text: t(`cp_status_${status}`) });
}

function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 1000) / 10}%`;
}

export default {
  id: "campaigns",
  titleKey: "section_campaigns",
  roles: ["admin", "supervisor"],
  async render(root, { path }) {
    const id = Number.parseInt(path, 10);
    const state = { onProgress: () => {} };
    if (Number.isInteger(id) && id > 0) await renderDetail(root, id, state);
    else await renderList(root, state);
    return {
      onEvent(event) {
        if (event.type === PROGRESS_EVENT && event.data) state.onProgress(event.data);
      },
    };
  },
};

async function renderList(root, state) {
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const editor = h("div", { className: "ap-editor", attrs: { id: "campaign-editor" }, props: { hidden: true } });
  const list = h("div", { className: "ap-scroll" }, h("p", { className: "muted", text: t("loading") }));
  const newButton = h("button", {
    className: "primary",
    attrs: { type: "button", id: "campaign-new" },
    text: t("cp_new"),
    on: {
      click: async () => {
        editor.hidden = false;
        try {
          await openCampaignEditor(editor, null, {
            onDone: (saved) => {
              location.hash = `#campaigns/${saved.id}`;
            },
            onCancel: () => {
              editor.hidden = true;
              editor.replaceChildren();
              newButton.focus();
            },
          });
        } catch (failure) {
          error.textContent = failure.message || t("error_generic");
        }
      },
    },
  });
  replace(root, h("div", { className: "ap-toolbar" }, newButton), error, editor, list);

  const rows = new Map();
  const page = await api("/api/campaigns", { query: { limit: 200 } });
  if (!page.items.length) {
    replace(list, h("p", { className: "muted", text: t("cp_empty") }));
  } else {
    replace(
      list,
      table(
        [
          ["cp_col_name", (c) => h("a", { attrs: { href: `#campaigns/${c.id}` }, text: c.name })],
          ["cp_col_status", (c) => h("span", { dataset: { statusFor: c.id } }, statusBadge(c.status))],
          ["cp_col_progress", (c) => progressBar(c.stats.counts, c.id)],
        ],
        page.items,
        { className: "admin-table ap-table cp-table", rowAttrs: (c) => ({ "data-campaign-id": c.id }) },
      ),
    );
    for (const campaign of page.items) rows.set(campaign.id, campaign);
  }
  state.onProgress = (data) => {
    if (!rows.has(data.id)) return;
    const status = list.querySelector(`[data-status-for="${data.id}"]`);
    if (status) replace(status, statusBadge(data.status));
    const cell = list.querySelector(`[data-progress-for="${data.id}"]`);
    if (cell) cell.replaceWith(progressBar(data.counts, data.id));
  };
}

async function renderDetail(root, id, state) {
  let campaign = await api(`/api/campaigns/${id}`);
  const error = h("p", { className: "form-error", attrs: { role: "alert", id: "campaign-error" } });
  const header = h("div", { className: "cp-header" });
  const cards = h("div", { className: "ap-cards cp-cards", attrs: { "aria-live": "polite" } });
  const actions = h("div", { className: "ap-actions cp-actions" });
  const editor = h("div", { className: "ap-editor", attrs: { id: "campaign-editor" }, props: { hidden: true } });
  const filter = select(
    [["", t("cp_all_statuses")], ...RECIPIENT_STATUSES.map((s) => [s, t(`cp_r_${s}`)])],
    "",
    { id: "cp-recipient-filter", "aria-label": t("cp_col_status") },
  );
  const recipients = h("div", { className: "ap-scroll", attrs: { id: "cp-recipients" } });
  const more = h("button", { attrs: { type: "button", id: "cp-more" }, text: t("cp_more"), props: { hidden: true } });
  let cursor = null;
  let loaded = [];

  replace(
    root,
    h("p", {}, h("a", { attrs: { href: "#campaigns", id: "cp-back" }, text: t("cp_back") })),
    header,
    error,
    cards,
    actions,
    editor,
    h("h2", { className: "ap-subheading", text: t("cp_recipients") }),
    h("div", { className: "ap-toolbar" }, filter),
    recipients,
    more,
  );

  function drawHeader() {
    const next = campaign.status === "running" && campaign.next_send_at
      ? h("span", { className: "muted", text: t("cp_next_send", { at: formatTime(campaign.next_send_at) }) })
      : null;
    replace(
      header,
      h("h2", { className: "ap-title cp-name", attrs: { id: "cp-title" }, text: campaign.name }),
      h("p", { className: "cp-meta" }, h("span", { attrs: { id: "cp-status" } }, statusBadge(campaign.status)), " ", next),
    );
  }

  function drawStats(counts) {
    const { total, done } = progressOf(counts);
    const out = (counts.sent ?? 0) + (counts.delivered ?? 0) + (counts.read ?? 0);
    const delivered = (counts.delivered ?? 0) + (counts.read ?? 0);
    const card = (key, value, detail = null) =>
      h(
        "div",
        { className: "ap-card", dataset: { card: key } },
        h("div", { className: "ap-card-label", text: t(key) }),
        h("div", { className: "ap-card-value", text: String(value) }),
        detail ? h("div", { className: "ap-card-detail muted", text: detail }) : null,
      );
    replace(
      cards,
      h("div", { className: "cp-wide" }, progressBar(counts, campaign.id)),
      card("cp_total", total, t("cp_progress_text", { done, total })),
      card("cp_went_out", out),
      card("cp_delivered_rate", percent(out ? delivered / out : null), String(delivered)),
      card("cp_read_rate", percent(out ? (counts.read ?? 0) / out : null), String(counts.read ?? 0)),
      card("cp_r_failed", counts.failed ?? 0),
      card("cp_r_skipped", counts.skipped ?? 0),
      counts.confirming ? card("cp_r_confirming", counts.confirming) : null,
    );
  }

  function act(key, path, { confirmKey = null, method = "POST", danger = false } = {}) {
    return h("button", {
      className: danger ? "ap-danger" : "",
      attrs: { type: "button", "data-action": path || "delete" },
      text: t(key),
      on: {
        click: async () => {
          error.textContent = "";
          if (confirmKey && !(await confirmDialog(t(confirmKey, { name: campaign.name }), { confirmKey: "confirm" }))) return;
          try {
            if (method === "DELETE") {
              await api(`/api/campaigns/${campaign.id}`, { method });
              toast(t("cp_deleted"));
              location.hash = "#campaigns";
              return;
            }
            campaign = await api(`/api/campaigns/${campaign.id}/${path}`, { method });
            draw();
            await loadRecipients(true);
          } catch (failure) {
            error.textContent = failure.message || t("error_generic");
          }
        },
      },
    });
  }

  function drawActions() {
    const status = campaign.status;
    const buttons = [];
    if (["draft", "scheduled", "running", "paused"].includes(status)) {
      buttons.push(h("button", { attrs: { type: "button", "data-action": "edit" }, text: t("edit"), on: { click: () => edit() } }));
    }
    if (status === "draft") buttons.push(act("cp_start", "start", { confirmKey: "cp_start_confirm" }));
    if (["running", "scheduled"].includes(status)) buttons.push(act("cp_pause", "pause"));
    if (status === "paused") buttons.push(act("cp_resume", "resume"));
    if (["draft", "scheduled", "running", "paused"].includes(status)) {
      buttons.push(act("cp_cancel", "cancel", { confirmKey: "cp_cancel_confirm", danger: true }));
    }
    if (!["running", "paused"].includes(status)) {
      buttons.push(act("cp_delete", "", { confirmKey: "cp_delete_confirm", method: "DELETE", danger: true }));
    }
    buttons.push(h("button", { attrs: { type: "button", id: "cp-csv" }, text: t("cp_csv"), on: { click: () => download() } }));
    replace(actions, ...buttons);
  }

  function draw() {
    drawHeader();
    drawStats(campaign.stats.counts);
    drawActions();
  }

  async function edit() {
    editor.hidden = false;
    try {
      await openCampaignEditor(editor, campaign, {
        onDone: (saved) => {
          campaign = saved;
          editor.hidden = true;
          editor.replaceChildren();
          draw();
        },
        onCancel: () => {
          editor.hidden = true;
          editor.replaceChildren();
        },
      });
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
    }
  }

  async function download() {
    try {
      const blob = await api(`/api/campaigns/${campaign.id}/recipients.csv`, { query: { status: filter.value }, blob: true });
      const url = URL.createObjectURL(blob);
      const link = h("a", { attrs: { href: url, download: `campaign-${campaign.id}.csv` }, props: { hidden: true } });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
    }
  }

  // Each fresh load supersedes the ones still on their way (an action's reload and a filter
  // change can overlap): only the newest one's rows are shown, never both pages together.
  let generation = 0;

  async function loadRecipients(fresh) {
    if (fresh) generation += 1;
    const mine = generation;
    const from = fresh ? null : cursor;
    const page = await api(`/api/campaigns/${campaign.id}/recipients`, { query: { limit: 50, cursor: from, status: filter.value } });
    if (mine !== generation) return;
    if (fresh) loaded = [];
    loaded.push(...page.items);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!loaded.length) {
      replace(recipients, h("p", { className: "muted", text: t("cp_no_recipients") }));
      return;
    }
    replace(
      recipients,
      table(
        [
          ["cp_col_number", (r) => r.number],
          ["cp_col_contact", (r) => r.name],
          ["cp_col_status", (r) => h("span", { className: `cp-r cp-r-${r.status}`, text: t(`cp_r_${r.status}`) })],
          ["cp_col_reason", (r) => r.reason],
          ["cp_col_sent_at", (r) => formatTime(r.sent_at)],
        ],
        loaded,
        { className: "admin-table ap-table cp-table", rowAttrs: (r) => ({ "data-recipient-id": r.id }) },
      ),
    );
  }

  filter.addEventListener("change", () => loadRecipients(true).catch((failure) => (error.textContent = failure.message)));
  more.addEventListener("click", () => loadRecipients(false).catch((failure) => (error.textContent = failure.message)));
  state.onProgress = (data) => {
    if (data.id !== campaign.id) return;
    const statusChanged = data.status !== campaign.status;
    campaign = { ...campaign, status: data.status, stats: { ...campaign.stats, counts: data.counts } };
    drawStats(data.counts);
    if (statusChanged) {
      drawHeader();
      drawActions();
    }
  };
  draw();
  await loadRecipients(true);
}
