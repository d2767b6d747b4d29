// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_quick_replies: "quick_replies" }, "pt-BR": { section_quick_replies: "quick_replies" }, es: { section_quick_replies: "quick_replies" } });

export default {
  id: "quick-replies",
  titleKey: "section_quick_replies",
  roles: ["admin", "supervisor"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
