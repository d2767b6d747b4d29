// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_settings: "settings" }, "pt-BR": { section_settings: "settings" }, es: { section_settings: "settings" } });

export default {
  id: "settings",
  titleKey: "section_settings",
  roles: ["admin"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
