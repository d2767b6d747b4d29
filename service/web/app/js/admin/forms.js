// What every admin section's forms share: labelled fields, the API's 422 shown beside the
// fields it names, a confirmation dialog and a plain table. Text always goes in as text.
import { ApiError } from "../api.js";
import { h } from "../dom.js";
import { extend, t } from "../i18n.js";

extend({
  en: { save: "Save", saved: "Saved.", delete: "Delete", edit: "Edit", add: "Add", confirm: "Confirm", none: "None" },
  "pt-BR": { save: "Salvar", saved: "Salvo.", delete: "Excluir", edit: "Editar", add: "Adicionar", confirm: "Confirmar", none: "Nenhum" },
  es: { save: "Guardar", saved: "Guardado.", delete: "Eliminar", edit: "Editar", add: "Añadir", confirm: "Confirmar", none: "Ninguno" },
});

let nextId = 0;

/**
 * A labelled field: `field("name", input)` where "name" is both the i18n key of the label
 * and the API field whose errors show under it (override with {name, labelKey, hint}).
 */
export function field(name, input, { labelKey = name, hint = null } = {}) {
  if (!input.id) input.id = `f-${name.replace(/\W/g, "-")}-${++nextId}`;
  input.dataset.field = name;
  const error = h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: name } });
  const wrapper = h(
    "div",
    { className: input.type === "checkbox" ? "field field-check" : "field" },
    h("label", { attrs: { for: input.id }, text: t(labelKey) }),
    input,
    hint ? h("p", { className: "field-hint muted", text: t(hint) }) : null,
    error,
  );
  return wrapper;
}

/** An <input> with attributes; `value` set as a property so that it is never markup. */
export function input(attrs = {}, value = "") {
  const element = h("input", { attrs });
  if (attrs.type === "checkbox") element.checked = Boolean(value);
  else element.value = value ?? "";
  return element;
}

/** A <select> of [value, label] pairs. */
export function select(options, value = "", attrs = {}) {
  const element = h(
    "select",
    { attrs },
    ...options.map(([optionValue, label]) => h("option", { attrs: { value: optionValue }, text: label })),
  );
  element.value = value === null || value === undefined ? "" : String(value);
  return element;
}

/** Clear the errors shown under `form`'s fields. */
export function clearErrors(form) {
  for (const element of form.querySelectorAll(".field-error, .form-error")) element.textContent = "";
  for (const element of form.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
}

/**
 * Show an API failure on `form`: each of a 422's fields ({path: message}) under its input
 * (the whole path, else its first segment), the rest in the form's .form-error line.
 */
export function showErrors(form, failure) {
  clearErrors(form);
  const general = form.querySelector(".form-error");
  const unplaced = [];
  if (failure instanceof ApiError && failure.fields) {
    for (const [path, message] of Object.entries(failure.fields)) {
      const name = path.split(".")[0];
      const target = form.querySelector(`[data-error-for="${CSS.escape(path)}"]`) ??
        form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      if (target) {
        target.textContent = message;
        const control = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
        control?.setAttribute("aria-invalid", "true");
      } else {
        unplaced.push(`${path}: ${message}`);
      }
    }
  }
  if (general) {
    general.textContent = unplaced.length ? unplaced.join(" · ") : failure.message || t("error_generic");
  }
}

/** Ask a yes/no question in a modal dialog; resolves true on "confirm". */
export function confirmDialog(text, { confirmKey = "confirm" } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = h(
      "dialog",
      { className: "dialog", attrs: { "aria-label": text } },
      h("p", { text }),
      h(
        "div",
        { className: "dialog-buttons" },
        h("button", { attrs: { type: "button" }, text: t("cancel"), on: { click: () => dialog.close() } }),
        h("button", {
          className: "primary",
          attrs: { type: "button", "data-confirm": "" },
          text: t(confirmKey),
          on: {
            click: () => {
              answer = true;
              dialog.close();
            },
          },
        }),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A table: columns are [i18n key, row → node or text]. */
export function table(columns, rows, { className = "admin-table", rowAttrs = () => ({}) } = {}) {
  return h(
    "table",
    { className },
    h("thead", {}, h("tr", {}, ...columns.map(([key]) => h("th", { attrs: { scope: "col" }, text: key ? t(key) : "" })))),
    h(
      "tbody",
      {},
      ...rows.map((row) =>
        h("tr", { attrs: rowAttrs(row) }, ...columns.map(([, cell]) => h("td", {}, cell(row) ?? ""))),
      ),
    ),
  );
}
