// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_audiences: "audiences" }, "pt-BR": { section_audiences: "audiences" }, es: { section_audiences: "audiences" } });

export default {
  id: "audiences",
  titleKey: "section_audiences",
  roles: ["admin", "supervisor"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
