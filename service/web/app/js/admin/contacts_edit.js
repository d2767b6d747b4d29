// Editing one contact from the admin's Contacts section: name, email, custom fields, tags,
// opt-out with its reason; and merging another contact into it.
import { api } from "../api.js";
import { h, replace, debounce } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, select, showErrors } from "./forms.js";
import { BOT_LANGUAGES } from "./settings_texts.js";

extend({
  en: {
    ce_edit_title: "Edit contact",
    ce_name: "Name",
    ce_email: "Email",
    ce_language: "Language",
    ce_language_hint: "The bot answers in it. Set from the number's country when the customer writes first.",
    ce_language_company: "The company's",
    ce_custom: "Custom fields",
    ce_key: "Field",
    ce_value: "Value",
    ce_add_field: "Add a field",
    ce_remove_field: "Remove the field {key}",
    ce_tags: "Tags",
    ce_opted_out: "Opted out of campaigns",
    ce_reason: "Reason",
    ce_reason_hint: "Empty: “agent” and your name.",
    ce_cancel: "Cancel",
    ce_merge_title: "Merge another contact into {name}",
    ce_merge_intro: "The other contact's tickets, tags, lists and empty fields move here, then it is deleted.",
    ce_merge_search: "Find the other contact",
    ce_merge_pick: "Merge {name} here",
    ce_merge_confirm: "Merge {other} into {kept}? {other} is deleted.",
    ce_merged: "Contacts merged.",
    ce_merge_none: "No other contact matches.",
  },
  "pt-BR": {
    ce_edit_title: "Editar contato",
    ce_name: "Nome",
    ce_email: "E-mail",
    ce_language: "Idioma",
    ce_language_hint: "O bot responde nele. Definido pelo país do número quando o cliente escreve primeiro.",
    ce_language_company: "O da empresa",
    ce_custom: "Campos personalizados",
    ce_key: "Campo",
    ce_value: "Valor",
    ce_add_field: "Adicionar campo",
    ce_remove_field: "Remover o campo {key}",
    ce_tags: "Etiquetas",
    ce_opted_out: "Descadastrado das campanhas",
    ce_reason: "Motivo",
    ce_reason_hint: "Vazio: “agent” e o seu nome.",
    ce_cancel: "Cancelar",
    ce_merge_title: "Mesclar outro contato em {name}",
    ce_merge_intro: "Os tickets, etiquetas, listas e campos vazios do outro contato vêm para cá, e ele é excluído.",
    ce_merge_search: "Buscar o outro contato",
    ce_merge_pick: "Mesclar {name} aqui",
    ce_merge_confirm: "Mesclar {other} em {kept}? {other} será excluído.",
    ce_merged: "Contatos mesclados.",
    ce_merge_none: "Nenhum outro contato encontrado.",
  },
  es: {
    ce_edit_title: "Editar contacto",
    ce_name: "Nombre",
    ce_email: "Correo",
    ce_language: "Idioma",
    ce_language_hint: "El bot responde en él. Se define por el país del número cuando el cliente escribe primero.",
    ce_language_company: "El de la empresa",
    ce_custom: "Campos personalizados",
    ce_key: "Campo",
    ce_value: "Valor",
    ce_add_field: "Añadir campo",
    ce_remove_field: "Quitar el campo {key}",
    ce_tags: "Etiquetas",
    ce_opted_out: "Dado de baja de las campañas",
    ce_reason: "Motivo",
    ce_reason_hint: "Vacío: “agent” y tu nombre.",
    ce_cancel: "Cancelar",
    ce_merge_title: "Combinar otro contacto en {name}",
    ce_merge_intro: "Los tickets, etiquetas, listas y campos vacíos del otro contacto pasan aquí, y se elimina.",
    ce_merge_search: "Buscar el otro contacto",
    ce_merge_pick: "Combinar {name} aquí",
    ce_merge_confirm: "¿Combinar {other} en {kept}? {other} se elimina.",
    ce_merged: "Contactos combinados.",
    ce_merge_none: "Ningún otro contacto coincide.",
  },
});

export function label(contact) {
  return contact.name ? `${contact.name} (${contact.number})` : contact.number;
}

function customRow(list, key = "", value = "") {
  const keyInput = input({ type: "text", maxlength: 60, autocomplete: "off", "aria-label": t("ce_key"), "data-custom-key": "" }, key);
  const valueInput = input({ type: "text", maxlength: 1000, autocomplete: "off", "aria-label": t("ce_value"), "data-custom-value": "" }, value);
  const row = h("div", { className: "ct-custom-row" }, keyInput, valueInput);
  row.append(
    h("button", {
      className: "ap-danger",
      attrs: { type: "button", "aria-label": t("ce_remove_field", { key: key || "…" }) },
      text: "×",
      on: { click: () => row.remove() },
    }),
  );
  list.append(row);
  return keyInput;
}

/** The editor of `contact` inside `root`; `onSaved()` after a change, `onClose()`. */
export function editContact(root, contact, tags, { onSaved, onClose }) {
  const name = input({ type: "text", maxlength: 200, autocomplete: "off" }, contact.name);
  const email = input({ type: "email", maxlength: 254, autocomplete: "off" }, contact.email ?? "");
  const language = select([["", t("ce_language_company")], ...BOT_LANGUAGES], contact.language ?? "", { id: "ct-language" });
  const customs = h("div", { className: "ct-custom", attrs: { id: "ct-custom" } });
  for (const [key, value] of Object.entries(contact.custom_fields ?? {})) customRow(customs, key, value === null ? "" : String(value));
  const chosen = new Set(contact.tags.map((tag) => tag.id));
  const tagBoxes = tags.map((tag) => {
    const box = input({ type: "checkbox", value: tag.id, id: `ct-tag-${tag.id}` }, chosen.has(tag.id));
    return h("label", { className: "ct-tag", attrs: { for: box.id } }, box, ` ${tag.name}`);
  });
  const optedOut = input({ type: "checkbox", id: "ct-opted-out" }, contact.opted_out);
  const reason = input({ type: "text", maxlength: 200, id: "ct-reason", autocomplete: "off" }, contact.opted_out_reason ?? "");
  const reasonField = field("opted_out_reason", reason, { labelKey: "ce_reason", hint: "ce_reason_hint" });
  const syncReason = () => {
    reasonField.hidden = !optedOut.checked;
  };
  optedOut.addEventListener("change", syncReason);
  syncReason();
  const form = h(
    "form",
    { className: "ap-form", attrs: { id: "ct-form", novalidate: true, "aria-labelledby": "ct-form-title" } },
    h("h2", { className: "ap-title", attrs: { id: "ct-form-title" }, text: `${t("ce_edit_title")}: ${contact.number}` }),
    h(
      "div",
      { className: "ap-grid" },
      field("name", name, { labelKey: "ce_name" }),
      field("email", email, { labelKey: "ce_email" }),
      field("language", language, { labelKey: "ce_language", hint: "ce_language_hint" }),
    ),
    h(
      "fieldset",
      { className: "ct-fieldset" },
      h("legend", { text: t("ce_custom") }),
      customs,
      h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "custom_fields" } }),
      h("button", { attrs: { type: "button", id: "ct-add-field" }, text: t("ce_add_field"), on: { click: () => customRow(customs).focus() } }),
    ),
    tags.length ? h("fieldset", { className: "ct-fieldset" }, h("legend", { text: t("ce_tags") }), h("div", { className: "ct-tags" }, ...tagBoxes)) : null,
    field("opted_out", optedOut, { labelKey: "ce_opted_out" }),
    reasonField,
    h("p", { className: "form-error", attrs: { role: "alert" } }),
    h(
      "div",
      { className: "ap-buttons" },
      h("button", { className: "primary", attrs: { type: "submit", id: "ct-save" }, text: t("save") }),
      h("button", { attrs: { type: "button" }, text: t("ce_cancel"), on: { click: () => onClose() } }),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const custom = {};
    for (const row of customs.querySelectorAll(".ct-custom-row")) {
      const key = row.querySelector("[data-custom-key]").value.trim();
      if (key) custom[key] = row.querySelector("[data-custom-value]").value;
    }
    const body = {
      name: name.value.trim(),
      email: email.value.trim() || null,
      language: language.value || null,
      custom_fields: custom,
      tag_ids: tagBoxes.map((item) => item.querySelector("input")).filter((box) => box.checked).map((box) => Number(box.value)),
      opted_out: optedOut.checked,
    };
    if (optedOut.checked && reason.value.trim()) body.opted_out_reason = reason.value.trim();
    try {
      await api(`/api/contacts/${contact.id}`, { method: "PATCH", body });
      toast(t("saved"));
      onSaved();
    } catch (failure) {
      showErrors(form, failure);
    }
  });
  replace(root, form);
  root.hidden = false;
  name.focus();
}

/** Pick another contact by search and merge it into `contact` (which is kept). */
export function mergeContact(root, contact, { onSaved, onClose }) {
  const search = input({ type: "search", id: "ct-merge-search", autocomplete: "off", maxlength: 200 });
  const results = h("ul", { className: "ct-merge-results", attrs: { id: "ct-merge-results", "aria-live": "polite" } });
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const find = debounce(async () => {
    const q = search.value.trim();
    if (!q) {
      results.replaceChildren();
      return;
    }
    let page;
    try {
      page = await api("/api/contacts", { query: { q, limit: 10 } });
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
      return;
    }
    const others = page.items.filter((item) => item.id !== contact.id);
    if (!others.length) {
      replace(results, h("li", { className: "muted", text: t("ce_merge_none") }));
      return;
    }
    replace(
      results,
      ...others.map((other) =>
        h(
          "li",
          { dataset: { contactId: other.id } },
          h("span", { text: label(other) }),
          h("button", {
            attrs: { type: "button", "data-action": "merge-pick" },
            text: t("ce_merge_pick", { name: other.name || other.number }),
            on: { click: () => merge(other) },
          }),
        ),
      ),
    );
  }, 250);
  search.addEventListener("input", find);

  async function merge(other) {
    error.textContent = "";
    const question = t("ce_merge_confirm", { other: label(other), kept: label(contact) });
    if (!(await confirmDialog(question))) return;
    try {
      await api(`/api/contacts/${contact.id}/merge`, { method: "POST", body: { other_id: other.id } });
      toast(t("ce_merged"));
      onSaved();
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
    }
  }

  replace(
    root,
    h(
      "section",
      { className: "ap-form", attrs: { id: "ct-merge", "aria-labelledby": "ct-merge-title" } },
      h("h2", { className: "ap-title", attrs: { id: "ct-merge-title" }, text: t("ce_merge_title", { name: label(contact) }) }),
      h("p", { className: "muted", text: t("ce_merge_intro") }),
      field("merge_search", search, { labelKey: "ce_merge_search" }),
      results,
      error,
      h("div", { className: "ap-buttons" }, h("button", { attrs: { type: "button" }, text: t("ce_cancel"), on: { click: () => onClose() } })),
    ),
  );
  root.hidden = false;
  search.focus();
}
