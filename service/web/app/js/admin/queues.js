// Queues: the list (#queues), a new one (#queues/new) and one queue (#queues/<id>) with
// its texts, business hours and menu options tree. The tree and the hours are edited in
// their own modules; this one loads, saves and places the API's errors.
import { ApiError, allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, table } from "./forms.js";
import { hoursEditor, hoursSummary } from "./queue_hours.js";
import { treeEditor } from "./queue_tree.js";

extend({
  en: {
    section_queues: "Queues",
    q_new: "New queue",
    q_list: "All queues",
    q_name: "Name",
    q_color: "Colour",
    q_greeting: "Greeting",
    q_greeting_hint: "Sent when the customer picks this queue.",
    q_position: "Position in the menu",
    q_out_of_hours: "Out-of-hours message",
    q_keywords: "Keywords",
    q_keywords_hint: "Words that lead straight to this queue, separated by commas.",
    q_options: "Menu options",
    q_options_n: "{n} options",
    q_hours: "Hours",
    q_always_open: "Always open",
    q_holidays_n: "{n} holidays",
    q_empty: "No queues yet.",
    q_delete_confirm: "Delete the queue “{name}”? Its tickets stay, without a queue.",
    q_deleted: "Queue deleted.",
    q_not_found: "This queue does not exist (any more).",
    q_preview: "What the customer sees",
    q_texts: "Texts",
    q_created: "Queue created.",
  },
  "pt-BR": {
    section_queues: "Filas",
    q_new: "Nova fila",
    q_list: "Todas as filas",
    q_name: "Nome",
    q_color: "Cor",
    q_greeting: "Saudação",
    q_greeting_hint: "Enviada quando o cliente escolhe esta fila.",
    q_position: "Posição no menu",
    q_out_of_hours: "Mensagem fora do horário",
    q_keywords: "Palavras-chave",
    q_keywords_hint: "Palavras que levam direto a esta fila, separadas por vírgulas.",
    q_options: "Opções do menu",
    q_options_n: "{n} opções",
    q_hours: "Horário",
    q_always_open: "Sempre aberta",
    q_holidays_n: "{n} feriados",
    q_empty: "Nenhuma fila ainda.",
    q_delete_confirm: "Excluir a fila “{name}”? Os tickets ficam, sem fila.",
    q_deleted: "Fila excluída.",
    q_not_found: "Esta fila não existe (mais).",
    q_preview: "O que o cliente vê",
    q_texts: "Textos",
    q_created: "Fila criada.",
  },
  es: {
    section_queues: "Colas",
    q_new: "Nueva cola",
    q_list: "Todas las colas",
    q_name: "Nombre",
    q_color: "Color",
    q_greeting: "Saludo",
    q_greeting_hint: "Se envía cuando el cliente elige esta cola.",
    q_position: "Posición en el menú",
    q_out_of_hours: "Mensaje fuera de horario",
    q_keywords: "Palabras clave",
    q_keywords_hint: "Palabras que llevan directo a esta cola, separadas por comas.",
    q_options: "Opciones del menú",
    q_options_n: "{n} opciones",
    q_hours: "Horario",
    q_always_open: "Siempre abierta",
    q_holidays_n: "{n} feriados",
    q_empty: "Todavía no hay colas.",
    q_delete_confirm: "¿Eliminar la cola «{name}»? Sus tickets quedan, sin cola.",
    q_deleted: "Cola eliminada.",
    q_not_found: "Esta cola no existe (ya).",
    q_preview: "Lo que ve el cliente",
    q_texts: "Textos",
    q_created: "Cola creada.",
  },
});

/** A colour swatch painted through the CSSOM (the page's policy forbids style attributes). */
export function swatch(color) {
  const element = h("span", { className: "as-swatch", attrs: { "aria-hidden": "true" } });
  element.style.backgroundColor = /^#[0-9a-f]{6}$/i.test(color ?? "") ? color : "transparent";
  return element;
}

function countOptions(options) {
  return options.reduce((sum, option) => sum + 1 + countOptions(option.children ?? []), 0);
}

/**
 * Place a 422's fields ({path: message}) under the error line whose path is the longest
 * prefix of each (so "options.0.children.1.title.x" still lands at that option), mark the
 * control the path names, and put what has no place in the form's general line.
 */
export function placeErrors(form, failure) {
  clearErrors(form);
  const general = form.querySelector(".form-error");
  const unplaced = [];
  const fields = failure instanceof ApiError && failure.fields ? failure.fields : {};
  let first = null;
  for (const [path, message] of Object.entries(fields)) {
    const parts = path.split(".");
    let target = null;
    for (let size = parts.length; size > 0 && !target; size -= 1) {
      target = form.querySelector(`[data-error-for="${CSS.escape(parts.slice(0, size).join("."))}"]`);
    }
    if (!target) {
      unplaced.push(`${path}: ${message}`);
      continue;
    }
    target.textContent = target.textContent ? `${target.textContent} · ${message}` : message;
    const control =
      form.querySelector(`[data-path-field="${CSS.escape(path)}"]`) ??
      form.querySelector(`[data-field="${CSS.escape(path)}"]`) ??
      form.querySelector(`[data-field="${CSS.escape(parts[0])}"]`);
    control?.setAttribute("aria-invalid", "true");
    first ??= control ?? target;
  }
  if (general) {
    general.textContent = unplaced.length
      ? unplaced.join(" · ")
      : Object.keys(fields).length
        ? ""
        : failure.message || t("error_generic");
  }
  first?.scrollIntoView?.({ block: "center" });
}

export default {
  id: "queues",
  titleKey: "section_queues",
  roles: ["admin"],
  async render(root, ctx) {
    if (ctx.path === "new") return editQueue(root, null);
    if (/^\d+$/.test(ctx.path)) return editQueue(root, Number(ctx.path));
    return listQueues(root);
  },
};

async function listQueues(root) {
  const error = h("p", { className: "form-error", attrs: { role: "alert", id: "queues-error" } });
  const body = h("div", { className: "as-scroll" }, h("p", { className: "muted", text: t("loading") }));
  replace(
    root,
    h("div", { className: "as-toolbar" }, h("a", { className: "as-link-button primary", attrs: { href: "#queues/new", id: "queue-new" }, text: t("q_new") })),
    error,
    body,
  );

  async function load() {
    const queues = await allPages("/api/queues");
    if (!queues.length) {
      replace(body, h("p", { className: "muted", text: t("q_empty") }));
      return;
    }
    replace(
      body,
      table(
        [
          [
            "q_name",
            (queue) =>
              h(
                "span",
                { className: "as-name" },
                swatch(queue.color),
                h("a", { attrs: { href: `#queues/${queue.id}` }, text: queue.name }),
              ),
          ],
          ["q_position", (queue) => String(queue.position)],
          ["q_options", (queue) => t("q_options_n", { n: countOptions(queue.options) })],
          ["q_hours", (queue) => hoursSummary(queue.business_hours)],
          [
            "",
            (queue) =>
              h(
                "span",
                { className: "as-actions" },
                h("a", { attrs: { href: `#queues/${queue.id}`, "aria-label": `${t("edit")}: ${queue.name}` }, text: t("edit") }),
                h("button", {
                  className: "as-danger",
                  attrs: { type: "button", "aria-label": `${t("delete")}: ${queue.name}` },
                  text: t("delete"),
                  on: { click: () => remove(queue) },
                }),
              ),
          ],
        ],
        queues,
        { className: "admin-table as-table", rowAttrs: (queue) => ({ "data-queue-id": queue.id }) },
      ),
    );
  }

  async function remove(queue) {
    error.textContent = "";
    if (!(await confirmDialog(t("q_delete_confirm", { name: queue.name }), { confirmKey: "delete" }))) return;
    try {
      await api(`/api/queues/${queue.id}`, { method: "DELETE" });
      toast(t("q_deleted"));
      await load();
    } catch (failure) {
      // A 409 says which queues' menus still forward here: that is the useful part.
      error.textContent = failure.message || t("error_generic");
    }
  }

  await load();
}

async function editQueue(root, queueId) {
  replace(root, h("p", { className: "muted", text: t("loading") }));
  let queue = null;
  let queues = [];
  try {
    [queue, queues] = await Promise.all([
      queueId === null ? null : api(`/api/queues/${queueId}`),
      allPages("/api/queues"),
    ]);
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) {
      replace(root, h("p", { className: "muted", text: t("q_not_found") }), backLink());
      return;
    }
    throw failure;
  }

  const name = input({ type: "text", maxlength: 100, required: true, autocomplete: "off" }, queue?.name ?? "");
  const color = input({ type: "color" }, queue?.color ?? "#5b8def");
  const greeting = h("textarea", { attrs: { rows: 3, maxlength: 4000 }, props: { value: queue?.greeting ?? "" } });
  const position = input({ type: "number", min: 0, max: 1000000, step: 1 }, queue?.position ?? nextPosition(queues));
  const outOfHours = h("textarea", { attrs: { rows: 3, maxlength: 4000 }, props: { value: queue?.out_of_hours_message ?? "" } });
  const keywords = input({ type: "text", autocomplete: "off" }, (queue?.keywords ?? []).join(", "));
  const preview = h("pre", { className: "q-preview", attrs: { id: "queue-preview", "aria-live": "off" } });
  const tree = treeEditor({
    options: queue?.options ?? [],
    queues,
    selfId: queueId,
    onChange: () => updatePreview(),
  });
  const hours = hoursEditor(queue?.business_hours ?? null);
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const save = h("button", { className: "primary", attrs: { type: "submit", id: "queue-save" }, text: t("save") });

  function updatePreview() {
    // What triage sends when the queue is chosen: the greeting, then its options.
    const lines = tree.lines();
    preview.textContent = [greeting.value.trim(), ...lines].filter(Boolean).join("\n") || "…";
  }
  greeting.addEventListener("input", updatePreview);

  const form = h(
    "form",
    { className: "as-form q-form", attrs: { id: "queue-form", novalidate: true } },
    h(
      "div",
      { className: "as-grid" },
      field("name", name, { labelKey: "q_name" }),
      field("color", color, { labelKey: "q_color" }),
      field("position", position, { labelKey: "q_position" }),
    ),
    field("greeting", greeting, { labelKey: "q_greeting", hint: "q_greeting_hint" }),
    field("keywords", keywords, { labelKey: "q_keywords", hint: "q_keywords_hint" }),
    h(
      "section",
      { className: "as-part", attrs: { "aria-labelledby": "q-options-title" } },
      h("h2", { className: "as-subheading", attrs: { id: "q-options-title" }, text: t("q_options") }),
      h(
        "div",
        { className: "q-options" },
        tree.element,
        h(
          "aside",
          { className: "q-preview-box" },
          h("h3", { className: "as-minor", text: t("q_preview") }),
          preview,
        ),
      ),
    ),
    h(
      "section",
      { className: "as-part", attrs: { "aria-labelledby": "q-hours-title" } },
      h("h2", { className: "as-subheading", attrs: { id: "q-hours-title" }, text: t("q_hours") }),
      hours.element,
      field("out_of_hours_message", outOfHours, { labelKey: "q_out_of_hours" }),
    ),
    error,
    h(
      "div",
      { className: "as-buttons" },
      save,
      queue
        ? h("button", {
            className: "as-danger",
            attrs: { type: "button", id: "queue-delete" },
            text: t("delete"),
            on: { click: () => remove() },
          })
        : null,
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  const heading = h("h2", { className: "as-title", text: queue ? queue.name : t("q_new") });
  replace(root, backLink(), heading, form);
  updatePreview();
  name.focus();

  function body() {
    return {
      name: name.value.trim(),
      color: color.value,
      greeting: greeting.value,
      position: position.value === "" ? 0 : Number(position.value),
      options: tree.value(),
      business_hours: hours.value(),
      out_of_hours_message: outOfHours.value,
      keywords: keywords.value
        .split(",")
        .map((word) => word.trim())
        .filter(Boolean),
    };
  }

  async function submit() {
    clearErrors(form);
    save.disabled = true;
    try {
      if (queue) {
        queue = await api(`/api/queues/${queue.id}`, { method: "PATCH", body: body() });
        heading.textContent = queue.name;
        toast(t("saved"));
      } else {
        const created = await api("/api/queues", { method: "POST", body: body() });
        toast(t("q_created"));
        location.hash = `#queues/${created.id}`;
      }
    } catch (failure) {
      placeErrors(form, failure);
    } finally {
      save.disabled = false;
    }
  }

  async function remove() {
    error.textContent = "";
    if (!(await confirmDialog(t("q_delete_confirm", { name: queue.name }), { confirmKey: "delete" }))) return;
    try {
      await api(`/api/queues/${queue.id}`, { method: "DELETE" });
      toast(t("q_deleted"));
      location.hash = "#queues";
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
    }
  }
}

function nextPosition(queues) {
  return queues.reduce((max, queue) => Math.max(max, queue.position + 1), 0);
}

function backLink() {
  return h("a", { className: "as-back", attrs: { href: "#queues" }, text: `← ${t("q_list")}` });
}
