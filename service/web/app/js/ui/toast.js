// Short messages at the bottom of the screen (errors, notices), read out by screen readers.
import { byId, h } from "../dom.js";

const SHOW_MS = 6000;

/** Show `text` (plain text, never markup) for a few seconds; kind "error" or "info". */
export function toast(text, kind = "info") {
  const region = byId("toasts");
  const item = h("div", { className: `toast toast-${kind}`, text });
  region.append(item);
  setTimeout(() => item.remove(), SHOW_MS);
}
