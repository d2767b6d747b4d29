// The composer's attachment: a paperclip button (the file input itself stays hidden, the
// button is what the keyboard reaches), a file dropped on the composer or an image pasted
// into it; shown as a chip with its name and size until it is sent or removed.
import { h } from "../dom.js";
import { extend, t } from "../i18n.js";

extend({
  en: {
    att_attach: "Attach a file",
    att_remove: "Remove the attachment {name}",
    att_sending: "Sending…",
    att_caption_hint: "The text you write goes as its caption.",
    att_too_large: "“{name}” is too large to send ({limit}). It is still attached: remove it or pick a smaller file.",
    att_refused: "“{name}” was not sent: {reason}",
  },
  "pt-BR": {
    att_attach: "Anexar arquivo",
    att_remove: "Remover o anexo {name}",
    att_sending: "Enviando…",
    att_caption_hint: "O texto que você escrever vai como legenda.",
    att_too_large: "“{name}” é grande demais para enviar ({limit}). Ele continua anexado: remova-o ou escolha um arquivo menor.",
    att_refused: "“{name}” não foi enviado: {reason}",
  },
  es: {
    att_attach: "Adjuntar archivo",
    att_remove: "Quitar el adjunto {name}",
    att_sending: "Enviando…",
    att_caption_hint: "El texto que escribas irá como pie de foto.",
    att_too_large: "“{name}” es demasiado grande para enviar ({limit}). Sigue adjunto: quítalo o elige un archivo más pequeño.",
    att_refused: "“{name}” no se envió: {reason}",
  },
});

const UNITS = ["B", "KB", "MB", "GB"];
const SVG = "http://www.w3.org/2000/svg";

/** A paperclip drawn as SVG: the emoji is missing from many system fonts. */
function clipIcon() {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({
    viewBox: "0 0 24 24",
    class: "clip-icon",
    "aria-hidden": "true",
    focusable: "false",
    fill: "none",
    stroke: "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
  })) {
    svg.setAttribute(name, value);
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute(
    "d",
    "M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5",
  );
  svg.append(path);
  return svg;
}

/** 1536 → "1.5 KB". */
export function formatSize(bytes) {
  let size = Number(bytes) || 0;
  let unit = 0;
  while (size >= 1024 && unit < UNITS.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || size >= 10 ? 0 : 1;
  return `${size.toFixed(digits)} ${UNITS[unit]}`;
}

/** What to tell the agent when the upload of `file` failed (413, 422, anything else). */
export function uploadError(error, file) {
  const name = file?.name || "file";
  if (error?.status === 413) {
    const limit = /(\d+) bytes/.exec(error.message ?? "");
    return t("att_too_large", { name, limit: limit ? formatSize(Number(limit[1])) : "413" });
  }
  if (error?.status === 422 && error.fields) {
    const reason = Object.entries(error.fields)
      .map(([field, problem]) => `${field} ${problem}`)
      .join("; ");
    return t("att_refused", { name, reason });
  }
  return t("att_refused", { name, reason: error?.message || t("error_generic") });
}

export class Attachment {
  /** onChange(file|null) after a file is picked or removed. */
  constructor({ onChange }) {
    this.onChange = onChange;
    this.file = null;
    this.input = h("input", {
      className: "attach-input",
      attrs: { type: "file", id: "composer-file", tabindex: "-1", "aria-hidden": "true" },
      on: {
        change: () => {
          if (this.input.files?.length) this.set(this.input.files[0]);
          this.input.value = ""; // picking the same file again still fires "change"
        },
      },
    });
    this.input.hidden = true;
    this.button = h(
      "button",
      {
        className: "attach-button icon-button",
        attrs: { type: "button", id: "composer-attach" },
        on: { click: () => this.input.click() },
      },
      clipIcon(),
    );
    this.name = h("span", { className: "attach-name" });
    this.size = h("span", { className: "attach-size" });
    this.state = h("span", { className: "attach-state", attrs: { role: "status" } });
    this.remove = h("button", {
      className: "icon-button attach-remove",
      attrs: { type: "button" },
      text: "✕",
      on: { click: () => this.clear({ focus: true }) },
    });
    this.hint = h("span", { className: "attach-hint" });
    this.chip = h(
      "div",
      { className: "attach-chip", attrs: { id: "composer-attachment" } },
      clipIcon(),
      this.name,
      this.size,
      this.state,
      this.remove,
      this.hint,
    );
    this.chip.hidden = true;
    this.texts();
  }

  texts() {
    this.button.setAttribute("aria-label", t("att_attach"));
    this.button.title = t("att_attach");
    const name = this.file?.name ?? "";
    this.remove.setAttribute("aria-label", t("att_remove", { name }));
    this.remove.title = t("att_remove", { name });
    this.hint.textContent = t("att_caption_hint");
  }

  set(file) {
    if (!file) return;
    this.file = file;
    this.name.textContent = file.name || "file";
    this.size.textContent = formatSize(file.size);
    this.sending(false);
    this.chip.hidden = false;
    this.texts();
    this.onChange?.(file);
  }

  clear({ focus = false } = {}) {
    const had = this.file !== null;
    this.file = null;
    this.chip.hidden = true;
    this.sending(false);
    if (focus) this.button.focus();
    if (had) this.onChange?.(null);
  }

  sending(busy) {
    this.state.textContent = busy ? t("att_sending") : "";
    this.remove.disabled = busy;
    this.chip.classList.toggle("attach-busy", busy);
  }

  /** Attaching is allowed or not (a note, a ticket one may not write to). */
  setEnabled(enabled) {
    this.button.disabled = !enabled;
    this.chip.classList.toggle("attach-off", !enabled);
  }

  /** Files dropped on `zone`, and images pasted into `field`, become the attachment. */
  listen(zone, field) {
    const usable = (event) => !this.button.disabled && [...(event.dataTransfer?.types ?? [])].includes("Files");
    zone.addEventListener("dragover", (event) => {
      if (!usable(event)) return;
      event.preventDefault();
      zone.classList.add("drop-target");
    });
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("drop-target");
    });
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("drop-target");
      if (!usable(event)) return;
      event.preventDefault();
      const file = event.dataTransfer.files?.[0];
      if (file) this.set(file);
    });
    field.addEventListener("paste", (event) => {
      if (this.button.disabled) return;
      const image = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
      if (!image) return; // text pastes as text
      event.preventDefault();
      this.set(image);
    });
  }
}
