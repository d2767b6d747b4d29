// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_campaigns: "campaigns" }, "pt-BR": { section_campaigns: "campaigns" }, es: { section_campaigns: "campaigns" } });

export default {
  id: "campaigns",
  titleKey: "section_campaigns",
  roles: ["admin", "supervisor"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
