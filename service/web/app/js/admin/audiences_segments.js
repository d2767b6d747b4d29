// Segments: saved filters over contacts, edited with a live count of who matches now, and
// turned into a contact list on demand. Opted-out contacts never match (the server says so).
import { api } from "../api.js";
import { debounce, h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, select, showErrors, table } from "./forms.js";

extend({
  en: {
    au_segments: "Segments",
    au_segment_new: "New segment",
    au_segment_edit: "Edit segment",
    au_segment_name: "Segment name",
    au_segment_saved: "Segment saved.",
    au_segment_deleted: "Segment deleted.",
    au_segment_delete_confirm: "Delete the segment “{name}”? Lists made from it stay.",
    au_segments_empty: "No segments yet.",
    au_tags: "Tags",
    au_tags_any: "Any of these tags",
    au_tags_all: "All of these tags",
    au_tags_none: "None of these tags",
    au_fields: "Custom fields",
    au_field_key: "Field",
    au_field_op: "Condition",
    au_field_value: "Value",
    au_op_equals: "equals",
    au_op_contains: "contains",
    au_op_is_set: "is set",
    au_op_not_set: "is not set",
    au_field_add: "Add a field condition",
    au_field_remove: "Remove condition",
    au_activity: "Activity",
    au_inbound: "Last message from the contact",
    au_inbound_any: "Any time",
    au_inbound_within: "Within the last N days",
    au_inbound_before: "More than N days ago",
    au_inbound_never: "Never",
    au_days: "Days",
    au_tickets_min: "Tickets, at least",
    au_tickets_max: "Tickets, at most",
    au_queues: "Had a ticket in",
    au_rating: "Rating",
    au_rating_of: "Rating used",
    au_rating_last: "Last rating",
    au_rating_average: "Average rating",
    au_rating_min: "Rating, at least",
    au_rating_max: "Rating, at most",
    au_created_from: "Created from",
    au_created_to: "Created until",
    au_count: "{count} contacts match now (opted-out contacts never do).",
    au_counting: "Counting…",
    au_sample: "For example:",
    au_make_list: "Create a list from this segment",
    au_made_list: "List “{name}” created with {count} contacts.",
    au_new_list_name: "New list's name",
  },
  "pt-BR": {
    au_segments: "Segmentos",
    au_segment_new: "Novo segmento",
    au_segment_edit: "Editar segmento",
    au_segment_name: "Nome do segmento",
    au_segment_saved: "Segmento salvo.",
    au_segment_deleted: "Segmento excluído.",
    au_segment_delete_confirm: "Excluir o segmento “{name}”? As listas feitas dele continuam.",
    au_segments_empty: "Nenhum segmento ainda.",
    au_tags: "Etiquetas",
    au_tags_any: "Qualquer destas etiquetas",
    au_tags_all: "Todas estas etiquetas",
    au_tags_none: "Nenhuma destas etiquetas",
    au_fields: "Campos personalizados",
    au_field_key: "Campo",
    au_field_op: "Condição",
    au_field_value: "Valor",
    au_op_equals: "é igual a",
    au_op_contains: "contém",
    au_op_is_set: "está preenchido",
    au_op_not_set: "não está preenchido",
    au_field_add: "Adicionar condição de campo",
    au_field_remove: "Remover condição",
    au_activity: "Atividade",
    au_inbound: "Última mensagem do contato",
    au_inbound_any: "Qualquer momento",
    au_inbound_within: "Nos últimos N dias",
    au_inbound_before: "Há mais de N dias",
    au_inbound_never: "Nunca",
    au_days: "Dias",
    au_tickets_min: "Tickets, no mínimo",
    au_tickets_max: "Tickets, no máximo",
    au_queues: "Teve ticket em",
    au_rating: "Avaliação",
    au_rating_of: "Avaliação usada",
    au_rating_last: "Última avaliação",
    au_rating_average: "Média das avaliações",
    au_rating_min: "Avaliação, no mínimo",
    au_rating_max: "Avaliação, no máximo",
    au_created_from: "Criado a partir de",
    au_created_to: "Criado até",
    au_count: "{count} contatos correspondem agora (descadastrados nunca).",
    au_counting: "Contando…",
    au_sample: "Por exemplo:",
    au_make_list: "Criar uma lista com este segmento",
    au_made_list: "Lista “{name}” criada com {count} contatos.",
    au_new_list_name: "Nome da nova lista",
  },
  es: {
    au_segments: "Segmentos",
    au_segment_new: "Nuevo segmento",
    au_segment_edit: "Editar segmento",
    au_segment_name: "Nombre del segmento",
    au_segment_saved: "Segmento guardado.",
    au_segment_deleted: "Segmento eliminado.",
    au_segment_delete_confirm: "¿Eliminar el segmento “{name}”? Las listas hechas con él se quedan.",
    au_segments_empty: "Todavía no hay segmentos.",
    au_tags: "Etiquetas",
    au_tags_any: "Cualquiera de estas etiquetas",
    au_tags_all: "Todas estas etiquetas",
    au_tags_none: "Ninguna de estas etiquetas",
    au_fields: "Campos personalizados",
    au_field_key: "Campo",
    au_field_op: "Condición",
    au_field_value: "Valor",
    au_op_equals: "es igual a",
    au_op_contains: "contiene",
    au_op_is_set: "está completo",
    au_op_not_set: "no está completo",
    au_field_add: "Añadir condición de campo",
    au_field_remove: "Quitar condición",
    au_activity: "Actividad",
    au_inbound: "Último mensaje del contacto",
    au_inbound_any: "Cualquier momento",
    au_inbound_within: "En los últimos N días",
    au_inbound_before: "Hace más de N días",
    au_inbound_never: "Nunca",
    au_days: "Días",
    au_tickets_min: "Tickets, como mínimo",
    au_tickets_max: "Tickets, como máximo",
    au_queues: "Tuvo un ticket en",
    au_rating: "Valoración",
    au_rating_of: "Valoración usada",
    au_rating_last: "Última valoración",
    au_rating_average: "Valoración media",
    au_rating_min: "Valoración, como mínimo",
    au_rating_max: "Valoración, como máximo",
    au_created_from: "Creado desde",
    au_created_to: "Creado hasta",
    au_count: "{count} contactos coinciden ahora (los dados de baja nunca).",
    au_counting: "Contando…",
    au_sample: "Por ejemplo:",
    au_make_list: "Crear una lista con este segmento",
    au_made_list: "Lista “{name}” creada con {count} contactos.",
    au_new_list_name: "Nombre de la nueva lista",
  },
});

const FIELD_OPS = ["equals", "contains", "is_set", "not_set"];

function multiSelect(options, chosen, id) {
  const element = h(
    "select",
    { attrs: { multiple: true, id, size: Math.min(Math.max(options.length, 2), 5) } },
    ...options.map(([value, label]) =>
      h("option", { attrs: { value }, text: label, props: { selected: chosen.includes(Number(value)) } }),
    ),
  );
  return element;
}

function chosenIds(selectElement) {
  return [...selectElement.selectedOptions].map((option) => Number(option.value));
}

function numberOrNull(element) {
  const text = element.value.trim();
  if (!text) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

function stamp() {
  const now = new Date();
  const two = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())} ${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`;
}

/** The segments panel; `onListMade()` is called after a list was created from one. */
export function segmentsPanel({ onListMade }) {
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const editor = h("div", { className: "ap-editor au-editor", attrs: { id: "au-segment-editor" }, props: { hidden: true } });
  const rows = h("div", { className: "ap-scroll" }, h("p", { className: "muted", text: t("loading") }));
  const newButton = h("button", {
    className: "primary",
    attrs: { type: "button", id: "au-segment-new" },
    text: t("au_segment_new"),
    on: { click: () => openEditor(null) },
  });
  const element = h(
    "section",
    { className: "ap-part au-panel", attrs: { "aria-labelledby": "au-segments-title", id: "au-segments" } },
    h("h2", { className: "ap-subheading", attrs: { id: "au-segments-title" }, text: t("au_segments") }),
    h("div", { className: "ap-toolbar" }, newButton),
    error,
    editor,
    rows,
  );
  let tags = [];
  let queues = [];

  async function reload() {
    const [segments, tagPage, queuePage] = await Promise.all([
      api("/api/segments", { query: { limit: 200 } }),
      api("/api/tags", { query: { limit: 200 } }),
      api("/api/queues", { query: { limit: 200 } }),
    ]);
    tags = tagPage.items;
    queues = queuePage.items ?? queuePage;
    if (!segments.items.length) {
      replace(rows, h("p", { className: "muted", text: t("au_segments_empty") }));
      return;
    }
    replace(
      rows,
      table(
        [
          ["au_segment_name", (segment) => h("span", { className: "ap-break", text: segment.name })],
          [
            "",
            (segment) =>
              h(
                "span",
                { className: "ap-actions" },
                h("button", {
                  attrs: { type: "button", "data-action": "edit", "aria-label": `${t("edit")}: ${segment.name}` },
                  text: t("edit"),
                  on: { click: () => openEditor(segment) },
                }),
                h("button", {
                  className: "ap-danger",
                  attrs: { type: "button", "data-action": "delete", "aria-label": `${t("delete")}: ${segment.name}` },
                  text: t("delete"),
                  on: { click: () => remove(segment) },
                }),
              ),
          ],
        ],
        segments.items,
        { className: "admin-table ap-table", rowAttrs: (segment) => ({ "data-segment-id": segment.id }) },
      ),
    );
  }

  async function remove(segment) {
    error.textContent = "";
    if (!(await confirmDialog(t("au_segment_delete_confirm", { name: segment.name }), { confirmKey: "delete" }))) return;
    try {
      await api(`/api/segments/${segment.id}`, { method: "DELETE" });
      toast(t("au_segment_deleted"));
      closeEditor();
      await reload();
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
    }
  }

  function closeEditor() {
    editor.hidden = true;
    editor.replaceChildren();
  }

  function openEditor(segment) {
    const filters = segment?.filters ?? {};
    const tagOptions = tags.map((tag) => [String(tag.id), tag.name]);
    const name = input({ type: "text", maxlength: 120, required: true, autocomplete: "off", id: "au-segment-name" }, segment?.name ?? "");
    const anyOf = multiSelect(tagOptions, filters.tags?.any_of ?? [], "au-tags-any");
    const allOf = multiSelect(tagOptions, filters.tags?.all_of ?? [], "au-tags-all");
    const noneOf = multiSelect(tagOptions, filters.tags?.none_of ?? [], "au-tags-none");
    const fieldRows = h("div", { className: "au-field-rows", attrs: { id: "au-field-rows" } });
    const inboundOp = select(
      [["", t("au_inbound_any")], ["within", t("au_inbound_within")], ["before", t("au_inbound_before")], ["never", t("au_inbound_never")]],
      filters.last_inbound?.op ?? "",
      { id: "au-inbound-op" },
    );
    const inboundDays = input({ type: "number", min: 1, max: 3650, id: "au-inbound-days" }, filters.last_inbound?.days ?? "");
    const ticketsMin = input({ type: "number", min: 0, id: "au-tickets-min" }, filters.tickets_min ?? "");
    const ticketsMax = input({ type: "number", min: 0, id: "au-tickets-max" }, filters.tickets_max ?? "");
    const queueSelect = multiSelect(queues.map((q) => [String(q.id), q.name]), filters.queue_ids ?? [], "au-queues");
    const ratingOf = select([["last", t("au_rating_last")], ["average", t("au_rating_average")]], filters.rating?.of ?? "last", { id: "au-rating-of" });
    const ratingMin = input({ type: "number", min: 1, max: 5, step: 0.5, id: "au-rating-min" }, filters.rating?.min ?? "");
    const ratingMax = input({ type: "number", min: 1, max: 5, step: 0.5, id: "au-rating-max" }, filters.rating?.max ?? "");
    const createdFrom = input({ type: "date", id: "au-created-from" }, filters.created_from ?? "");
    const createdTo = input({ type: "date", id: "au-created-to" }, filters.created_to ?? "");
    const count = h("p", { className: "au-count", attrs: { id: "au-count", "aria-live": "polite" } });
    const sample = h("ul", { className: "au-sample", attrs: { id: "au-sample" } });
    const listName = input({ type: "text", maxlength: 120, autocomplete: "off", id: "au-new-list-name" }, `${segment?.name ?? t("au_segments")} ${stamp()}`);

    function fieldRow(condition = { key: "", op: "equals", value: "" }) {
      const key = input({ type: "text", maxlength: 60, "aria-label": t("au_field_key"), placeholder: t("au_field_key") }, condition.key);
      const op = select(FIELD_OPS.map((o) => [o, t(`au_op_${o}`)]), condition.op, { "aria-label": t("au_field_op") });
      const value = input({ type: "text", maxlength: 1000, "aria-label": t("au_field_value"), placeholder: t("au_field_value") }, condition.value ?? "");
      const row = h("div", { className: "au-field-row" }, key, op, value);
      const syncValue = () => value.classList.toggle("ap-hidden", op.value === "is_set" || op.value === "not_set");
      op.addEventListener("change", syncValue);
      syncValue();
      row.append(
        h("button", {
          attrs: { type: "button", "aria-label": t("au_field_remove") },
          text: "×",
          on: {
            click: () => {
              row.remove();
              preview();
            },
          },
        }),
      );
      row.read = () => ({ key: key.value.trim(), op: op.value, value: value.value });
      fieldRows.append(row);
    }
    for (const condition of filters.custom_fields ?? []) fieldRow(condition);

    /** The filters as the form says; `complete` drops half-written parts (for the preview). */
    function collect({ complete = false } = {}) {
      const out = {};
      const tagFilter = { any_of: chosenIds(anyOf), all_of: chosenIds(allOf), none_of: chosenIds(noneOf) };
      if (tagFilter.any_of.length || tagFilter.all_of.length || tagFilter.none_of.length) out.tags = tagFilter;
      const conditions = [...fieldRows.children].map((row) => row.read());
      const usable = conditions.filter((c) => !complete || (c.key && (c.op === "is_set" || c.op === "not_set" || c.value !== "")));
      if (usable.length) {
        out.custom_fields = usable.map((c) => (c.op === "is_set" || c.op === "not_set" ? { key: c.key, op: c.op } : c));
      }
      if (inboundOp.value) {
        const days = numberOrNull(inboundDays);
        if (inboundOp.value === "never") out.last_inbound = { op: "never" };
        else if (!complete || days) out.last_inbound = { op: inboundOp.value, days };
      }
      const min = numberOrNull(ticketsMin);
      const max = numberOrNull(ticketsMax);
      if (min !== null) out.tickets_min = min;
      if (max !== null) out.tickets_max = max;
      const queueIds = chosenIds(queueSelect);
      if (queueIds.length) out.queue_ids = queueIds;
      const rMin = numberOrNull(ratingMin);
      const rMax = numberOrNull(ratingMax);
      if (rMin !== null || rMax !== null) out.rating = { of: ratingOf.value, min: rMin, max: rMax };
      if (createdFrom.value) out.created_from = createdFrom.value;
      if (createdTo.value) out.created_to = createdTo.value;
      return out;
    }

    let asked = 0;
    const preview = debounce(async () => {
      const mine = ++asked;
      count.textContent = t("au_counting");
      try {
        const result = await api("/api/segments/preview", { method: "POST", body: collect({ complete: true }) });
        if (mine !== asked) return;
        count.textContent = t("au_count", { count: result.count });
        count.dataset.count = String(result.count);
        replace(
          sample,
          result.sample.length ? h("li", { className: "muted", text: t("au_sample") }) : null,
          ...result.sample.map((c) => h("li", { className: "ap-break", text: `${c.name || c.number} · ${c.number}` })),
        );
      } catch (failure) {
        if (mine === asked) count.textContent = failure.message || t("error_generic");
      }
    }, 300);

    const form = h(
      "form",
      { className: "ap-form", attrs: { id: "au-segment-form", novalidate: true, "aria-labelledby": "au-segment-form-title" } },
      h("h3", { className: "ap-title", attrs: { id: "au-segment-form-title" }, text: t(segment ? "au_segment_edit" : "au_segment_new") }),
      field("name", name, { labelKey: "au_segment_name" }),
      count,
      sample,
      h(
        "fieldset",
        { className: "ap-fieldset" },
        h("legend", { text: t("au_tags") }),
        h("div", { className: "ap-grid" }, field("tags.any_of", anyOf, { labelKey: "au_tags_any" }), field("tags.all_of", allOf, { labelKey: "au_tags_all" }), field("tags.none_of", noneOf, { labelKey: "au_tags_none" })),
      ),
      h(
        "fieldset",
        { className: "ap-fieldset" },
        h("legend", { text: t("au_fields") }),
        fieldRows,
        h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "custom_fields" } }),
        h("button", {
          attrs: { type: "button", id: "au-field-add" },
          text: t("au_field_add"),
          on: {
            click: () => {
              fieldRow();
              fieldRows.lastElementChild?.querySelector("input")?.focus();
            },
          },
        }),
      ),
      h(
        "fieldset",
        { className: "ap-fieldset" },
        h("legend", { text: t("au_activity") }),
        h(
          "div",
          { className: "ap-grid" },
          field("last_inbound", inboundOp, { labelKey: "au_inbound" }),
          field("last_inbound.days", inboundDays, { labelKey: "au_days" }),
          field("tickets_min", ticketsMin, { labelKey: "au_tickets_min" }),
          field("tickets_max", ticketsMax, { labelKey: "au_tickets_max" }),
          field("queue_ids", queueSelect, { labelKey: "au_queues" }),
          field("created_from", createdFrom, { labelKey: "au_created_from" }),
          field("created_to", createdTo, { labelKey: "au_created_to" }),
        ),
      ),
      h(
        "fieldset",
        { className: "ap-fieldset" },
        h("legend", { text: t("au_rating") }),
        h(
          "div",
          { className: "ap-grid" },
          field("rating.of", ratingOf, { labelKey: "au_rating_of" }),
          field("rating.min", ratingMin, { labelKey: "au_rating_min" }),
          field("rating.max", ratingMax, { labelKey: "au_rating_max" }),
        ),
      ),
      h("p", { className: "form-error", attrs: { role: "alert" } }),
      h(
        "div",
        { className: "ap-buttons" },
        h("button", { className: "primary", attrs: { type: "submit", id: "au-segment-save" }, text: t("save") }),
        h("button", {
          attrs: { type: "button" },
          text: t("cancel"),
          on: {
            click: () => {
              closeEditor();
              newButton.focus();
            },
          },
        }),
      ),
      h(
        "div",
        { className: "au-make-list" },
        field("list_name", listName, { labelKey: "au_new_list_name" }),
        h("button", { attrs: { type: "button", id: "au-make-list" }, text: t("au_make_list"), on: { click: () => makeList() } }),
      ),
    );
    form.addEventListener("input", preview);
    form.addEventListener("change", preview);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = { name: name.value.trim(), filters: collect() };
      try {
        const saved = segment
          ? await api(`/api/segments/${segment.id}`, { method: "PATCH", body })
          : await api("/api/segments", { method: "POST", body });
        segment = saved;
        toast(t("au_segment_saved"));
        await reload();
        form.querySelector("#au-segment-form-title").textContent = t("au_segment_edit");
      } catch (failure) {
        showErrors(form, failure);
      }
    });

    async function makeList() {
      clearErrors(form);
      try {
        const list = await api("/api/contact-lists", { method: "POST", body: { name: listName.value.trim() } });
        const source = { filters: collect() }; // what the count shows, saved or not
        const result = await api(`/api/contact-lists/${list.id}/members/from-segment`, { method: "POST", body: source });
        toast(t("au_made_list", { name: list.name, count: result.members_count }));
        listName.value = `${segment?.name ?? t("au_segments")} ${stamp()}`;
        await onListMade();
      } catch (failure) {
        showErrors(form, failure);
      }
    }

    replace(editor, form);
    editor.hidden = false;
    name.focus();
    preview();
  }

  return { element, reload };
}
