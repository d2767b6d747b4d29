// Audiences: static contact lists and segments (saved filters with a live count), for
// admins and supervisors. Campaigns send to one or the other.
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { listsPanel } from "./audiences_lists.js";
import { segmentsPanel } from "./audiences_segments.js";

extend({
  en: { section_audiences: "Audiences" },
  "pt-BR": { section_audiences: "Públicos" },
  es: { section_audiences: "Audiencias" },
});

export default {
  id: "audiences",
  titleKey: "section_audiences",
  roles: ["admin", "supervisor"],
  async render(root) {
    const lists = listsPanel();
    const segments = segmentsPanel({ onListMade: () => lists.reload() });
    replace(root, h("div", { className: "au-layout" }, segments.element, lists.element));
    await Promise.all([lists.reload(), segments.reload()]);
    return { destroy() {} };
  },
};
