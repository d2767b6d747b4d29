// Placeholder until this section is written.
import { h, replace } from "../dom.js";
import { extend } from "../i18n.js";

extend({ en: { section_queues: "queues" }, "pt-BR": { section_queues: "queues" }, es: { section_queues: "queues" } });

export default {
  id: "queues",
  titleKey: "section_queues",
  roles: ["admin"],
  render(root) {
    replace(root, h("p", { className: "muted", text: "…" }));
  },
};
