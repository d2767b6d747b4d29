// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_tags: "tags" }, "pt-BR": { section_tags: "tags" }, es: { section_tags: "tags" } });

export default {
  id: "tags",
  titleKey: "section_tags",
  roles: ["admin", "supervisor"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
