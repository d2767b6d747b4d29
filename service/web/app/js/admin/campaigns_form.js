// The campaign editor: connection, audience (a list or a segment), up to five variants,
// the optional confirmation question and file, the schedule, the daily window and the pace.
// A running or paused campaign keeps its message and audience: only its name, pace and
// window stay editable (the API says 409 to anything else).
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, getLang, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, field, input, select, showErrors } from "./forms.js";

extend({
  en: {
    cp_new: "New campaign",
    cp_edit_title: "Edit campaign",
    cp_name: "Name",
    cp_connection: "Connection",
    cp_audience: "Audience",
    cp_lists: "Contact lists",
    cp_segments: "Segments",
    cp_choose: "Choose…",
    cp_message: "Message",
    cp_variant: "Variant {n}",
    cp_add_variant: "Add a variant",
    cp_remove_variant: "Remove variant {n}",
    cp_variables_hint: "One variant is picked at random per contact. Variables: {{name}}, {{first_name}}, {{number}}, {{greeting}}, {{custom.field}}.",
    cp_confirmation: "Confirmation question (optional)",
    cp_confirmation_hint: "If set, this goes first; the message follows when the contact replies.",
    cp_file: "File (optional)",
    cp_current_file: "Current file: {name}",
    cp_remove_file: "Remove the file",
    cp_schedule: "Schedule",
    cp_scheduled_at: "Start at (empty: when started)",
    cp_timezone: "Time zone",
    cp_window: "Daily window",
    cp_days: "Days of the window",
    cp_window_start: "From",
    cp_window_end: "Until",
    cp_window_hint: "Empty: any time. Days unticked: every day.",
    cp_windows_sends: "Sends {days}, {hours} ({zone}).",
    cp_windows_every_day: "every day",
    cp_windows_on: "on {days}",
    cp_windows_any_hour: "at any hour",
    cp_windows_hours: "from {start} to {end}",
    cp_windows_overnight: "from {start} to {end} of the next day",
    cp_windows_incomplete: "Set both “From” and “Until”, or neither.",
    cp_pace: "Pace",
    cp_min_delay: "Min. delay (s)",
    cp_max_delay: "Max. delay (s)",
    cp_long_pause_every: "Long pause every N sends",
    cp_long_pause: "Long pause (s)",
    cp_hourly_cap: "Max. per hour on the connection",
    cp_created: "Campaign created (draft).",
    cp_locked_hint: "Running: only the name, the pace and the window can change.",
  },
  "pt-BR": {
    cp_new: "Nova campanha",
    cp_edit_title: "Editar campanha",
    cp_name: "Nome",
    cp_connection: "Conexão",
    cp_audience: "Público",
    cp_lists: "Listas de contatos",
    cp_segments: "Segmentos",
    cp_choose: "Escolha…",
    cp_message: "Mensagem",
    cp_variant: "Variação {n}",
    cp_add_variant: "Adicionar variação",
    cp_remove_variant: "Remover variação {n}",
    cp_variables_hint: "Uma variação é sorteada por contato. Variáveis: {{name}}, {{first_name}}, {{number}}, {{greeting}}, {{custom.campo}}.",
    cp_confirmation: "Pergunta de confirmação (opcional)",
    cp_confirmation_hint: "Se preenchida, vai antes; a mensagem segue quando o contato responder.",
    cp_file: "Arquivo (opcional)",
    cp_current_file: "Arquivo atual: {name}",
    cp_remove_file: "Remover o arquivo",
    cp_schedule: "Agendamento",
    cp_scheduled_at: "Iniciar em (vazio: ao iniciar)",
    cp_timezone: "Fuso horário",
    cp_window: "Janela diária",
    cp_days: "Dias da janela",
    cp_window_start: "Das",
    cp_window_end: "Até",
    cp_window_hint: "Vazio: qualquer hora. Nenhum dia marcado: todos os dias.",
    cp_windows_sends: "Envia {days}, {hours} ({zone}).",
    cp_windows_every_day: "todos os dias",
    cp_windows_on: "em: {days}",
    cp_windows_any_hour: "a qualquer hora",
    cp_windows_hours: "das {start} às {end}",
    cp_windows_overnight: "das {start} às {end} do dia seguinte",
    cp_windows_incomplete: "Preencha “Das” e “Até”, ou nenhum dos dois.",
    cp_pace: "Ritmo",
    cp_min_delay: "Intervalo mín. (s)",
    cp_max_delay: "Intervalo máx. (s)",
    cp_long_pause_every: "Pausa longa a cada N envios",
    cp_long_pause: "Pausa longa (s)",
    cp_hourly_cap: "Máx. por hora na conexão",
    cp_created: "Campanha criada (rascunho).",
    cp_locked_hint: "Em andamento: só o nome, o ritmo e a janela podem mudar.",
  },
  es: {
    cp_new: "Nueva campaña",
    cp_edit_title: "Editar campaña",
    cp_name: "Nombre",
    cp_connection: "Conexión",
    cp_audience: "Público",
    cp_lists: "Listas de contactos",
    cp_segments: "Segmentos",
    cp_choose: "Elige…",
    cp_message: "Mensaje",
    cp_variant: "Variante {n}",
    cp_add_variant: "Añadir variante",
    cp_remove_variant: "Quitar variante {n}",
    cp_variables_hint: "Se sortea una variante por contacto. Variables: {{name}}, {{first_name}}, {{number}}, {{greeting}}, {{custom.campo}}.",
    cp_confirmation: "Pregunta de confirmación (opcional)",
    cp_confirmation_hint: "Si se completa, va primero; el mensaje sigue cuando el contacto responde.",
    cp_file: "Archivo (opcional)",
    cp_current_file: "Archivo actual: {name}",
    cp_remove_file: "Quitar el archivo",
    cp_schedule: "Programación",
    cp_scheduled_at: "Iniciar el (vacío: al iniciar)",
    cp_timezone: "Zona horaria",
    cp_window: "Ventana diaria",
    cp_days: "Días de la ventana",
    cp_window_start: "Desde",
    cp_window_end: "Hasta",
    cp_window_hint: "Vacío: a cualquier hora. Ningún día marcado: todos los días.",
    cp_windows_sends: "Envía {days}, {hours} ({zone}).",
    cp_windows_every_day: "todos los días",
    cp_windows_on: "los días: {days}",
    cp_windows_any_hour: "a cualquier hora",
    cp_windows_hours: "desde las {start} hasta las {end}",
    cp_windows_overnight: "desde las {start} hasta las {end} del día siguiente",
    cp_windows_incomplete: "Completa “Desde” y “Hasta”, o ninguno de los dos.",
    cp_pace: "Ritmo",
    cp_min_delay: "Intervalo mín. (s)",
    cp_max_delay: "Intervalo máx. (s)",
    cp_long_pause_every: "Pausa larga cada N envíos",
    cp_long_pause: "Pausa larga (s)",
    cp_hourly_cap: "Máx. por hora en la conexión",
    cp_created: "Campaña creada (borrador).",
    cp_locked_hint: "En curso: solo cambian el nombre, el ritmo y la ventana.",
  },
});

const MAX_VARIANTS = 5;
const LOCKED_STATUSES = ["running", "paused"];
const PACING_FIELDS = [
  "name",
  "timezone",
  "window_start",
  "window_end",
  "window_weekdays",
  "min_delay",
  "max_delay",
  "long_pause_every",
  "long_pause",
  "hourly_cap",
];

/** Monday-first weekday names in the page's language (the API's 0 is Monday). */
function weekdayNames(style = "short") {
  const format = new Intl.DateTimeFormat(getLang(), { weekday: style });
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, day) => format.format(new Date(Date.UTC(2024, 0, 1 + day, 12))));
}

/** The sending windows in words, as the server's pacing reads them: weekdays hold with
 * or without hours; no hours is the whole day; an end before the start runs overnight. */
export function windowsInWords({ start, end, weekdays, zone }) {
  if (Boolean(start) !== Boolean(end)) return t("cp_windows_incomplete");
  const chosen = [...new Set(weekdays)].sort((a, b) => a - b);
  let days = t("cp_windows_every_day");
  if (chosen.length && chosen.length < 7) {
    const names = weekdayNames("long");
    const list = new Intl.ListFormat(getLang(), { type: "conjunction" }).format(chosen.map((day) => names[day]));
    days = t("cp_windows_on", { days: list });
  }
  let hours = t("cp_windows_any_hour");
  if (start && end) hours = t(end > start ? "cp_windows_hours" : "cp_windows_overnight", { start, end });
  return t("cp_windows_sends", { days, hours, zone: zone || "UTC" });
}

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** "2030-01-01T12:00:00Z" → the datetime-local value in this browser's time. */
function localInputValue(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function numberOrNull(element) {
  const text = element.value.trim();
  return text === "" ? null : Number(text);
}

async function options() {
  const [connections, lists, segments] = await Promise.all([
    api("/api/connections", { query: { limit: 200 } }),
    api("/api/contact-lists", { query: { limit: 200 } }),
    api("/api/segments", { query: { limit: 200 } }),
  ]);
  return { connections: connections.items, lists: lists.items, segments: segments.items };
}

/**
 * Fill `container` with the editor of `campaign` (null: a new one). `onDone(campaign)` is
 * called after a save, `onCancel()` when the user gives up.
 */
export async function openCampaignEditor(container, campaign, { onDone, onCancel }) {
  const choices = await options();
  const locked = Boolean(campaign && LOCKED_STATUSES.includes(campaign.status));

  const name = input({ type: "text", maxlength: 120, required: true, autocomplete: "off", id: "cp-name" }, campaign?.name ?? "");
  const connection = select(
    [["", t("cp_choose")], ...choices.connections.map((c) => [String(c.id), c.name])],
    campaign?.connection_id ?? (choices.connections.length === 1 ? choices.connections[0].id : ""),
    { id: "cp-connection" },
  );
  const audience = h(
    "select",
    { attrs: { id: "cp-audience" } },
    h("option", { attrs: { value: "" }, text: t("cp_choose") }),
    h("optgroup", { attrs: { label: t("cp_lists") } }, ...choices.lists.map((l) => h("option", { attrs: { value: `list:${l.id}` }, text: l.name }))),
    h("optgroup", { attrs: { label: t("cp_segments") } }, ...choices.segments.map((s) => h("option", { attrs: { value: `segment:${s.id}` }, text: s.name }))),
  );
  if (campaign?.contact_list_id) audience.value = `list:${campaign.contact_list_id}`;
  else if (campaign?.segment_id) audience.value = `segment:${campaign.segment_id}`;
  const audienceField = field("audience", audience, { labelKey: "cp_audience" });
  for (const name of ["contact_list_id", "segment_id"]) {
    audienceField.append(h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: name } }));
  }

  // Variants: one textarea each, 1 to 5.
  const variantList = h("div", { className: "cp-variants" });
  const variantsError = h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "variants" } });
  const addVariant = h("button", { attrs: { type: "button", id: "cp-add-variant" }, text: t("cp_add_variant"), on: { click: () => addVariantBox("", true) } });
  const variantBoxes = () => [...variantList.querySelectorAll("textarea")];
  function renumber() {
    const boxes = variantBoxes();
    boxes.forEach((box, index) => {
      const wrapper = box.closest(".cp-variant");
      wrapper.querySelector("label").textContent = t("cp_variant", { n: index + 1 });
      wrapper.querySelector(".field-error").dataset.errorFor = `variants.${index}`;
      const remove = wrapper.querySelector("button");
      remove.hidden = boxes.length === 1;
      remove.setAttribute("aria-label", t("cp_remove_variant", { n: index + 1 }));
    });
    addVariant.disabled = boxes.length >= MAX_VARIANTS;
  }
  function addVariantBox(text, focus = false) {
    if (variantBoxes().length >= MAX_VARIANTS) return;
    const box = h("textarea", { attrs: { rows: 3, maxlength: 4096, "data-field": "variants" } });
    box.value = text;
    box.id = `cp-variant-${Math.random().toString(36).slice(2)}`;
    const wrapper = h(
      "div",
      { className: "field cp-variant" },
      h("label", { attrs: { for: box.id } }),
      box,
      h("button", { className: "ap-danger cp-remove-variant", attrs: { type: "button" }, text: "×", on: { click: () => { wrapper.remove(); renumber(); } } }),
      h("p", { className: "field-error", attrs: { role: "alert" } }),
    );
    variantList.append(wrapper);
    renumber();
    if (focus) box.focus();
  }
  for (const text of campaign?.variants?.length ? campaign.variants : [""]) addVariantBox(text);

  const confirmation = h("textarea", { attrs: { rows: 2, maxlength: 4096, id: "cp-confirmation" } });
  confirmation.value = campaign?.confirmation_text ?? "";
  const file = input({ type: "file", id: "cp-file", accept: "image/*,video/*,audio/*,application/pdf" });
  let removeFile = false;
  const currentFile = campaign?.media
    ? h(
        "p",
        { className: "cp-current-file" },
        h("span", { text: t("cp_current_file", { name: campaign.media.name ?? "—" }) }),
        " ",
        h("button", {
          attrs: { type: "button", id: "cp-remove-file" },
          text: t("cp_remove_file"),
          on: {
            click: (event) => {
              removeFile = true;
              event.currentTarget.closest("p").remove();
            },
          },
        }),
      )
    : null;

  const scheduledAt = input({ type: "datetime-local", id: "cp-scheduled-at" }, localInputValue(campaign?.scheduled_at));
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const zoneList = h("datalist", { attrs: { id: "cp-zones" } }, ...zones.map((zone) => h("option", { attrs: { value: zone } })));
  const timezone = input({ type: "text", list: "cp-zones", id: "cp-timezone", autocomplete: "off" }, campaign?.timezone ?? browserZone());
  const windowStart = input({ type: "time", id: "cp-window-start" }, campaign?.window_start ?? "");
  const windowEnd = input({ type: "time", id: "cp-window-end" }, campaign?.window_end ?? "");
  const chosenDays = new Set(campaign?.window_weekdays ?? []);
  const days = weekdayNames().map((label, day) => {
    const box = input({ type: "checkbox", value: String(day), id: `cp-day-${day}` }, chosenDays.has(day));
    return h("label", { className: "ap-check", attrs: { for: box.id } }, box, h("span", { text: label }));
  });
  const daysField = h(
    "fieldset",
    { className: "ap-fieldset", attrs: { "data-field": "window_weekdays" } },
    h("legend", { text: t("cp_days") }),
    h("div", { className: "ap-checks" }, ...days),
    h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "window_weekdays" } }),
  );
  const windowsSummary = h("p", { className: "cp-windows", attrs: { id: "cp-windows", "aria-live": "polite" } });
  const showWindows = () => {
    windowsSummary.textContent = windowsInWords({
      start: windowStart.value,
      end: windowEnd.value,
      weekdays: days.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => Number(box.value)),
      zone: timezone.value.trim(),
    });
  };
  for (const control of [windowStart, windowEnd, timezone, ...days.map((label) => label.querySelector("input"))]) {
    control.addEventListener("input", showWindows);
    control.addEventListener("change", showWindows);
  }
  showWindows();
  const number = (id, value, attrs = {}) => input({ type: "number", min: 0, step: "any", id, ...attrs }, value ?? "");
  const minDelay = number("cp-min-delay", campaign?.min_delay ?? 20);
  const maxDelay = number("cp-max-delay", campaign?.max_delay ?? 60);
  const longEvery = number("cp-long-every", campaign?.long_pause_every ?? 0, { step: 1 });
  const longPause = number("cp-long-pause", campaign?.long_pause ?? 0);
  const hourlyCap = number("cp-hourly-cap", campaign?.hourly_cap ?? "", { min: 1, step: 1 });

  const messagePart = h(
    "fieldset",
    { className: "ap-fieldset" },
    h("legend", { text: t("cp_message") }),
    h("p", { className: "field-hint muted", text: t("cp_variables_hint") }),
    variantList,
    variantsError,
    addVariant,
    field("confirmation_text", confirmation, { labelKey: "cp_confirmation", hint: "cp_confirmation_hint" }),
    currentFile,
    field("file", file, { labelKey: "cp_file" }),
  );
  const form = h(
    "form",
    { className: "ap-form cp-form", attrs: { id: "campaign-form", novalidate: true, "aria-labelledby": "cp-form-title" } },
    h("h2", { className: "ap-title", attrs: { id: "cp-form-title" }, text: t(campaign ? "cp_edit_title" : "cp_new") }),
    locked ? h("p", { className: "muted", text: t("cp_locked_hint") }) : null,
    h(
      "div",
      { className: "ap-grid" },
      field("name", name, { labelKey: "cp_name" }),
      field("connection_id", connection, { labelKey: "cp_connection" }),
      audienceField,
    ),
    messagePart,
    h(
      "fieldset",
      { className: "ap-fieldset" },
      h("legend", { text: `${t("cp_schedule")} · ${t("cp_window")}` }),
      h(
        "div",
        { className: "ap-grid" },
        field("scheduled_at", scheduledAt, { labelKey: "cp_scheduled_at" }),
        field("timezone", timezone, { labelKey: "cp_timezone" }),
        field("window_start", windowStart, { labelKey: "cp_window_start" }),
        field("window_end", windowEnd, { labelKey: "cp_window_end" }),
      ),
      zoneList,
      daysField,
      h("p", { className: "field-hint muted", text: t("cp_window_hint") }),
      windowsSummary,
    ),
    h(
      "fieldset",
      { className: "ap-fieldset" },
      h("legend", { text: t("cp_pace") }),
      h(
        "div",
        { className: "ap-grid" },
        field("min_delay", minDelay, { labelKey: "cp_min_delay" }),
        field("max_delay", maxDelay, { labelKey: "cp_max_delay" }),
        field("long_pause_every", longEvery, { labelKey: "cp_long_pause_every" }),
        field("long_pause", longPause, { labelKey: "cp_long_pause" }),
        field("hourly_cap", hourlyCap, { labelKey: "cp_hourly_cap" }),
      ),
    ),
    h("p", { className: "form-error", attrs: { role: "alert" } }),
    h(
      "div",
      { className: "ap-buttons" },
      h("button", { className: "primary", attrs: { type: "submit", id: "cp-save" }, text: t("save") }),
      h("button", { attrs: { type: "button", id: "cp-cancel-edit" }, text: t("cancel"), on: { click: () => onCancel() } }),
    ),
  );
  if (locked) {
    for (const control of [connection, audience, confirmation, file, scheduledAt, addVariant, ...variantBoxes()]) control.disabled = true;
    for (const button of variantList.querySelectorAll("button")) button.disabled = true;
    currentFile?.querySelector("button")?.setAttribute("disabled", "");
  }

  function body() {
    const [kind, id] = audience.value.split(":");
    const everything = {
      name: name.value.trim(),
      connection_id: connection.value ? Number(connection.value) : null,
      contact_list_id: kind === "list" ? Number(id) : null,
      segment_id: kind === "segment" ? Number(id) : null,
      variants: variantBoxes().map((box) => box.value),
      confirmation_text: confirmation.value.trim() || null,
      scheduled_at: scheduledAt.value ? new Date(scheduledAt.value).toISOString() : null,
      timezone: timezone.value.trim(),
      window_start: windowStart.value || null,
      window_end: windowEnd.value || null,
      window_weekdays: days.map((label) => label.querySelector("input")).filter((box) => box.checked).map((box) => Number(box.value)),
      min_delay: numberOrNull(minDelay),
      max_delay: numberOrNull(maxDelay),
      long_pause_every: numberOrNull(longEvery),
      long_pause: numberOrNull(longPause),
      hourly_cap: numberOrNull(hourlyCap),
    };
    if (!locked) return everything;
    return Object.fromEntries(PACING_FIELDS.map((key) => [key, everything[key]]));
  }

  let existing = campaign;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      let saved = existing
        ? await api(`/api/campaigns/${existing.id}`, { method: "PATCH", body: body() })
        : await api("/api/campaigns", { method: "POST", body: body() });
      existing = saved; // a failed upload next must not create the campaign twice
      if (!locked && file.files.length) {
        const upload = new FormData();
        upload.append("file", file.files[0]);
        saved = await api(`/api/campaigns/${saved.id}/media`, { method: "POST", body: upload });
      } else if (!locked && removeFile) {
        saved = await api(`/api/campaigns/${saved.id}/media`, { method: "DELETE" });
      }
      toast(t(campaign ? "saved" : "cp_created"));
      onDone(saved);
    } catch (failure) {
      showErrors(form, failure);
    }
  });
  replace(container, form);
  name.focus();
}
