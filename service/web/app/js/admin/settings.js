// Settings: the company's language, time zone, timers, rating, keywords and the bot's texts
// (GET/PATCH /api/settings). A bot text left empty uses the default of the company's
// language, shown as the field's placeholder (GET /api/settings/bot-texts). The business
// hours are edited with the queues and are left as they are here.
import { allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, field, input, select, showErrors } from "./forms.js";
import { BOT_LANGUAGES, TEXT_LABELS, VARIABLE_LABELS } from "./settings_texts.js";

extend({
  en: {
    section_settings: "Settings",
    settings_general: "General",
    settings_language: "Language of the bot",
    settings_timezone: "Time zone",
    settings_timezone_hint: "An IANA name such as America/Sao_Paulo; reports count days in it.",
    settings_timers: "Timers",
    settings_inactivity: "Close inactive tickets after (minutes)",
    settings_inactivity_hint: "Empty: never. At least 5.",
    settings_unqueued: "Give up on customers who pick no queue after (minutes)",
    settings_unqueued_hint: "Empty: never. At least 5.",
    settings_triage_misses: "Wrong answers before handing over to an agent",
    settings_fallback_queue: "Queue for customers the bot cannot place",
    settings_no_fallback: "No queue (admins see them)",
    settings_out_of_hours: "Out of hours, the ticket",
    settings_ooh_pending: "waits for an agent",
    settings_ooh_closed: "is closed",
    settings_rating: "Rating",
    settings_csat_enabled: "Ask the customer for a 1–5 rating after closing",
    settings_csat_timeout: "Wait for the rating for (minutes)",
    settings_keywords: "Keywords",
    settings_keywords_hint: "Separated by commas.",
    settings_human_keywords: "Ask for an agent",
    settings_optout_keywords: "Stop campaign messages",
    settings_optin_keywords: "Receive campaign messages again",
    settings_bot_texts: "Bot texts",
    settings_bot_texts_intro: "Empty fields use the default text in {language}, shown in grey.",
    settings_texts_language: "Texts in",
    settings_texts_language_hint: "Each contact is answered in their language, else in the bot's. Switching keeps what you typed.",
    settings_variables: "Variables you can use:",
    settings_saved: "Settings saved.",
  },
  "pt-BR": {
    section_settings: "Configurações",
    settings_general: "Geral",
    settings_language: "Idioma do bot",
    settings_timezone: "Fuso horário",
    settings_timezone_hint: "Um nome IANA como America/Sao_Paulo; os relatórios contam os dias nele.",
    settings_timers: "Prazos",
    settings_inactivity: "Encerrar tickets inativos após (minutos)",
    settings_inactivity_hint: "Vazio: nunca. No mínimo 5.",
    settings_unqueued: "Desistir de clientes que não escolhem fila após (minutos)",
    settings_unqueued_hint: "Vazio: nunca. No mínimo 5.",
    settings_triage_misses: "Respostas erradas antes de passar para um atendente",
    settings_fallback_queue: "Fila para clientes que o bot não consegue encaminhar",
    settings_no_fallback: "Nenhuma fila (os administradores veem)",
    settings_out_of_hours: "Fora do horário, o ticket",
    settings_ooh_pending: "aguarda um atendente",
    settings_ooh_closed: "é encerrado",
    settings_rating: "Avaliação",
    settings_csat_enabled: "Pedir ao cliente uma nota de 1 a 5 após encerrar",
    settings_csat_timeout: "Aguardar a nota por (minutos)",
    settings_keywords: "Palavras-chave",
    settings_keywords_hint: "Separadas por vírgulas.",
    settings_human_keywords: "Pedir um atendente",
    settings_optout_keywords: "Parar mensagens de campanha",
    settings_optin_keywords: "Voltar a receber mensagens de campanha",
    settings_bot_texts: "Textos do bot",
    settings_bot_texts_intro: "Campos vazios usam o texto padrão em {language}, mostrado em cinza.",
    settings_texts_language: "Textos em",
    settings_texts_language_hint: "Cada contato é atendido no idioma dele, senão no do bot. Trocar mantém o que você digitou.",
    settings_variables: "Variáveis que você pode usar:",
    settings_saved: "Configurações salvas.",
  },
  es: {
    section_settings: "Configuración",
    settings_general: "General",
    settings_language: "Idioma del bot",
    settings_timezone: "Zona horaria",
    settings_timezone_hint: "Un nombre IANA como America/Sao_Paulo; los informes cuentan los días en ella.",
    settings_timers: "Plazos",
    settings_inactivity: "Cerrar tickets inactivos después de (minutos)",
    settings_inactivity_hint: "Vacío: nunca. Al menos 5.",
    settings_unqueued: "Abandonar a clientes que no eligen cola después de (minutos)",
    settings_unqueued_hint: "Vacío: nunca. Al menos 5.",
    settings_triage_misses: "Respuestas erróneas antes de pasar a un agente",
    settings_fallback_queue: "Cola para clientes que el bot no puede ubicar",
    settings_no_fallback: "Ninguna cola (los administradores los ven)",
    settings_out_of_hours: "Fuera de horario, el ticket",
    settings_ooh_pending: "espera a un agente",
    settings_ooh_closed: "se cierra",
    settings_rating: "Evaluación",
    settings_csat_enabled: "Pedir al cliente una nota de 1 a 5 tras cerrar",
    settings_csat_timeout: "Esperar la nota durante (minutos)",
    settings_keywords: "Palabras clave",
    settings_keywords_hint: "Separadas por comas.",
    settings_human_keywords: "Pedir un agente",
    settings_optout_keywords: "Dejar de recibir campañas",
    settings_optin_keywords: "Volver a recibir campañas",
    settings_bot_texts: "Textos del bot",
    settings_bot_texts_intro: "Los campos vacíos usan el texto por defecto en {language}, mostrado en gris.",
    settings_texts_language: "Textos en",
    settings_texts_language_hint: "Cada contacto recibe respuesta en su idioma, si no en el del bot. Cambiar conserva lo escrito.",
    settings_variables: "Variables que puedes usar:",
    settings_saved: "Configuración guardada.",
  },
});

function timeZones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

/** An optional number of minutes: "" is null (never). */
function minutesOrNull(element) {
  const text = element.value.trim();
  return text === "" ? null : Number(text);
}

function keywords(element) {
  return element.value
    .split(",")
    .map((word) => word.trim())
    .filter(Boolean);
}

function part(id, titleKey, ...children) {
  return h(
    "section",
    { className: "ap-part", attrs: { "aria-labelledby": `${id}-title` } },
    h("h2", { className: "ap-subheading", attrs: { id: `${id}-title` }, text: t(titleKey) }),
    ...children,
  );
}

export default {
  id: "settings",
  titleKey: "section_settings",
  roles: ["admin"],
  async render(root) {
    replace(root, h("p", { className: "muted", text: t("loading") }));
    const [settings, texts, queues] = await Promise.all([
      api("/api/settings"),
      api("/api/settings/bot-texts"),
      allPages("/api/queues"),
    ]);
    renderForm(root, settings, texts, queues);
  },
};

function renderForm(root, settings, texts, queues) {
  const language = select(BOT_LANGUAGES, settings.language, { id: "settings-language" });
  const zones = h("datalist", { attrs: { id: "settings-zones" } }, ...timeZones().map((zone) => h("option", { attrs: { value: zone } })));
  const timezone = input({ type: "text", list: "settings-zones", autocomplete: "off", maxlength: 64, spellcheck: "false" }, settings.timezone);
  const inactivity = input({ type: "number", min: 5, max: 525600, step: 1, inputmode: "numeric" }, settings.inactivity_close_minutes ?? "");
  const unqueued = input({ type: "number", min: 5, max: 525600, step: 1, inputmode: "numeric" }, settings.unqueued_timeout_minutes ?? "");
  const misses = input({ type: "number", min: 1, max: 10, step: 1, inputmode: "numeric" }, settings.triage_max_misses);
  const fallback = select(
    [["", t("settings_no_fallback")], ...queues.map((queue) => [String(queue.id), queue.name])],
    settings.fallback_queue_id ?? "",
  );
  const outOfHours = select(
    [
      ["pending", t("settings_ooh_pending")],
      ["closed", t("settings_ooh_closed")],
    ],
    settings.out_of_hours_action,
  );
  const csatEnabled = input({ type: "checkbox", id: "settings-csat" }, settings.csat_enabled);
  const csatTimeout = input({ type: "number", min: 1, max: 10080, step: 1, inputmode: "numeric" }, settings.csat_timeout_minutes);
  const human = input({ type: "text", autocomplete: "off" }, settings.human_keywords.join(", "));
  const optout = input({ type: "text", autocomplete: "off" }, settings.optout_keywords.join(", "));
  const optin = input({ type: "text", autocomplete: "off" }, settings.optin_keywords.join(", "));

  const keys = Object.keys(texts.defaults["pt-BR"] ?? {});
  // What each language's boxes hold, kept while another language is shown.
  const drafts = Object.fromEntries(
    BOT_LANGUAGES.map(([code]) => [code, { ...(settings.bot_texts_by_language[code] ?? {}) }]),
  );
  const textsLanguage = select(BOT_LANGUAGES, settings.language, { id: "settings-texts-language" });
  const boxes = new Map(
    keys.map((key) => [
      key,
      h("textarea", { attrs: { rows: 2, maxlength: 2000, id: `settings-text-${key}`, "data-text-key": key } }),
    ]),
  );
  let shown = textsLanguage.value;
  function keepDraft() {
    for (const [key, box] of boxes) {
      if (box.value.trim()) drafts[shown][key] = box.value;
      else delete drafts[shown][key];
    }
  }
  function showTexts(code) {
    shown = code;
    textsLanguage.value = code;
    const defaults = texts.defaults[code] ?? texts.defaults["pt-BR"];
    for (const [key, box] of boxes) {
      box.value = drafts[code][key] ?? "";
      box.placeholder = defaults[key] ?? "";
    }
    const name = BOT_LANGUAGES.find(([value]) => value === code)?.[1] ?? code;
    intro.textContent = t("settings_bot_texts_intro", { language: name });
  }
  const intro = h("p", { className: "muted ap-intro" });
  textsLanguage.addEventListener("change", () => {
    keepDraft();
    showTexts(textsLanguage.value);
  });
  // The bot's own language is the one most edited: follow it.
  language.addEventListener("change", () => {
    keepDraft();
    showTexts(language.value);
  });
  showTexts(shown);

  const variables = h(
    "dl",
    { className: "ap-variables", attrs: { id: "settings-variables" } },
    ...texts.variables.map((name) => [
      h("dt", {}, h("code", { text: `{{${name}}}` })),
      h("dd", { text: VARIABLE_LABELS[name] ? t(VARIABLE_LABELS[name]) : "" }),
    ]),
  );

  const save = h("button", { className: "primary", attrs: { type: "submit", id: "settings-save" }, text: t("save") });
  const form = h(
    "form",
    { className: "ap-form ap-settings", attrs: { id: "settings-form", novalidate: true } },
    part(
      "settings-general",
      "settings_general",
      h(
        "div",
        { className: "ap-grid" },
        field("language", language, { labelKey: "settings_language" }),
        field("timezone", timezone, { labelKey: "settings_timezone", hint: "settings_timezone_hint" }),
      ),
      zones,
    ),
    part(
      "settings-timers",
      "settings_timers",
      h(
        "div",
        { className: "ap-grid" },
        field("inactivity_close_minutes", inactivity, { labelKey: "settings_inactivity", hint: "settings_inactivity_hint" }),
        field("unqueued_timeout_minutes", unqueued, { labelKey: "settings_unqueued", hint: "settings_unqueued_hint" }),
        field("triage_max_misses", misses, { labelKey: "settings_triage_misses" }),
        field("fallback_queue_id", fallback, { labelKey: "settings_fallback_queue" }),
        field("out_of_hours_action", outOfHours, { labelKey: "settings_out_of_hours" }),
      ),
    ),
    part(
      "settings-rating",
      "settings_rating",
      field("csat_enabled", csatEnabled, { labelKey: "settings_csat_enabled" }),
      h("div", { className: "ap-grid" }, field("csat_timeout_minutes", csatTimeout, { labelKey: "settings_csat_timeout" })),
    ),
    part(
      "settings-keywords",
      "settings_keywords",
      h("p", { className: "muted ap-intro", text: t("settings_keywords_hint") }),
      h(
        "div",
        { className: "ap-grid" },
        field("human_keywords", human, { labelKey: "settings_human_keywords" }),
        field("optout_keywords", optout, { labelKey: "settings_optout_keywords" }),
        field("optin_keywords", optin, { labelKey: "settings_optin_keywords" }),
      ),
    ),
    part(
      "settings-texts",
      "settings_bot_texts",
      field("bot_texts_language", textsLanguage, { labelKey: "settings_texts_language", hint: "settings_texts_language_hint" }),
      intro,
      h("p", { className: "ap-minor", text: t("settings_variables") }),
      variables,
      h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "bot_texts" } }),
      ...keys.map((key) =>
        field(`bot_texts.${key}`, boxes.get(key), { labelKey: TEXT_LABELS[key] ?? key }),
      ),
    ),
    h("p", { className: "form-error", attrs: { role: "alert" } }),
    h("div", { className: "ap-buttons ap-sticky" }, save),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    keepDraft();
    // Each language's texts, with those the page does not know (set through the API) kept.
    const byLanguage = {};
    for (const [code] of BOT_LANGUAGES) {
      const unknown = Object.entries(settings.bot_texts_by_language[code] ?? {}).filter(([key]) => !boxes.has(key));
      const entry = { ...Object.fromEntries(unknown), ...drafts[code] };
      if (Object.keys(entry).length) byLanguage[code] = entry;
    }
    const body = {
      language: language.value,
      timezone: timezone.value.trim(),
      inactivity_close_minutes: minutesOrNull(inactivity),
      unqueued_timeout_minutes: minutesOrNull(unqueued),
      triage_max_misses: Number(misses.value),
      fallback_queue_id: fallback.value === "" ? null : Number(fallback.value),
      out_of_hours_action: outOfHours.value,
      csat_enabled: csatEnabled.checked,
      csat_timeout_minutes: Number(csatTimeout.value),
      human_keywords: keywords(human),
      optout_keywords: keywords(optout),
      optin_keywords: keywords(optin),
      bot_texts_by_language: byLanguage,
    };
    save.disabled = true;
    try {
      const saved = await api("/api/settings", { method: "PATCH", body });
      toast(t("settings_saved"));
      renderForm(root, saved, texts, queues);
    } catch (failure) {
      showErrors(form, textErrorsShown(failure));
      form.querySelector("[aria-invalid], .form-error:not(:empty)")?.scrollIntoView?.({ block: "center" });
    } finally {
      save.disabled = false;
    }
  });
  replace(root, form);

  /** The failure with its text errors ("bot_texts_by_language.en.welcome") put on the
   * boxes, the language of the first one shown (the boxes show one language at a time). */
  function textErrorsShown(failure) {
    if (!failure?.fields) return failure;
    const paths = Object.keys(failure.fields);
    const first = paths.map((path) => path.match(/^bot_texts_by_language\.([^.]+)\.(.+)$/)).find(Boolean);
    if (first && drafts[first[1]]) showTexts(first[1]);
    for (const path of paths) {
      const match = path.match(/^bot_texts_by_language\.([^.]+)(?:\.(.+))?$/);
      if (!match || (match[2] && match[1] !== shown)) continue;
      failure.fields[match[2] ? `bot_texts.${match[2]}` : "bot_texts"] = failure.fields[path];
      delete failure.fields[path];
    }
    return failure;
  }
}
