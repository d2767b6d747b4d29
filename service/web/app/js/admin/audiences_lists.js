// Contact lists: create, rename, delete; a list's members with remove, and contacts added
// by searching. Text always goes in as text.
import { api } from "../api.js";
import { debounce, h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, showErrors, table } from "./forms.js";

extend({
  en: {
    au_lists: "Contact lists",
    au_list_name: "List name",
    au_list_create: "Create list",
    au_list_created: "List created.",
    au_list_members: "Members",
    au_list_open: "Members",
    au_list_rename: "Rename",
    au_list_renamed: "List renamed.",
    au_list_deleted: "List deleted.",
    au_list_delete_confirm: "Delete the list “{name}”? Its contacts stay.",
    au_lists_empty: "No lists yet.",
    au_members_of: "Members of “{name}”",
    au_members_empty: "Nobody in this list yet.",
    au_member_remove: "Remove",
    au_member_removed: "Removed from the list.",
    au_add_search: "Add contacts: search by name or number",
    au_add: "Add",
    au_added: "{count} added.",
    au_no_results: "No contact found.",
    au_more: "Load more",
    au_close: "Close",
    au_contact: "Contact",
    au_number: "Number",
    au_opted_out: "opted out",
  },
  "pt-BR": {
    au_lists: "Listas de contatos",
    au_list_name: "Nome da lista",
    au_list_create: "Criar lista",
    au_list_created: "Lista criada.",
    au_list_members: "Membros",
    au_list_open: "Membros",
    au_list_rename: "Renomear",
    au_list_renamed: "Lista renomeada.",
    au_list_deleted: "Lista excluída.",
    au_list_delete_confirm: "Excluir a lista “{name}”? Os contatos continuam.",
    au_lists_empty: "Nenhuma lista ainda.",
    au_members_of: "Membros de “{name}”",
    au_members_empty: "Ninguém nesta lista ainda.",
    au_member_remove: "Remover",
    au_member_removed: "Removido da lista.",
    au_add_search: "Adicionar contatos: busque por nome ou número",
    au_add: "Adicionar",
    au_added: "{count} adicionado(s).",
    au_no_results: "Nenhum contato encontrado.",
    au_more: "Carregar mais",
    au_close: "Fechar",
    au_contact: "Contato",
    au_number: "Número",
    au_opted_out: "descadastrado",
  },
  es: {
    au_lists: "Listas de contactos",
    au_list_name: "Nombre de la lista",
    au_list_create: "Crear lista",
    au_list_created: "Lista creada.",
    au_list_members: "Miembros",
    au_list_open: "Miembros",
    au_list_rename: "Renombrar",
    au_list_renamed: "Lista renombrada.",
    au_list_deleted: "Lista eliminada.",
    au_list_delete_confirm: "¿Eliminar la lista “{name}”? Sus contactos se quedan.",
    au_lists_empty: "Todavía no hay listas.",
    au_members_of: "Miembros de “{name}”",
    au_members_empty: "Todavía no hay nadie en esta lista.",
    au_member_remove: "Quitar",
    au_member_removed: "Quitado de la lista.",
    au_add_search: "Añadir contactos: busque por nombre o número",
    au_add: "Añadir",
    au_added: "{count} añadido(s).",
    au_no_results: "Ningún contacto encontrado.",
    au_more: "Cargar más",
    au_close: "Cerrar",
    au_contact: "Contacto",
    au_number: "Número",
    au_opted_out: "dado de baja",
  },
});

function contactName(contact) {
  return contact.name || contact.number;
}

/** The lists panel; `reload()` refreshes it (after a segment made a list). */
export function listsPanel() {
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const rows = h("div", { className: "ap-scroll" }, h("p", { className: "muted", text: t("loading") }));
  const members = h("div", { className: "au-members", attrs: { id: "au-members" }, props: { hidden: true } });
  const name = input({ type: "text", maxlength: 120, required: true, autocomplete: "off", id: "au-list-name" });
  const createForm = h(
    "form",
    { className: "au-inline-form", attrs: { id: "au-list-form", novalidate: true } },
    field("name", name, { labelKey: "au_list_name" }),
    h("button", { className: "primary", attrs: { type: "submit" }, text: t("au_list_create") }),
    h("p", { className: "form-error", attrs: { role: "alert" } }),
  );
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(createForm);
    try {
      await api("/api/contact-lists", { method: "POST", body: { name: name.value.trim() } });
      name.value = "";
      toast(t("au_list_created"));
      await reload();
    } catch (failure) {
      showErrors(createForm, failure);
    }
  });
  const element = h(
    "section",
    { className: "ap-part au-panel", attrs: { "aria-labelledby": "au-lists-title", id: "au-lists" } },
    h("h2", { className: "ap-subheading", attrs: { id: "au-lists-title" }, text: t("au_lists") }),
    createForm,
    error,
    rows,
    members,
  );

  async function reload() {
    const page = await api("/api/contact-lists", { query: { limit: 200 } });
    if (!page.items.length) {
      replace(rows, h("p", { className: "muted", text: t("au_lists_empty") }));
      return;
    }
    replace(
      rows,
      table(
        [
          ["au_list_name", (list) => h("span", { className: "ap-break", text: list.name })],
          ["au_list_members", (list) => String(list.members_count)],
          [
            "",
            (list) =>
              h(
                "span",
                { className: "ap-actions" },
                h("button", {
                  attrs: { type: "button", "data-action": "members", "aria-label": `${t("au_list_open")}: ${list.name}` },
                  text: t("au_list_open"),
                  on: { click: () => openMembers(list) },
                }),
                h("button", {
                  attrs: { type: "button", "data-action": "rename", "aria-label": `${t("au_list_rename")}: ${list.name}` },
                  text: t("au_list_rename"),
                  on: { click: (event) => rename(list, event.currentTarget) },
                }),
                h("button", {
                  className: "ap-danger",
                  attrs: { type: "button", "data-action": "delete", "aria-label": `${t("delete")}: ${list.name}` },
                  text: t("delete"),
                  on: { click: () => remove(list) },
                }),
              ),
          ],
        ],
        page.items,
        { className: "admin-table ap-table", rowAttrs: (list) => ({ "data-list-id": list.id }) },
      ),
    );
  }

  function rename(list, button) {
    const cell = button.closest("tr").querySelector("td");
    const box = input({ type: "text", maxlength: 120, "aria-label": t("au_list_name") }, list.name);
    const form = h(
      "form",
      { className: "au-inline-form", attrs: { novalidate: true } },
      field("name", box, { labelKey: "au_list_name" }),
      h("button", { className: "primary", attrs: { type: "submit" }, text: t("save") }),
      h("p", { className: "form-error", attrs: { role: "alert" } }),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/api/contact-lists/${list.id}`, { method: "PATCH", body: { name: box.value.trim() } });
        toast(t("au_list_renamed"));
        await reload();
      } catch (failure) {
        showErrors(form, failure);
      }
    });
    replace(cell, form);
    box.focus();
  }

  async function remove(list) {
    error.textContent = "";
    if (!(await confirmDialog(t("au_list_delete_confirm", { name: list.name }), { confirmKey: "delete" }))) return;
    try {
      await api(`/api/contact-lists/${list.id}`, { method: "DELETE" });
      toast(t("au_list_deleted"));
      if (members.dataset.listId === String(list.id)) closeMembers();
      await reload();
    } catch (failure) {
      error.textContent = failure.message || t("error_generic");
    }
  }

  function closeMembers() {
    members.hidden = true;
    members.replaceChildren();
    delete members.dataset.listId;
  }

  function openMembers(list) {
    members.dataset.listId = String(list.id);
    const tableBox = h("div", { className: "ap-scroll" });
    const more = h("button", { attrs: { type: "button" }, text: t("au_more"), props: { hidden: true } });
    const search = input({ type: "search", autocomplete: "off", id: "au-add-search" });
    const results = h("ul", { className: "au-results", attrs: { id: "au-add-results", "aria-live": "polite" } });
    const shown = [];
    let cursor = null;

    async function loadMembers(reset) {
      if (reset) {
        shown.length = 0;
        cursor = null;
      }
      const page = await api(`/api/contact-lists/${list.id}/members`, { query: { limit: 50, cursor } });
      shown.push(...page.items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!shown.length) {
        replace(tableBox, h("p", { className: "muted", text: t("au_members_empty") }));
        return;
      }
      replace(
        tableBox,
        table(
          [
            ["au_contact", (m) => h("span", { className: "ap-break", text: contactName(m.contact) })],
            ["au_number", (m) => m.contact.number],
            [
              "",
              (m) =>
                h("button", {
                  attrs: { type: "button", "data-action": "remove", "aria-label": `${t("au_member_remove")}: ${contactName(m.contact)}` },
                  text: t("au_member_remove"),
                  on: { click: () => removeMember(m) },
                }),
            ],
          ],
          shown,
          { className: "admin-table ap-table", rowAttrs: (m) => ({ "data-contact-id": m.contact.id }) },
        ),
      );
    }

    async function removeMember(member) {
      await api(`/api/contact-lists/${list.id}/members`, { method: "DELETE", body: { contact_ids: [member.contact.id] } });
      toast(t("au_member_removed"));
      await Promise.all([loadMembers(true), reload()]);
    }

    async function add(contact) {
      const result = await api(`/api/contact-lists/${list.id}/members`, {
        method: "POST",
        body: { contact_ids: [contact.id] },
      });
      toast(t("au_added", { count: result.changed }));
      await Promise.all([loadMembers(true), reload()]);
    }

    const find = debounce(async () => {
      const q = search.value.trim();
      if (!q) {
        results.replaceChildren();
        return;
      }
      const page = await api("/api/contacts", { query: { q, limit: 10 } });
      if (!page.items.length) {
        replace(results, h("li", { className: "muted", text: t("au_no_results") }));
        return;
      }
      replace(
        results,
        ...page.items.map((contact) =>
          h(
            "li",
            { className: "au-result" },
            h("span", { className: "ap-break", text: `${contactName(contact)} · ${contact.number}` }),
            contact.opted_out ? h("span", { className: "muted", text: ` (${t("au_opted_out")})` }) : null,
            h("button", {
              attrs: { type: "button", "aria-label": `${t("au_add")}: ${contactName(contact)}` },
              text: t("au_add"),
              on: { click: () => add(contact) },
            }),
          ),
        ),
      );
    }, 250);
    search.addEventListener("input", find);
    more.addEventListener("click", () => loadMembers(false));

    replace(
      members,
      h(
        "div",
        { className: "au-members-head" },
        h("h3", { className: "ap-subheading", text: t("au_members_of", { name: list.name }) }),
        h("button", { attrs: { type: "button" }, text: t("au_close"), on: { click: closeMembers } }),
      ),
      field("q", search, { labelKey: "au_add_search" }),
      results,
      tableBox,
      more,
    );
    members.hidden = false;
    loadMembers(true);
    search.focus();
  }

  return { element, reload };
}
