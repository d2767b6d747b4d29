// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_dashboard: "dashboard" }, "pt-BR": { section_dashboard: "dashboard" }, es: { section_dashboard: "dashboard" } });

export default {
  id: "dashboard",
  titleKey: "section_dashboard",
  roles: ["admin", "supervisor"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
