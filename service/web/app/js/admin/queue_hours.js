// The editor of a queue's business hours (flows/spec.py BusinessHours): a time zone, one or
// more [start, end) intervals per weekday (a day without any is closed) and holidays, each
// a date once (YYYY-MM-DD) or every year (MM-DD). No hours at all (null) means always open.
// Like the tree editor, it edits a plain model and redraws only on add and remove; error
// lines carry the API's paths ("business_hours.days.mon.0").
import { h, replace } from "../dom.js";
import { extend, getLang, t } from "../i18n.js";
import { input, select } from "./forms.js";

extend({
  en: {
    qh_enabled: "Opening hours (unticked: always open)",
    qh_timezone: "Time zone",
    qh_closed: "Closed",
    qh_from: "From",
    qh_to: "To",
    qh_add_interval: "Add hours",
    qh_remove_interval: "Remove these hours",
    qh_midnight_hint: "An end of 00:00 means midnight.",
    qh_holidays: "Holidays (closed all day)",
    qh_holiday: "Date",
    qh_holiday_hint: "YYYY-MM-DD once, or MM-DD every year",
    qh_add_holiday: "Add holiday",
    qh_remove_holiday: "Remove this holiday",
    qh_copy: "Copy to the other weekdays",
  },
  "pt-BR": {
    qh_enabled: "Horário de atendimento (desmarcado: sempre aberto)",
    qh_timezone: "Fuso horário",
    qh_closed: "Fechado",
    qh_from: "Das",
    qh_to: "Até",
    qh_add_interval: "Adicionar horário",
    qh_remove_interval: "Remover este horário",
    qh_midnight_hint: "Um fim às 00:00 quer dizer meia-noite.",
    qh_holidays: "Feriados (fechado o dia todo)",
    qh_holiday: "Data",
    qh_holiday_hint: "AAAA-MM-DD uma vez, ou MM-DD todo ano",
    qh_add_holiday: "Adicionar feriado",
    qh_remove_holiday: "Remover este feriado",
    qh_copy: "Copiar para os outros dias úteis",
  },
  es: {
    qh_enabled: "Horario de atención (sin marcar: siempre abierto)",
    qh_timezone: "Zona horaria",
    qh_closed: "Cerrado",
    qh_from: "Desde",
    qh_to: "Hasta",
    qh_add_interval: "Añadir horario",
    qh_remove_interval: "Quitar este horario",
    qh_midnight_hint: "Un fin a las 00:00 significa medianoche.",
    qh_holidays: "Feriados (cerrado todo el día)",
    qh_holiday: "Fecha",
    qh_holiday_hint: "AAAA-MM-DD una vez, o MM-DD todos los años",
    qh_add_holiday: "Añadir feriado",
    qh_remove_holiday: "Quitar este feriado",
    qh_copy: "Copiar a los otros días hábiles",
  },
});

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WORKDAYS = ["mon", "tue", "wed", "thu", "fri"];

/** The weekday's name in the UI language (2024-01-01 was a Monday). */
export function weekdayName(day, style = "long") {
  const date = new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day), 12));
  return new Intl.DateTimeFormat(getLang(), { weekday: style, timeZone: "UTC" }).format(date);
}

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "America/Sao_Paulo";
  } catch {
    return "America/Sao_Paulo";
  }
}

function zones() {
  try {
    return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : null;
  } catch {
    return null;
  }
}

/** A time input shows 00:00 where the API says 24:00 (end of the day), and back. */
const shown = (time) => (time === "24:00" ? "00:00" : time);
const sent = (time, isEnd) => (isEnd && time === "00:00" ? "24:00" : time);

/** `hoursEditor(businessHours | null)` → {element, value()} (value is null when always open). */
export function hoursEditor(hours) {
  const model = {
    enabled: hours !== null && hours !== undefined,
    timezone: hours?.timezone ?? browserZone(),
    days: Object.fromEntries(
      WEEKDAYS.map((day) => [day, (hours?.days?.[day] ?? []).map(([start, end]) => [shown(start), shown(end)])]),
    ),
    holidays: [...(hours?.holidays ?? [])],
  };
  if (!model.enabled) for (const day of WORKDAYS) model.days[day] = [["09:00", "18:00"]];

  const body = h("div", { className: "qh-body" });
  const enabled = input({ type: "checkbox", id: "qh-enabled" }, model.enabled);
  enabled.addEventListener("change", () => {
    model.enabled = enabled.checked;
    body.hidden = !model.enabled;
  });
  body.hidden = !model.enabled;
  const element = h(
    "fieldset",
    { className: "qh", attrs: { id: "queue-hours" } },
    h(
      "div",
      { className: "field field-check" },
      h("label", { attrs: { for: enabled.id }, text: t("qh_enabled") }),
      enabled,
    ),
    errorLine("business_hours"),
    body,
  );

  function errorLine(path) {
    return h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: path } });
  }

  function redraw(focusSelector = null) {
    replace(body, timezoneField(), h("div", { className: "qh-days" }, WEEKDAYS.map(dayRow)), holidays());
    if (focusSelector) body.querySelector(focusSelector)?.focus();
  }

  function timezoneField() {
    const names = zones();
    let control;
    if (names) {
      const list = names.includes(model.timezone) ? names : [model.timezone, ...names];
      control = select(list.map((zone) => [zone, zone]), model.timezone, { id: "qh-timezone" });
      control.addEventListener("change", () => (model.timezone = control.value));
    } else {
      control = input({ type: "text", id: "qh-timezone", autocomplete: "off" }, model.timezone);
      control.addEventListener("input", () => (model.timezone = control.value));
    }
    control.dataset.pathField = "business_hours.timezone";
    return h(
      "div",
      { className: "field qh-timezone" },
      h("label", { attrs: { for: control.id }, text: t("qh_timezone") }),
      control,
      errorLine("business_hours.timezone"),
    );
  }

  function dayRow(day) {
    const intervals = model.days[day];
    const path = `business_hours.days.${day}`;
    const name = weekdayName(day);
    const rows = intervals.map((interval, index) => {
      const time = (which) => {
        const control = input(
          {
            type: "time",
            id: `qh-${day}-${index}-${which}`,
            "aria-label": `${name} ${index + 1}: ${t(which === 0 ? "qh_from" : "qh_to")}`,
            "data-path-field": `${path}.${index}.${which}`,
          },
          interval[which],
        );
        control.addEventListener("input", () => (interval[which] = control.value));
        return control;
      };
      return h(
        "li",
        { className: "qh-interval" },
        time(0),
        h("span", { className: "muted", text: "–", attrs: { "aria-hidden": "true" } }),
        time(1),
        h("button", {
          className: "qt-tool",
          attrs: { type: "button", "aria-label": `${t("qh_remove_interval")} (${name} ${index + 1})` },
          text: "✕",
          on: {
            click: () => {
              intervals.splice(index, 1);
              redraw(`[data-add-hours="${day}"]`);
            },
          },
        }),
        errorLine(`${path}.${index}`),
      );
    });
    return h(
      "div",
      { className: "qh-day", dataset: { day } },
      h("span", { className: "qh-day-name", text: name, attrs: { id: `qh-day-${day}` } }),
      h(
        "div",
        { className: "qh-day-hours" },
        rows.length
          ? h("ol", { className: "qh-intervals", attrs: { "aria-labelledby": `qh-day-${day}` } }, rows)
          : h("span", { className: "muted qh-closed", text: t("qh_closed") }),
        errorLine(path),
        h(
          "div",
          { className: "qh-day-tools" },
          h("button", {
            className: "qt-tool",
            attrs: { type: "button", "data-add-hours": day, "aria-label": `${t("qh_add_interval")} (${name})` },
            text: t("qh_add_interval"),
            on: {
              click: () => {
                const last = intervals.at(-1);
                intervals.push(last ? [last[1], last[1] < "18:00" ? "18:00" : "00:00"] : ["09:00", "18:00"]);
                redraw(`#qh-${day}-${intervals.length - 1}-0`);
              },
            },
          }),
          day === "mon"
            ? h("button", {
                className: "qt-tool",
                attrs: { type: "button", "data-copy-hours": "" },
                text: t("qh_copy"),
                on: {
                  click: () => {
                    for (const other of WORKDAYS.slice(1)) model.days[other] = intervals.map((pair) => [...pair]);
                    redraw("[data-copy-hours]");
                  },
                },
              })
            : null,
        ),
      ),
    );
  }

  function holidays() {
    const rows = model.holidays.map((holiday, index) => {
      const control = input(
        {
          type: "text",
          id: `qh-holiday-${index}`,
          inputmode: "numeric",
          maxlength: 10,
          placeholder: "2026-12-25",
          autocomplete: "off",
          "aria-label": `${t("qh_holiday")} ${index + 1}`,
          "aria-describedby": "qh-holiday-hint",
          "data-path-field": `business_hours.holidays.${index}`,
        },
        holiday,
      );
      control.addEventListener("input", () => (model.holidays[index] = control.value));
      return h(
        "li",
        { className: "qh-holiday" },
        control,
        h("button", {
          className: "qt-tool",
          attrs: { type: "button", "aria-label": `${t("qh_remove_holiday")} (${index + 1})` },
          text: "✕",
          on: {
            click: () => {
              model.holidays.splice(index, 1);
              redraw("[data-add-holiday]");
            },
          },
        }),
        errorLine(`business_hours.holidays.${index}`),
      );
    });
    return h(
      "fieldset",
      { className: "qh-holidays" },
      h("legend", { text: t("qh_holidays") }),
      h("p", { className: "field-hint muted", attrs: { id: "qh-holiday-hint" }, text: t("qh_holiday_hint") }),
      rows.length ? h("ol", { className: "qh-holiday-list" }, rows) : null,
      errorLine("business_hours.holidays"),
      h("button", {
        className: "qt-tool",
        attrs: { type: "button", "data-add-holiday": "" },
        text: t("qh_add_holiday"),
        on: {
          click: () => {
            model.holidays.push("");
            redraw(`#qh-holiday-${model.holidays.length - 1}`);
          },
        },
      }),
    );
  }

  redraw();
  return {
    element,
    value() {
      if (!model.enabled) return null;
      return {
        timezone: model.timezone.trim(),
        days: Object.fromEntries(
          WEEKDAYS.map((day) => [day, model.days[day].map(([start, end]) => [sent(start, false), sent(end, true)])]),
        ),
        holidays: model.holidays.map((holiday) => holiday.trim()),
      };
    },
  };
}

/** A line about a queue's hours for the list: "Always open" or "Mon–Fri… · zone". */
export function hoursSummary(hours) {
  if (!hours) return t("q_always_open");
  const open = WEEKDAYS.filter((day) => (hours.days?.[day] ?? []).length);
  const days = open.length ? open.map((day) => weekdayName(day, "short")).join(" ") : t("qh_closed");
  const holidays = hours.holidays?.length ? ` · ${t("q_holidays_n", { n: hours.holidays.length })}` : "";
  return `${days} · ${hours.timezone}${holidays}`;
}
