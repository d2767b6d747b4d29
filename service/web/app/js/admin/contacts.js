// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_contacts: "contacts" }, "pt-BR": { section_contacts: "contacts" }, es: { section_contacts: "contacts" } });

export default {
  id: "contacts",
  titleKey: "section_contacts",
  roles: ["admin", "supervisor"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
