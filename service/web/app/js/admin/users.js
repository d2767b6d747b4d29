// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_users: "users" }, "pt-BR": { section_users: "users" }, es: { section_users: "users" } });

export default {
  id: "users",
  titleKey: "section_users",
  roles: ["admin"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
