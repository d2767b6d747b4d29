// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_connections: "connections" }, "pt-BR": { section_connections: "connections" }, es: { section_connections: "connections" } });

export default {
  id: "connections",
  titleKey: "section_connections",
  roles: ["admin"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
