// The transfer dialog: to a queue (the ticket waits there), to an agent, or both.
import { api } from "../api.js";
import { h } from "../dom.js";
import { extend, t } from "../i18n.js";

extend({
  en: { transfer_note: "Note for whoever takes it (optional)" },
  "pt-BR": { transfer_note: "Observação para quem assumir (opcional)" },
  es: { transfer_note: "Nota para quien lo tome (opcional)" },
});

/** Ask where to transfer `ticket`; resolves with the updated ticket, or null if cancelled. */
export function transferDialog(ticket, ctx) {
  return new Promise((resolve) => {
    const queueSelect = h("select", { attrs: { id: "transfer-queue", name: "queue_id" } });
    const userSelect = h("select", { attrs: { id: "transfer-user", name: "user_id" } });
    const note = h("textarea", {
      attrs: { id: "transfer-note", name: "note", rows: "2", maxlength: "1000" },
    });
    const error = h("p", { className: "form-error", attrs: { role: "alert" } });
    const submit = h("button", {
      className: "primary",
      attrs: { type: "submit" },
      text: t("confirm_transfer"),
    });
    let result = null;

    function fillQueues() {
      queueSelect.replaceChildren(h("option", { attrs: { value: "" }, text: t("nobody") }));
      for (const queue of ctx.queues.values()) {
        queueSelect.append(h("option", { attrs: { value: queue.id }, text: queue.name }));
      }
    }

    function fillUsers() {
      const queueId = Number(queueSelect.value) || ticket.queue_id;
      const chosen = userSelect.value;
      userSelect.replaceChildren(h("option", { attrs: { value: "" }, text: t("nobody") }));
      for (const user of ctx.users.values()) {
        if (!user.is_active) continue;
        if (queueId && user.role === "agent" && !user.queue_ids.includes(queueId)) continue;
        const online = ctx.online.has(user.id) ? ` ● ${t("online")}` : "";
        userSelect.append(h("option", { attrs: { value: user.id }, text: `${user.name}${online}` }));
      }
      userSelect.value = [...userSelect.options].some((o) => o.value === chosen) ? chosen : "";
    }

    queueSelect.addEventListener("change", fillUsers);
    fillQueues();
    fillUsers();

    const form = h(
      "form",
      {
        className: "dialog-form",
        on: {
          submit: async (event) => {
            event.preventDefault();
            const body = {};
            if (queueSelect.value) body.queue_id = Number(queueSelect.value);
            if (userSelect.value) body.user_id = Number(userSelect.value);
            if (note.value.trim()) body.note = note.value.trim();
            if (!body.queue_id && !body.user_id) {
              error.textContent = t("transfer_need_target");
              return;
            }
            submit.disabled = true;
            try {
              result = await api(`/api/tickets/${ticket.id}/transfer`, { method: "POST", body });
              dialog.close();
            } catch (failure) {
              error.textContent = failure.message || t("error_generic");
            } finally {
              submit.disabled = false;
            }
          },
        },
      },
      h("h2", { text: t("transfer_title") }),
      h(
        "div",
        { className: "field" },
        h("label", { attrs: { for: "transfer-queue" }, text: t("to_queue") }),
        queueSelect,
      ),
      h(
        "div",
        { className: "field" },
        h("label", { attrs: { for: "transfer-user" }, text: t("to_agent") }),
        userSelect,
      ),
      h(
        "div",
        { className: "field" },
        h("label", { attrs: { for: "transfer-note" }, text: t("transfer_note") }),
        note,
      ),
      error,
      h(
        "div",
        { className: "dialog-buttons" },
        h("button", {
          attrs: { type: "button" },
          text: t("cancel"),
          on: { click: () => dialog.close() },
        }),
        submit,
      ),
    );
    const dialog = h("dialog", { className: "dialog", attrs: { "aria-label": t("transfer_title") } }, form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    queueSelect.focus();
  });
}
