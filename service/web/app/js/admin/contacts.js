// Contacts, for admins and supervisors: search and filter (tag, opted out) with paging, edit,
// merge, import a CSV file (contacts_import.js) and export the current filter as CSV.
import { api } from "../api.js";
import { debounce, h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { editContact, label, mergeContact } from "./contacts_edit.js";
import { importWizard } from "./contacts_import.js";
import { select, table } from "./forms.js";

extend({
  en: {
    section_contacts: "Contacts",
    ct_search: "Search by name, email or number",
    ct_tag: "Tag",
    ct_all_tags: "All tags",
    ct_status: "Campaigns",
    ct_any: "Everyone",
    ct_opted_in: "Receiving",
    ct_opted_out_only: "Opted out",
    ct_import: "Import CSV",
    ct_export: "Export CSV",
    ct_name: "Name",
    ct_number: "Number",
    ct_email: "Email",
    ct_tags: "Tags",
    ct_opt: "Opted out",
    ct_opt_since: "since {date}",
    ct_merge: "Merge",
    ct_empty: "No contacts match.",
    ct_prev: "Previous page",
    ct_next: "Next page",
    ct_exported: "Export downloaded.",
  },
  "pt-BR": {
    section_contacts: "Contatos",
    ct_search: "Buscar por nome, e-mail ou número",
    ct_tag: "Etiqueta",
    ct_all_tags: "Todas as etiquetas",
    ct_status: "Campanhas",
    ct_any: "Todos",
    ct_opted_in: "Recebendo",
    ct_opted_out_only: "Descadastrados",
    ct_import: "Importar CSV",
    ct_export: "Exportar CSV",
    ct_name: "Nome",
    ct_number: "Número",
    ct_email: "E-mail",
    ct_tags: "Etiquetas",
    ct_opt: "Descadastrado",
    ct_opt_since: "desde {date}",
    ct_merge: "Mesclar",
    ct_empty: "Nenhum contato encontrado.",
    ct_prev: "Página anterior",
    ct_next: "Próxima página",
    ct_exported: "Exportação baixada.",
  },
  es: {
    section_contacts: "Contactos",
    ct_search: "Buscar por nombre, correo o número",
    ct_tag: "Etiqueta",
    ct_all_tags: "Todas las etiquetas",
    ct_status: "Campañas",
    ct_any: "Todos",
    ct_opted_in: "Reciben",
    ct_opted_out_only: "Dados de baja",
    ct_import: "Importar CSV",
    ct_export: "Exportar CSV",
    ct_name: "Nombre",
    ct_number: "Número",
    ct_email: "Correo",
    ct_tags: "Etiquetas",
    ct_opt: "Dado de baja",
    ct_opt_since: "desde {date}",
    ct_merge: "Combinar",
    ct_empty: "Ningún contacto coincide.",
    ct_prev: "Página anterior",
    ct_next: "Página siguiente",
    ct_exported: "Exportación descargada.",
  },
});

const PAGE_SIZE = 50;

async function allTags() {
  const items = [];
  let cursor = null;
  do {
    const page = await api("/api/tags", { query: { limit: 200, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function optOutCell(contact) {
  if (!contact.opted_out) return "";
  const since = contact.opted_out_at ? new Date(contact.opted_out_at).toLocaleDateString() : "";
  return h(
    "span",
    { className: "ct-opted-out" },
    h("strong", { text: t("ct_opt") }),
    contact.opted_out_reason ? h("span", { text: ` · ${contact.opted_out_reason}` }) : null,
    since ? h("span", { className: "muted", text: ` · ${t("ct_opt_since", { date: since })}` }) : null,
  );
}

export default {
  id: "contacts",
  titleKey: "section_contacts",
  roles: ["admin", "supervisor"],
  async render(root) {
    let tags = await allTags();
    const filters = { q: "", tag_id: "", opted_out: "" };
    let cursors = [null]; // the cursor of each page visited; the last is the one shown
    let nextCursor = null;
    let wizard = null;
    let shown = new Set(); // ids on the page shown, to follow their changes live

    const search = h("input", { attrs: { type: "search", id: "ct-search", maxlength: 200, autocomplete: "off" } });
    const tagFilter = select([["", t("ct_all_tags")], ...tags.map((tag) => [String(tag.id), tag.name])], "", { id: "ct-tag-filter" });
    const optFilter = select(
      [
        ["", t("ct_any")],
        ["false", t("ct_opted_in")],
        ["true", t("ct_opted_out_only")],
      ],
      "",
      { id: "ct-opt-filter" },
    );
    const error = h("p", { className: "form-error", attrs: { role: "alert", id: "ct-error" } });
    const panel = h("div", { className: "ct-panel", attrs: { id: "ct-panel" }, props: { hidden: true } });
    const importRoot = h("div", { attrs: { id: "ct-import" }, props: { hidden: true } });
    const list = h("div", { className: "ap-scroll", attrs: { id: "ct-list" } }, h("p", { className: "muted", text: t("loading") }));
    const prev = h("button", { attrs: { type: "button", id: "ct-prev" }, text: t("ct_prev"), on: { click: () => turn(-1) } });
    const next = h("button", { attrs: { type: "button", id: "ct-next" }, text: t("ct_next"), on: { click: () => turn(1) } });
    const importButton = h("button", {
      attrs: { type: "button", id: "ct-import-open" },
      text: t("ct_import"),
      on: { click: () => openImport() },
    });
    const exportButton = h("button", { attrs: { type: "button", id: "ct-export" }, text: t("ct_export"), on: { click: () => exportCsv() } });

    const labelled = (id, key, control) =>
      h("div", { className: "field ct-filter" }, h("label", { attrs: { for: id }, text: t(key) }), control);
    replace(
      root,
      h(
        "div",
        { className: "ap-toolbar ct-toolbar" },
        labelled("ct-search", "ct_search", search),
        labelled("ct-tag-filter", "ct_tag", tagFilter),
        labelled("ct-opt-filter", "ct_status", optFilter),
        h("div", { className: "ct-toolbar-buttons" }, importButton, exportButton),
      ),
      error,
      importRoot,
      panel,
      list,
      h("div", { className: "ap-buttons ct-pager" }, prev, next),
    );

    const refilter = () => {
      filters.q = search.value.trim();
      filters.tag_id = tagFilter.value;
      filters.opted_out = optFilter.value;
      cursors = [null];
      load();
    };
    search.addEventListener("input", debounce(refilter, 300));
    tagFilter.addEventListener("change", refilter);
    optFilter.addEventListener("change", refilter);

    function turn(step) {
      if (step > 0 && nextCursor) cursors.push(nextCursor);
      else if (step < 0 && cursors.length > 1) cursors.pop();
      else return;
      load();
    }

    async function load() {
      error.textContent = "";
      let page;
      try {
        page = await api("/api/contacts", { query: { ...filters, limit: PAGE_SIZE, cursor: cursors.at(-1) } });
      } catch (failure) {
        error.textContent = failure.message || t("error_generic");
        return;
      }
      nextCursor = page.next_cursor;
      shown = new Set(page.items.map((c) => c.id));
      prev.disabled = cursors.length <= 1;
      next.disabled = !nextCursor;
      if (!page.items.length) {
        replace(list, h("p", { className: "muted", text: t("ct_empty") }));
        return;
      }
      replace(
        list,
        table(
          [
            ["ct_name", (c) => c.name || "—"],
            ["ct_number", (c) => h("code", { text: c.number })],
            ["ct_email", (c) => c.email ?? ""],
            ["ct_tags", (c) => c.tags.map((tag) => tag.name).join(", ")],
            ["ct_opt", optOutCell],
            [
              "",
              (c) =>
                h(
                  "span",
                  { className: "ap-actions" },
                  h("button", {
                    attrs: { type: "button", "data-action": "edit", "aria-label": `${t("edit")}: ${label(c)}` },
                    text: t("edit"),
                    on: { click: () => openEditor(c) },
                  }),
                  h("button", {
                    attrs: { type: "button", "data-action": "merge", "aria-label": `${t("ct_merge")}: ${label(c)}` },
                    text: t("ct_merge"),
                    on: { click: () => openMerge(c) },
                  }),
                ),
            ],
          ],
          page.items,
          { className: "admin-table ap-table ct-table", rowAttrs: (c) => ({ "data-contact-id": c.id }) },
        ),
      );
    }

    function closePanel() {
      panel.hidden = true;
      panel.replaceChildren();
    }

    const afterChange = async () => {
      closePanel();
      tags = await allTags();
      await load();
    };

    function openEditor(contact) {
      editContact(panel, contact, tags, { onSaved: afterChange, onClose: closePanel });
    }

    function openMerge(contact) {
      mergeContact(panel, contact, { onSaved: afterChange, onClose: closePanel });
    }

    function openImport() {
      closePanel();
      wizard = importWizard(importRoot, {
        onDone: () => afterChange(),
        onClose: () => {
          wizard = null;
          importButton.focus();
        },
      });
    }

    async function exportCsv() {
      error.textContent = "";
      try {
        const blob = await api("/api/contacts/export.csv", { query: filters, blob: true });
        const url = URL.createObjectURL(blob);
        const link = h("a", { attrs: { href: url, download: "contacts.csv" }, props: { hidden: true } });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        toast(t("ct_exported"));
      } catch (failure) {
        error.textContent = failure.message || t("error_generic");
      }
    }

    const reloadSoon = debounce(() => load(), 500);
    await load();
    return {
      onEvent(event) {
        wizard?.onEvent(event);
        // Someone else changed a contact on this page (an agent in the inbox, the bot).
        if (event.type === "contact.updated" && shown.has(event.data?.id)) reloadSoon();
      },
      destroy() {
        wizard?.destroy();
      },
    };
  },
};
