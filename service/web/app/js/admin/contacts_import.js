// The contacts import wizard: choose a CSV file → preview with a target per column → import
// with a progress bar fed by `contacts.import.progress` → the report, downloadable as CSV.
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { field, input } from "./forms.js";

extend({
  en: {
    ci_title: "Import contacts",
    ci_file: "CSV file",
    ci_file_hint: "Exported from a spreadsheet: comma, semicolon or tab separated; UTF-8 or Windows encoding.",
    ci_summary: "{total} rows · {encoding} · separator “{delimiter}”",
    ci_has_header: "The first row holds column names",
    ci_column: "Column {n}",
    ci_target_for: "Field for column “{name}”",
    ci_ignore: "Ignore",
    ci_name: "Name",
    ci_number: "Number",
    ci_email: "Email",
    ci_tags: "Tags (separated by ;)",
    ci_opted_out: "Opted out (yes/no)",
    ci_custom: "Custom field “{key}”",
    ci_add_tags: "Tags for every imported contact",
    ci_add_tags_hint: "Separated by commas; created when missing.",
    ci_update: "Update contacts that already exist",
    ci_start: "Import",
    ci_cancel: "Close",
    ci_progress: "Importing…",
    ci_progress_label: "Import progress",
    ci_done: "Created {created} · updated {updated} · unchanged {unchanged} · merged {merged} · failed {failed}",
    ci_row: "Row",
    ci_value: "Value",
    ci_reason: "Reason",
    ci_outcome: "Outcome",
    ci_outcome_failed: "not imported",
    ci_outcome_merged: "merged",
    ci_report_download: "Download the report (CSV)",
    ci_no_problems: "Every row was imported.",
    ci_another: "Import another file",
  },
  "pt-BR": {
    ci_title: "Importar contatos",
    ci_file: "Arquivo CSV",
    ci_file_hint: "Exportado de uma planilha: separado por vírgula, ponto e vírgula ou tabulação; UTF-8 ou Windows.",
    ci_summary: "{total} linhas · {encoding} · separador “{delimiter}”",
    ci_has_header: "A primeira linha tem os nomes das colunas",
    ci_column: "Coluna {n}",
    ci_target_for: "Campo da coluna “{name}”",
    ci_ignore: "Ignorar",
    ci_name: "Nome",
    ci_number: "Número",
    ci_email: "E-mail",
    ci_tags: "Etiquetas (separadas por ;)",
    ci_opted_out: "Descadastrado (sim/não)",
    ci_custom: "Campo personalizado “{key}”",
    ci_add_tags: "Etiquetas para todos os contatos importados",
    ci_add_tags_hint: "Separadas por vírgula; criadas se não existirem.",
    ci_update: "Atualizar contatos que já existem",
    ci_start: "Importar",
    ci_cancel: "Fechar",
    ci_progress: "Importando…",
    ci_progress_label: "Progresso da importação",
    ci_done: "Criados {created} · atualizados {updated} · inalterados {unchanged} · mesclados {merged} · com falha {failed}",
    ci_row: "Linha",
    ci_value: "Valor",
    ci_reason: "Motivo",
    ci_outcome: "Resultado",
    ci_outcome_failed: "não importada",
    ci_outcome_merged: "mesclada",
    ci_report_download: "Baixar o relatório (CSV)",
    ci_no_problems: "Todas as linhas foram importadas.",
    ci_another: "Importar outro arquivo",
  },
  es: {
    ci_title: "Importar contactos",
    ci_file: "Archivo CSV",
    ci_file_hint: "Exportado de una hoja de cálculo: separado por comas, punto y coma o tabulaciones; UTF-8 o Windows.",
    ci_summary: "{total} filas · {encoding} · separador «{delimiter}»",
    ci_has_header: "La primera fila tiene los nombres de las columnas",
    ci_column: "Columna {n}",
    ci_target_for: "Campo de la columna «{name}»",
    ci_ignore: "Ignorar",
    ci_name: "Nombre",
    ci_number: "Número",
    ci_email: "Correo",
    ci_tags: "Etiquetas (separadas por ;)",
    ci_opted_out: "Dado de baja (sí/no)",
    ci_custom: "Campo personalizado «{key}»",
    ci_add_tags: "Etiquetas para todos los contactos importados",
    ci_add_tags_hint: "Separadas por comas; se crean si no existen.",
    ci_update: "Actualizar los contactos que ya existen",
    ci_start: "Importar",
    ci_cancel: "Cerrar",
    ci_progress: "Importando…",
    ci_progress_label: "Progreso de la importación",
    ci_done: "Creados {created} · actualizados {updated} · sin cambios {unchanged} · combinados {merged} · con error {failed}",
    ci_row: "Fila",
    ci_value: "Valor",
    ci_reason: "Motivo",
    ci_outcome: "Resultado",
    ci_outcome_failed: "no importada",
    ci_outcome_merged: "combinada",
    ci_report_download: "Descargar el informe (CSV)",
    ci_no_problems: "Se importaron todas las filas.",
    ci_another: "Importar otro archivo",
  },
});

const TARGETS = ["ignore", "name", "number", "email", "tags", "opted_out"];
const DELIMITER_NAMES = { ",": ",", ";": ";", "\t": "Tab" };

/** A CSV cell, quoted when needed, and neutral for spreadsheets (no formulas). */
function csvCell(value) {
  let text = String(value ?? "");
  if (/^'*[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n;]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The wizard inside `root`; `onDone()` after an import (to reload the list), `onClose()`.
 * Returns {onEvent} to be fed the live feed's events.
 */
export function importWizard(root, { onDone, onClose }) {
  let file = null;
  let preview = null;
  let running = null; // {id, bar, label} while an import runs
  let reportUrl = null;

  const error = h("p", { className: "form-error", attrs: { role: "alert", id: "ci-error" } });
  const body = h("div", { className: "ci-body" });
  const fileInput = input({ type: "file", accept: ".csv,text/csv,text/plain", id: "ci-file" });
  fileInput.addEventListener("change", () => {
    file = fileInput.files?.[0] ?? null;
    if (file) loadPreview(null);
  });
  const close = h("button", {
    attrs: { type: "button", id: "ci-close" },
    text: t("ci_cancel"),
    on: { click: () => finish() },
  });
  replace(
    root,
    h(
      "section",
      { className: "ap-editor ci-wizard", attrs: { "aria-labelledby": "ci-title" } },
      h("h2", { className: "ap-title", attrs: { id: "ci-title" }, text: t("ci_title") }),
      field("file", fileInput, { labelKey: "ci_file", hint: "ci_file_hint" }),
      error,
      body,
      h("div", { className: "ap-buttons" }, close),
    ),
  );
  root.hidden = false;
  fileInput.focus();

  function finish() {
    if (reportUrl) URL.revokeObjectURL(reportUrl);
    reportUrl = null;
    root.hidden = true;
    root.replaceChildren();
    onClose?.();
  }

  async function loadPreview(hasHeader) {
    error.textContent = "";
    const form = new FormData();
    form.append("file", file);
    if (hasHeader !== null) form.append("has_header", String(hasHeader));
    try {
      preview = await api("/api/contacts/import/preview", { method: "POST", body: form });
    } catch (failure) {
      preview = null;
      body.replaceChildren();
      error.textContent = failure.message || t("error_generic");
      return;
    }
    showPreview();
  }

  function columnName(index) {
    return preview.columns[index] || t("ci_column", { n: index + 1 });
  }

  function targetSelect(index) {
    const options = TARGETS.map((target) => [target, t(`ci_${target}`)]);
    const key = preview.columns[index];
    const custom = key && !TARGETS.includes(key.toLowerCase()) ? key.slice(0, 60) : `campo_${index + 1}`;
    options.push([`custom:${custom}`, t("ci_custom", { key: custom })]);
    const suggested = preview.mapping[index];
    if (suggested.startsWith("custom:") && suggested !== `custom:${custom}`) {
      options.push([suggested, t("ci_custom", { key: suggested.slice(7) })]);
    }
    const element = h(
      "select",
      { className: "ci-target", attrs: { "aria-label": t("ci_target_for", { name: columnName(index) }), "data-column": index } },
      ...options.map(([value, label]) => h("option", { attrs: { value }, text: label })),
    );
    element.value = suggested;
    return element;
  }

  function showPreview() {
    const selects = Array.from({ length: preview.width }, (_, index) => targetSelect(index));
    const header = input({ type: "checkbox", id: "ci-has-header" }, preview.has_header);
    header.addEventListener("change", () => loadPreview(header.checked));
    const tags = input({ type: "text", id: "ci-tags", maxlength: 2000, autocomplete: "off" });
    const update = input({ type: "checkbox", id: "ci-update" }, true);
    const table = h(
      "table",
      { className: "admin-table ci-preview", attrs: { id: "ci-preview" } },
      h(
        "thead",
        {},
        h("tr", {}, ...selects.map((select, index) => h("th", { attrs: { scope: "col" } }, h("span", { className: "ci-colname", text: columnName(index) }), select))),
      ),
      h(
        "tbody",
        {},
        ...preview.rows.map((row) =>
          h("tr", {}, ...Array.from({ length: preview.width }, (_, index) => h("td", { text: row[index] ?? "" }))),
        ),
      ),
    );
    const start = h("button", {
      className: "primary",
      attrs: { type: "button", id: "ci-start" },
      text: t("ci_start"),
      on: { click: () => run(selects.map((select) => select.value), tags.value, update.checked) },
    });
    replace(
      body,
      h("p", {
        className: "muted",
        attrs: { id: "ci-summary" },
        text: t("ci_summary", {
          total: preview.total,
          encoding: preview.encoding,
          delimiter: DELIMITER_NAMES[preview.delimiter] ?? preview.delimiter,
        }),
      }),
      field("has_header", header, { labelKey: "ci_has_header" }),
      h("div", { className: "ap-scroll" }, table),
      h(
        "div",
        { className: "ap-grid" },
        field("tags", tags, { labelKey: "ci_add_tags", hint: "ci_add_tags_hint" }),
        field("update_existing", update, { labelKey: "ci_update" }),
      ),
      h("div", { className: "ap-buttons" }, start),
    );
  }

  async function run(mapping, tags, update) {
    error.textContent = "";
    const id = `imp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const bar = h("progress", { attrs: { id: "ci-progress", max: 1, "aria-label": t("ci_progress_label") } });
    const label = h("p", { className: "muted", attrs: { id: "ci-progress-text", "aria-live": "polite" }, text: t("ci_progress") });
    running = { id, bar, label };
    replace(body, bar, label);
    const form = new FormData();
    form.append("file", file);
    form.append("mapping", JSON.stringify(mapping));
    form.append("tags", tags);
    form.append("update_existing", String(update));
    form.append("has_header", String(preview.has_header));
    form.append("import_id", id);
    let result;
    try {
      result = await api("/api/contacts/import", { method: "POST", body: form });
    } catch (failure) {
      running = null;
      showPreview();
      error.textContent = failure.message || t("error_generic");
      return;
    }
    running = null;
    showReport(result);
    onDone?.();
  }

  function showReport(result) {
    if (reportUrl) URL.revokeObjectURL(reportUrl);
    const lines = [["row", "value", "reason", "outcome"].join(",")];
    for (const item of result.report) lines.push([item.row, item.value, item.reason, item.outcome].map(csvCell).join(","));
    reportUrl = URL.createObjectURL(new Blob([`\ufeff${lines.join("\r\n")}\r\n`], { type: "text/csv;charset=utf-8" }));
    const again = h("button", {
      attrs: { type: "button", id: "ci-again" },
      text: t("ci_another"),
      on: {
        click: () => {
          fileInput.value = "";
          file = null;
          body.replaceChildren();
          fileInput.focus();
        },
      },
    });
    replace(
      body,
      h("p", { className: "ci-totals", attrs: { id: "ci-totals", role: "status" }, text: t("ci_done", result) }),
      result.report.length
        ? h(
            "div",
            { className: "ap-scroll" },
            h(
              "table",
              { className: "admin-table ci-report", attrs: { id: "ci-report" } },
              h("thead", {}, h("tr", {}, ...["ci_row", "ci_value", "ci_reason", "ci_outcome"].map((key) => h("th", { attrs: { scope: "col" }, text: t(key) })))),
              h(
                "tbody",
                {},
                ...result.report.map((item) =>
                  h(
                    "tr",
                    { dataset: { outcome: item.outcome } },
                    h("td", { text: String(item.row) }),
                    h("td", {}, h("code", { text: item.value })),
                    h("td", { text: item.reason }),
                    h("td", { text: t(`ci_outcome_${item.outcome}`) }),
                  ),
                ),
              ),
            ),
          )
        : h("p", { className: "muted", text: t("ci_no_problems") }),
      h(
        "div",
        { className: "ap-buttons" },
        h("a", { className: "ct-button-link", attrs: { id: "ci-report-download", href: reportUrl, download: "import-report.csv" }, text: t("ci_report_download") }),
        again,
      ),
    );
  }

  return {
    onEvent(event) {
      if (event.type !== "contacts.import.progress" || !running || event.data?.import_id !== running.id) return;
      const { done, total } = event.data;
      running.bar.max = Math.max(1, total);
      running.bar.value = done;
      running.label.textContent = `${t("ci_progress")} ${done} / ${total}`;
    },
    destroy() {
      if (reportUrl) URL.revokeObjectURL(reportUrl);
    },
  };
}
