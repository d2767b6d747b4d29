// Tags: labels with a colour for contacts and tickets; create, rename, recolour, delete.
import { allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, showErrors, table } from "./forms.js";

extend({
  en: {
    section_tags: "Tags",
    tags_new: "New tag",
    tags_edit_title: "Edit tag",
    tags_name: "Name",
    tags_color: "Colour",
    tags_contacts: "Contacts",
    tags_empty: "No tags yet.",
    tags_created: "Tag created.",
    tags_deleted: "Tag deleted.",
    tags_delete_confirm: "Delete the tag “{name}”? Contacts and tickets lose it.",
    tags_cancel: "Cancel",
  },
  "pt-BR": {
    section_tags: "Etiquetas",
    tags_new: "Nova etiqueta",
    tags_edit_title: "Editar etiqueta",
    tags_name: "Nome",
    tags_color: "Cor",
    tags_contacts: "Contatos",
    tags_empty: "Nenhuma etiqueta ainda.",
    tags_created: "Etiqueta criada.",
    tags_deleted: "Etiqueta excluída.",
    tags_delete_confirm: "Excluir a etiqueta “{name}”? Contatos e tickets a perdem.",
    tags_cancel: "Cancelar",
  },
  es: {
    section_tags: "Etiquetas",
    tags_new: "Nueva etiqueta",
    tags_edit_title: "Editar etiqueta",
    tags_name: "Nombre",
    tags_color: "Color",
    tags_contacts: "Contactos",
    tags_empty: "Todavía no hay etiquetas.",
    tags_created: "Etiqueta creada.",
    tags_deleted: "Etiqueta eliminada.",
    tags_delete_confirm: "¿Eliminar la etiqueta “{name}”? Contactos y tickets la pierden.",
    tags_cancel: "Cancelar",
  },
});

/** A colour chip painted through the CSSOM (the page's policy forbids style attributes). */
function chip(tag) {
  const element = h("span", { className: "ap-chip", text: tag.name });
  if (/^#[0-9a-f]{6}$/i.test(tag.color)) {
    element.style.setProperty("--chip", tag.color);
    element.classList.add(lightness(tag.color) > 0.6 ? "ap-chip-dark-text" : "ap-chip-light-text");
  }
  return element;
}

/** Relative luminance (0–1) of "#rrggbb", to pick a readable text colour on the chip. */
function lightness(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export default {
  id: "tags",
  titleKey: "section_tags",
  roles: ["admin", "supervisor"],
  async render(root) {
    let tags = [];
    const error = h("p", { className: "form-error", attrs: { role: "alert", id: "tags-error" } });
    const editor = h("div", { className: "ap-editor", attrs: { id: "tag-editor" }, props: { hidden: true } });
    const list = h("div", { className: "ap-scroll" }, h("p", { className: "muted", text: t("loading") }));
    const newButton = h("button", {
      className: "primary",
      attrs: { type: "button", id: "tag-new" },
      text: t("tags_new"),
      on: { click: () => openEditor(null) },
    });
    replace(root, h("div", { className: "ap-toolbar" }, newButton), error, editor, list);

    async function load() {
      tags = await allPages("/api/tags");
      if (!tags.length) {
        replace(list, h("p", { className: "muted", text: t("tags_empty") }));
        return;
      }
      replace(
        list,
        table(
          [
            ["tags_name", (tag) => chip(tag)],
            ["tags_color", (tag) => h("code", { text: tag.color })],
            ["tags_contacts", (tag) => String(tag.contacts_count)],
            [
              "",
              (tag) =>
                h(
                  "span",
                  { className: "ap-actions" },
                  h("button", {
                    attrs: { type: "button", "data-action": "edit", "aria-label": `${t("edit")}: ${tag.name}` },
                    text: t("edit"),
                    on: { click: () => openEditor(tag) },
                  }),
                  h("button", {
                    className: "ap-danger",
                    attrs: { type: "button", "data-action": "delete", "aria-label": `${t("delete")}: ${tag.name}` },
                    text: t("delete"),
                    on: { click: () => remove(tag) },
                  }),
                ),
            ],
          ],
          tags,
          { className: "admin-table ap-table", rowAttrs: (tag) => ({ "data-tag-id": tag.id }) },
        ),
      );
    }

    async function remove(tag) {
      error.textContent = "";
      if (!(await confirmDialog(t("tags_delete_confirm", { name: tag.name }), { confirmKey: "delete" }))) return;
      try {
        await api(`/api/tags/${tag.id}`, { method: "DELETE" });
        toast(t("tags_deleted"));
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

    function openEditor(tag) {
      const name = input({ type: "text", maxlength: 60, required: true, autocomplete: "off" }, tag?.name ?? "");
      const color = input({ type: "color" }, tag?.color ?? "#888888");
      const form = h(
        "form",
        { className: "ap-form", attrs: { id: "tag-form", novalidate: true, "aria-labelledby": "tag-form-title" } },
        h("h2", { className: "ap-title", attrs: { id: "tag-form-title" }, text: t(tag ? "tags_edit_title" : "tags_new") }),
        h("div", { className: "ap-grid" }, field("name", name, { labelKey: "tags_name" }), field("color", color, { labelKey: "tags_color" })),
        h("p", { className: "form-error", attrs: { role: "alert" } }),
        h(
          "div",
          { className: "ap-buttons" },
          h("button", { className: "primary", attrs: { type: "submit", id: "tag-save" }, text: t("save") }),
          h("button", {
            attrs: { type: "button" },
            text: t("tags_cancel"),
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
        const body = { name: name.value.trim(), color: color.value };
        try {
          if (tag) await api(`/api/tags/${tag.id}`, { method: "PATCH", body });
          else await api("/api/tags", { method: "POST", body });
          toast(t(tag ? "saved" : "tags_created"));
          closeEditor();
          newButton.focus();
          await load();
        } catch (failure) {
          showErrors(form, failure);
        }
      });
      replace(editor, form);
      editor.hidden = false;
      name.focus();
    }

    await load();
  },
};
