// Quick replies: canned answers that agents insert by typing "/" and the shortcut in the
// inbox composer; create, edit, delete.
import { allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, showErrors, table } from "./forms.js";

extend({
  en: {
    section_quick_replies: "Quick replies",
    qr_new: "New quick reply",
    qr_edit_title: "Edit /{shortcut}",
    qr_shortcut: "Shortcut",
    qr_shortcut_hint: "Letters, digits, “_” and “-”. Agents type /shortcut in the chat.",
    qr_text: "Text",
    qr_empty: "No quick replies yet.",
    qr_created: "Quick reply created.",
    qr_deleted: "Quick reply deleted.",
    qr_delete_confirm: "Delete the quick reply /{shortcut}?",
    qr_cancel: "Cancel",
  },
  "pt-BR": {
    section_quick_replies: "Respostas rápidas",
    qr_new: "Nova resposta rápida",
    qr_edit_title: "Editar /{shortcut}",
    qr_shortcut: "Atalho",
    qr_shortcut_hint: "Letras, dígitos, “_” e “-”. Os atendentes digitam /atalho no chat.",
    qr_text: "Texto",
    qr_empty: "Nenhuma resposta rápida ainda.",
    qr_created: "Resposta rápida criada.",
    qr_deleted: "Resposta rápida excluída.",
    qr_delete_confirm: "Excluir a resposta rápida /{shortcut}?",
    qr_cancel: "Cancelar",
  },
  es: {
    section_quick_replies: "Respuestas rápidas",
    qr_new: "Nueva respuesta rápida",
    qr_edit_title: "Editar /{shortcut}",
    qr_shortcut: "Atajo",
    qr_shortcut_hint: "Letras, dígitos, “_” y “-”. Los agentes escriben /atajo en el chat.",
    qr_text: "Texto",
    qr_empty: "Todavía no hay respuestas rápidas.",
    qr_created: "Respuesta rápida creada.",
    qr_deleted: "Respuesta rápida eliminada.",
    qr_delete_confirm: "¿Eliminar la respuesta rápida /{shortcut}?",
    qr_cancel: "Cancelar",
  },
});

export default {
  id: "quick-replies",
  titleKey: "section_quick_replies",
  roles: ["admin", "supervisor"],
  async render(root) {
    const error = h("p", { className: "form-error", attrs: { role: "alert", id: "qr-error" } });
    const editor = h("div", { className: "ap-editor", attrs: { id: "qr-editor" }, props: { hidden: true } });
    const list = h("div", { className: "ap-scroll" }, h("p", { className: "muted", text: t("loading") }));
    const newButton = h("button", {
      className: "primary",
      attrs: { type: "button", id: "qr-new" },
      text: t("qr_new"),
      on: { click: () => openEditor(null) },
    });
    replace(root, h("div", { className: "ap-toolbar" }, newButton), error, editor, list);

    async function load() {
      const replies = await allPages("/api/quick-replies");
      if (!replies.length) {
        replace(list, h("p", { className: "muted", text: t("qr_empty") }));
        return;
      }
      replace(
        list,
        table(
          [
            ["qr_shortcut", (reply) => h("code", { text: `/${reply.shortcut}` })],
            ["qr_text", (reply) => h("span", { className: "ap-pre", text: reply.text })],
            [
              "",
              (reply) =>
                h(
                  "span",
                  { className: "ap-actions" },
                  h("button", {
                    attrs: { type: "button", "data-action": "edit", "aria-label": `${t("edit")}: /${reply.shortcut}` },
                    text: t("edit"),
                    on: { click: () => openEditor(reply) },
                  }),
                  h("button", {
                    className: "ap-danger",
                    attrs: { type: "button", "data-action": "delete", "aria-label": `${t("delete")}: /${reply.shortcut}` },
                    text: t("delete"),
                    on: { click: () => remove(reply) },
                  }),
                ),
            ],
          ],
          replies,
          { className: "admin-table ap-table", rowAttrs: (reply) => ({ "data-quick-reply-id": reply.id }) },
        ),
      );
    }

    async function remove(reply) {
      error.textContent = "";
      if (!(await confirmDialog(t("qr_delete_confirm", { shortcut: reply.shortcut }), { confirmKey: "delete" }))) return;
      try {
        await api(`/api/quick-replies/${reply.id}`, { method: "DELETE" });
        toast(t("qr_deleted"));
        closeEditor();
        await load();
      } catch (failure) {
        error.textContent = failure.message || t("error_generic");
      }
    }

    function closeEditor() {
      editor.hidden = true;
      editor.replaceChildren();
    }

    function openEditor(reply) {
      const shortcut = input(
        { type: "text", maxlength: 50, required: true, autocomplete: "off", pattern: "[A-Za-z0-9_\\-]+" },
        reply?.shortcut ?? "",
      );
      const text = h("textarea", { attrs: { rows: 4, maxlength: 4000, required: true }, props: { value: reply?.text ?? "" } });
      const form = h(
        "form",
        { className: "ap-form", attrs: { id: "qr-form", novalidate: true, "aria-labelledby": "qr-form-title" } },
        h("h2", {
          className: "ap-title",
          attrs: { id: "qr-form-title" },
          text: reply ? t("qr_edit_title", { shortcut: reply.shortcut }) : t("qr_new"),
        }),
        field("shortcut", shortcut, { labelKey: "qr_shortcut", hint: "qr_shortcut_hint" }),
        field("text", text, { labelKey: "qr_text" }),
        h("p", { className: "form-error", attrs: { role: "alert" } }),
        h(
          "div",
          { className: "ap-buttons" },
          h("button", { className: "primary", attrs: { type: "submit", id: "qr-save" }, text: t("save") }),
          h("button", {
            attrs: { type: "button" },
            text: t("qr_cancel"),
            on: {
              click: () => {
                closeEditor();
                newButton.focus();
              },
            },
          }),
        ),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        clearErrors(form);
        // A leading "/" is how agents type it; the shortcut itself has none.
        const body = { shortcut: shortcut.value.trim().replace(/^\//, ""), text: text.value };
        try {
          if (reply) await api(`/api/quick-replies/${reply.id}`, { method: "PATCH", body });
          else await api("/api/quick-replies", { method: "POST", body });
          toast(t(reply ? "saved" : "qr_created"));
          closeEditor();
          newButton.focus();
          await load();
        } catch (failure) {
          showErrors(form, failure);
        }
      });
      replace(editor, form);
      editor.hidden = false;
      shortcut.focus();
    }

    await load();
  },
};
