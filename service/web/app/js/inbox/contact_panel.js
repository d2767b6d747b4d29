// The contact beside the chat: name, number, email and custom fields (editable), tags as
// coloured chips, whether they opted out, and their past tickets (a click opens one in the
// chat). Kept live by `contact.updated`; an overlay at phone width.
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, formatTime, t } from "../i18n.js";
import { toast } from "../ui/toast.js";

extend({
  en: {
    cp_toggle: "Contact",
    cp_title: "Contact",
    cp_close: "Close the contact panel",
    cp_loading: "Loading…",
    cp_gone: "This contact no longer exists.",
    cp_no_name: "(no name)",
    cp_number: "Number",
    cp_name: "Name",
    cp_email: "Email",
    cp_no_email: "No email",
    cp_fields: "Custom fields",
    cp_no_fields: "No custom fields.",
    cp_field_key: "Field name",
    cp_field_value: "Value of {key}",
    cp_field_value_new: "Value of the new field",
    cp_field_remove: "Remove the field {key}",
    cp_add_field: "+ Add a field",
    cp_key_missing: "Every field with a value needs a name.",
    cp_key_twice: "The field “{key}” appears twice.",
    cp_edit: "Edit",
    cp_save: "Save",
    cp_cancel: "Cancel",
    cp_saved: "Contact saved.",
    cp_tags: "Tags",
    cp_no_tags: "No tags.",
    cp_tag_add_label: "Add a tag",
    cp_tag_choose: "Choose a tag…",
    cp_tag_add: "Add",
    cp_tag_remove: "Remove the tag {name}",
    cp_no_company_tags: "The company has no tags yet.",
    cp_opted_in: "Receives messages.",
    cp_opted_out: "Opted out of messages on {date}.",
    cp_opted_out_undated: "Opted out of messages.",
    cp_tickets: "Tickets ({n})",
    cp_no_tickets: "No tickets you can see.",
    cp_more: "Load more",
  },
  "pt-BR": {
    cp_toggle: "Contato",
    cp_title: "Contato",
    cp_close: "Fechar o painel do contato",
    cp_loading: "Carregando…",
    cp_gone: "Este contato não existe mais.",
    cp_no_name: "(sem nome)",
    cp_number: "Número",
    cp_name: "Nome",
    cp_email: "E-mail",
    cp_no_email: "Sem e-mail",
    cp_fields: "Campos personalizados",
    cp_no_fields: "Nenhum campo personalizado.",
    cp_field_key: "Nome do campo",
    cp_field_value: "Valor de {key}",
    cp_field_value_new: "Valor do novo campo",
    cp_field_remove: "Remover o campo {key}",
    cp_add_field: "+ Adicionar campo",
    cp_key_missing: "Todo campo com valor precisa de um nome.",
    cp_key_twice: "O campo “{key}” aparece duas vezes.",
    cp_edit: "Editar",
    cp_save: "Salvar",
    cp_cancel: "Cancelar",
    cp_saved: "Contato salvo.",
    cp_tags: "Etiquetas",
    cp_no_tags: "Nenhuma etiqueta.",
    cp_tag_add_label: "Adicionar etiqueta",
    cp_tag_choose: "Escolha uma etiqueta…",
    cp_tag_add: "Adicionar",
    cp_tag_remove: "Remover a etiqueta {name}",
    cp_no_company_tags: "A empresa ainda não tem etiquetas.",
    cp_opted_in: "Recebe mensagens.",
    cp_opted_out: "Pediu para não receber mensagens em {date}.",
    cp_opted_out_undated: "Pediu para não receber mensagens.",
    cp_tickets: "Atendimentos ({n})",
    cp_no_tickets: "Nenhum atendimento que você possa ver.",
    cp_more: "Carregar mais",
  },
  es: {
    cp_toggle: "Contacto",
    cp_title: "Contacto",
    cp_close: "Cerrar el panel del contacto",
    cp_loading: "Cargando…",
    cp_gone: "Este contacto ya no existe.",
    cp_no_name: "(sin nombre)",
    cp_number: "Número",
    cp_name: "Nombre",
    cp_email: "Correo",
    cp_no_email: "Sin correo",
    cp_fields: "Campos personalizados",
    cp_no_fields: "Ningún campo personalizado.",
    cp_field_key: "Nombre del campo",
    cp_field_value: "Valor de {key}",
    cp_field_value_new: "Valor del nuevo campo",
    cp_field_remove: "Quitar el campo {key}",
    cp_add_field: "+ Añadir campo",
    cp_key_missing: "Todo campo con valor necesita un nombre.",
    cp_key_twice: "El campo “{key}” aparece dos veces.",
    cp_edit: "Editar",
    cp_save: "Guardar",
    cp_cancel: "Cancelar",
    cp_saved: "Contacto guardado.",
    cp_tags: "Etiquetas",
    cp_no_tags: "Sin etiquetas.",
    cp_tag_add_label: "Añadir etiqueta",
    cp_tag_choose: "Elige una etiqueta…",
    cp_tag_add: "Añadir",
    cp_tag_remove: "Quitar la etiqueta {name}",
    cp_no_company_tags: "La empresa aún no tiene etiquetas.",
    cp_opted_in: "Recibe mensajes.",
    cp_opted_out: "Pidió no recibir mensajes el {date}.",
    cp_opted_out_undated: "Pidió no recibir mensajes.",
    cp_tickets: "Atenciones ({n})",
    cp_no_tickets: "Ninguna atención que puedas ver.",
    cp_more: "Cargar más",
  },
});

// Scheduled messages to this contact (service/scheduled): a text, a time and maybe a file.
extend({
  en: {
    cp_sched_title: "Scheduled messages",
    cp_sched_body: "Message",
    cp_sched_at: "Send at",
    cp_sched_file: "File (optional)",
    cp_sched_submit: "Schedule",
    cp_sched_done: "Message scheduled.",
    cp_sched_none: "No scheduled messages.",
    cp_sched_cancel: "Cancel",
    cp_sched_cancel_label: "Cancel the message scheduled for {when}",
    cp_sched_cancelled_toast: "Scheduled message cancelled.",
    cp_sched_by: "by {name}",
    cp_sched_pending: "pending",
    cp_sched_sent: "sent",
    cp_sched_failed: "failed",
    cp_sched_cancelled: "cancelled",
    cp_sched_need_time: "Choose when to send it.",
  },
  "pt-BR": {
    cp_sched_title: "Mensagens agendadas",
    cp_sched_body: "Mensagem",
    cp_sched_at: "Enviar em",
    cp_sched_file: "Arquivo (opcional)",
    cp_sched_submit: "Agendar",
    cp_sched_done: "Mensagem agendada.",
    cp_sched_none: "Nenhuma mensagem agendada.",
    cp_sched_cancel: "Cancelar",
    cp_sched_cancel_label: "Cancelar a mensagem agendada para {when}",
    cp_sched_cancelled_toast: "Mensagem agendada cancelada.",
    cp_sched_by: "por {name}",
    cp_sched_pending: "pendente",
    cp_sched_sent: "enviada",
    cp_sched_failed: "falhou",
    cp_sched_cancelled: "cancelada",
    cp_sched_need_time: "Escolha quando enviar.",
  },
  es: {
    cp_sched_title: "Mensajes programados",
    cp_sched_body: "Mensaje",
    cp_sched_at: "Enviar el",
    cp_sched_file: "Archivo (opcional)",
    cp_sched_submit: "Programar",
    cp_sched_done: "Mensaje programado.",
    cp_sched_none: "Ningún mensaje programado.",
    cp_sched_cancel: "Cancelar",
    cp_sched_cancel_label: "Cancelar el mensaje programado para el {when}",
    cp_sched_cancelled_toast: "Mensaje programado cancelado.",
    cp_sched_by: "por {name}",
    cp_sched_pending: "pendiente",
    cp_sched_sent: "enviado",
    cp_sched_failed: "falló",
    cp_sched_cancelled: "cancelado",
    cp_sched_need_time: "Elige cuándo enviarlo.",
  },
});

const SCHEDULED_PAGE = 20;
const SCHEDULE_MANAGERS = new Set(["admin", "supervisor"]);

/** A file as base64 (without the data: prefix), for the JSON body. */
function fileAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(String(reader.result).replace(/^data:[^,]*,/, "")));
    reader.addEventListener("error", () => reject(reader.error));
    reader.readAsDataURL(file);
  });
}

// Mirrors service/contacts/api.py: every role reads and writes contacts (only deleting and
// the CSV import are for managers). Kept as a list so that a narrower rule is one edit away.
const WRITERS = new Set(["admin", "supervisor", "agent"]);
const TICKETS_PAGE = 20;
const PHONE_WIDTH = "(max-width: 720px)";

/** A custom field's value as text (numbers, booleans and null are stored as such). */
function shown(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

function errorText(error) {
  const fields = error?.fields
    ? Object.entries(error.fields).map(([field, problem]) => `${field}: ${problem}`)
    : [];
  return [error?.message || t("error_generic"), ...fields].join(" · ");
}

export class ContactPanel {
  /** onOpenTicket(id) opens a ticket in the chat; onToggle(open) follows the visibility. */
  constructor({ ctx, onOpenTicket, onToggle }) {
    this.ctx = ctx;
    this.onOpenTicket = onOpenTicket;
    this.onToggle = onToggle;
    this.contactId = null;
    this.ticketId = null;
    this.contact = null;
    this.tickets = [];
    this.nextCursor = null;
    this.companyTags = [];
    this.editing = false;
    this.generation = 0;

    this.title = h("h2", { className: "cp-title", attrs: { id: "cp-title" } });
    this.closeButton = h("button", {
      className: "icon-button cp-close",
      attrs: { type: "button", id: "cp-close" },
      text: "✕",
      on: { click: () => this.close({ focus: true }) },
    });
    this.details = h("div", { className: "cp-details" });
    this.tagsBox = h("section", { className: "cp-section", attrs: { "aria-labelledby": "cp-tags-title" } });
    this.optOut = h("p", { className: "cp-optout", attrs: { id: "cp-optout" } });
    this.ticketsBox = h("section", {
      className: "cp-section",
      attrs: { "aria-labelledby": "cp-tickets-title" },
    });
    this.scheduleBox = h("section", {
      className: "cp-section cp-schedule",
      attrs: { "aria-labelledby": "cp-sched-title", id: "cp-schedule" },
    });
    this.scheduled = [];
    this.status = h("p", { className: "cp-status muted", attrs: { role: "status" } });
    this.element = h(
      "aside",
      {
        className: "contact-panel",
        attrs: { id: "contact-panel", "aria-labelledby": "cp-title", tabindex: "-1" },
        on: {
          keydown: (event) => {
            if (event.key === "Escape") {
              event.preventDefault();
              this.close({ focus: true });
            }
          },
        },
      },
      h("header", { className: "cp-header" }, this.title, this.closeButton),
      h(
        "div",
        { className: "cp-body" },
        this.status,
        this.details,
        this.optOut,
        this.tagsBox,
        this.scheduleBox,
        this.ticketsBox,
      ),
    );
    this.element.hidden = true;
    this.texts();
  }

  get isOpen() {
    return !this.element.hidden;
  }

  get canEdit() {
    return WRITERS.has(this.ctx.me?.role);
  }

  texts() {
    this.title.textContent = t("cp_title");
    this.closeButton.setAttribute("aria-label", t("cp_close"));
    this.closeButton.title = t("cp_close");
  }

  /** Open the panel on this contact; `ticketId` is the chat's ticket (marked in the list). */
  async show(contactId, ticketId) {
    this.element.hidden = false;
    this.element.parentElement?.classList.add("panel-open");
    this.onToggle?.(true);
    this.contactId = null; // load even when it is the same contact: it may have changed
    await this.follow(contactId, ticketId);
    if (this.isOpen) this.closeButton.focus();
  }

  close({ focus = false } = {}) {
    if (!this.isOpen) return;
    this.element.hidden = true;
    this.element.parentElement?.classList.remove("panel-open");
    this.editing = false;
    this.onToggle?.(false, { focus });
  }

  /** The chat now shows `ticketId` of `contactId` (or nothing): follow it when open. */
  async follow(contactId, ticketId) {
    this.ticketId = ticketId;
    if (!this.isOpen) {
      this.contactId = contactId;
      return;
    }
    if (contactId === this.contactId && this.contact) {
      this.renderTickets();
      return;
    }
    this.contactId = contactId;
    await this.load();
  }

  async load() {
    this.generation += 1;
    const generation = this.generation;
    this.editing = false;
    this.contact = null;
    this.status.textContent = t("cp_loading");
    replace(this.details);
    replace(this.tagsBox);
    replace(this.ticketsBox);
    replace(this.scheduleBox);
    this.scheduleForm = null;
    this.optOut.textContent = "";
    const id = this.contactId;
    try {
      const [contact, tickets, tags, scheduled] = await Promise.all([
        api(`/api/contacts/${id}`),
        api("/api/tickets", { query: { contact_id: id, limit: TICKETS_PAGE } }),
        this.canEdit ? api("/api/tags", { query: { limit: 200 } }) : Promise.resolve({ items: [] }),
        api("/api/scheduled-messages", { query: { contact_id: id, limit: SCHEDULED_PAGE } }),
      ]);
      if (generation !== this.generation) return;
      this.scheduled = scheduled.items;
      this.contact = contact;
      this.tickets = tickets.items;
      this.nextCursor = tickets.next_cursor;
      this.companyTags = tags.items;
      this.status.textContent = "";
      this.render();
    } catch (error) {
      if (generation !== this.generation) return;
      this.status.textContent = error?.status === 404 ? t("cp_gone") : errorText(error);
    }
  }

  render() {
    if (!this.contact) return;
    if (!this.editing) this.renderDetails();
    this.renderOptOut();
    this.renderTags();
    this.renderSchedule();
    this.renderTickets();
  }

  // Name, number, email, custom fields ---------------------------------------------------

  renderDetails() {
    const c = this.contact;
    const fields = Object.entries(c.custom_fields ?? {});
    replace(
      this.details,
      h("p", { className: "cp-name", attrs: { id: "cp-name" }, text: c.name || t("cp_no_name") }),
      h("p", { className: "cp-number", attrs: { id: "cp-number" }, text: c.number }),
      h("p", {
        className: c.email ? "cp-email" : "cp-email muted",
        attrs: { id: "cp-email" },
        text: c.email || t("cp_no_email"),
      }),
      h("h3", { className: "cp-heading", text: t("cp_fields") }),
      fields.length
        ? h(
            "dl",
            { className: "cp-fields", attrs: { id: "cp-fields" } },
            fields.map(([key, value]) => [
              h("dt", { text: key }),
              h("dd", { text: shown(value), dataset: { key } }),
            ]),
          )
        : h("p", { className: "muted", attrs: { id: "cp-fields" }, text: t("cp_no_fields") }),
      this.canEdit
        ? h("button", {
            attrs: { type: "button", id: "cp-edit" },
            text: t("cp_edit"),
            on: { click: () => this.startEdit() },
          })
        : null,
    );
  }

  startEdit() {
    const c = this.contact;
    if (!c) return;
    this.editing = true;
    this.rows = [];
    const name = h("input", {
      attrs: { id: "cp-name-input", maxlength: 200, autocomplete: "off" },
      props: { value: c.name },
    });
    const email = h("input", {
      attrs: { id: "cp-email-input", type: "email", maxlength: 254, autocomplete: "off" },
      props: { value: c.email ?? "" },
    });
    this.fieldRows = h("ul", { className: "cp-field-rows", attrs: { id: "cp-field-rows" } });
    for (const [key, value] of Object.entries(c.custom_fields ?? {})) this.addRow(key, value);
    this.formError = h("p", { className: "form-error", attrs: { id: "cp-error", role: "alert" } });
    const save = h("button", {
      className: "primary",
      attrs: { type: "submit", id: "cp-save" },
      text: t("cp_save"),
    });
    const form = h(
      "form",
      {
        className: "cp-form",
        attrs: { id: "cp-form", novalidate: true },
        on: {
          submit: async (event) => {
            event.preventDefault();
            save.disabled = true;
            try {
              await this.save(name.value, email.value);
            } finally {
              save.disabled = false;
            }
          },
        },
      },
      h(
        "div",
        { className: "field" },
        h("label", { attrs: { for: "cp-name-input" }, text: t("cp_name") }),
        name,
      ),
      h(
        "div",
        { className: "field" },
        h("span", { className: "cp-label", text: t("cp_number") }),
        h("span", { className: "cp-number", text: c.number }),
      ),
      h(
        "div",
        { className: "field" },
        h("label", { attrs: { for: "cp-email-input" }, text: t("cp_email") }),
        email,
      ),
      h(
        "fieldset",
        { className: "cp-fieldset" },
        h("legend", { text: t("cp_fields") }),
        this.fieldRows,
        h("button", {
          attrs: { type: "button", id: "cp-add-field" },
          text: t("cp_add_field"),
          on: { click: () => this.addRow("", undefined, { focus: true }) },
        }),
      ),
      this.formError,
      h(
        "div",
        { className: "dialog-buttons" },
        h("button", {
          attrs: { type: "button", id: "cp-cancel" },
          text: t("cp_cancel"),
          on: { click: () => this.stopEdit() },
        }),
        save,
      ),
    );
    replace(this.details, form);
    name.focus();
  }

  /** One key/value row of the form; `original` keeps a number or boolean as it was. */
  addRow(key, original, { focus = false } = {}) {
    const keyInput = h("input", {
      className: "cp-key",
      attrs: { maxlength: 60, autocomplete: "off", "aria-label": t("cp_field_key") },
      props: { value: key },
    });
    const valueInput = h("input", {
      className: "cp-value",
      attrs: { autocomplete: "off", maxlength: 1000 },
      props: { value: shown(original) },
    });
    const remove = h("button", {
      className: "icon-button cp-remove",
      attrs: { type: "button" },
      text: "✕",
    });
    const label = () => {
      const k = keyInput.value.trim();
      valueInput.setAttribute("aria-label", k ? t("cp_field_value", { key: k }) : t("cp_field_value_new"));
      remove.setAttribute("aria-label", t("cp_field_remove", { key: k }));
      remove.title = remove.getAttribute("aria-label");
    };
    keyInput.addEventListener("input", label);
    label();
    const row = { keyInput, valueInput, original };
    const item = h("li", { className: "cp-field-row" }, keyInput, valueInput, remove);
    remove.addEventListener("click", () => {
      this.rows = this.rows.filter((r) => r !== row);
      item.remove();
      this.fieldRows.querySelector(".cp-key")?.focus();
    });
    this.rows.push(row);
    this.fieldRows.append(item);
    if (focus) keyInput.focus();
  }

  /** The rows as custom_fields, or an error message. */
  collectFields() {
    const fields = {};
    for (const { keyInput, valueInput, original } of this.rows) {
      const key = keyInput.value.trim();
      const text = valueInput.value;
      if (!key) {
        if (text.trim()) return { error: t("cp_key_missing") };
        continue;
      }
      if (key in fields) return { error: t("cp_key_twice", { key }) };
      // A value left as it was keeps its type (a number stays a number).
      fields[key] = original !== undefined && text === shown(original) ? original : text;
    }
    return { fields };
  }

  async save(name, email) {
    const { fields, error } = this.collectFields();
    if (error) {
      this.formError.textContent = error;
      return;
    }
    this.formError.textContent = "";
    const id = this.contactId;
    try {
      const contact = await api(`/api/contacts/${id}`, {
        method: "PATCH",
        body: { name: name.trim(), email: email.trim() || null, custom_fields: fields },
      });
      if (id !== this.contactId) return;
      this.contact = contact;
      this.stopEdit();
      toast(t("cp_saved"));
    } catch (failure) {
      this.formError.textContent = errorText(failure);
    }
  }

  stopEdit() {
    this.editing = false;
    this.renderDetails();
    this.details.querySelector("#cp-edit")?.focus();
  }

  // Opt-out, tags ------------------------------------------------------------------------

  renderOptOut() {
    const c = this.contact;
    this.optOut.classList.toggle("cp-optout-out", c.opted_out);
    this.optOut.dataset.optedOut = String(c.opted_out);
    if (!c.opted_out) this.optOut.textContent = t("cp_opted_in");
    else if (c.opted_out_at) this.optOut.textContent = t("cp_opted_out", { date: formatTime(c.opted_out_at) });
    else this.optOut.textContent = t("cp_opted_out_undated");
  }

  renderTags() {
    const c = this.contact;
    const focused = document.activeElement?.id;
    const chips = c.tags.map((tag) => {
      const chip = h(
        "li",
        { className: "tag-chip", dataset: { id: tag.id } },
        h("span", { className: "tag-name", text: tag.name }),
        this.canEdit
          ? h("button", {
              className: "tag-remove",
              attrs: { type: "button", "aria-label": t("cp_tag_remove", { name: tag.name }) },
              text: "✕",
              on: { click: () => this.setTags(c.tags.filter((x) => x.id !== tag.id).map((x) => x.id)) },
            })
          : null,
      );
      chip.style.setProperty("--tag-color", tag.color); // the CSSOM, which the policy allows
      return chip;
    });
    let adder = null;
    if (this.canEdit) {
      const mine = new Set(c.tags.map((tag) => tag.id));
      const free = this.companyTags.filter((tag) => !mine.has(tag.id));
      if (!this.companyTags.length) {
        adder = h("p", { className: "muted", text: t("cp_no_company_tags") });
      } else if (free.length) {
        const select = h(
          "select",
          { attrs: { id: "cp-tag-select" } },
          h("option", { attrs: { value: "" }, text: t("cp_tag_choose") }),
          free.map((tag) => h("option", { attrs: { value: tag.id }, text: tag.name })),
        );
        adder = h(
          "form",
          {
            className: "cp-tag-add",
            on: {
              submit: (event) => {
                event.preventDefault();
                if (select.value) this.setTags([...mine, Number(select.value)]);
              },
            },
          },
          h("label", { className: "cp-label", attrs: { for: "cp-tag-select" }, text: t("cp_tag_add_label") }),
          select,
          h("button", { attrs: { type: "submit", id: "cp-tag-add" }, text: t("cp_tag_add") }),
        );
      }
    }
    replace(
      this.tagsBox,
      h("h3", { className: "cp-heading", attrs: { id: "cp-tags-title" }, text: t("cp_tags") }),
      chips.length
        ? h("ul", { className: "cp-tags", attrs: { id: "cp-tags" } }, chips)
        : h("p", { className: "muted", attrs: { id: "cp-tags" }, text: t("cp_no_tags") }),
      adder,
    );
    if (focused === "cp-tag-select" || focused === "cp-tag-add") {
      (this.tagsBox.querySelector("#cp-tag-select") ?? this.tagsBox.querySelector("h3"))?.focus();
    }
  }

  async setTags(tagIds) {
    const id = this.contactId;
    try {
      const contact = await api(`/api/contacts/${id}/tags`, {
        method: "POST",
        body: { tag_ids: tagIds },
      });
      if (id !== this.contactId) return;
      this.contactUpdated(contact);
      this.tagsBox.querySelector("#cp-tag-select, .tag-remove")?.focus();
    } catch (error) {
      toast(errorText(error), "error");
    }
  }

  // Past tickets -------------------------------------------------------------------------

  renderTickets() {
    if (!this.contact) return;
    const items = this.tickets.map((ticket) => {
      const queue = ticket.queue_id ? this.ctx.queues.get(ticket.queue_id) : null;
      const date = formatTime(ticket.created_at);
      const current = ticket.id === this.ticketId;
      return h(
        "li",
        {},
        h(
          "button",
          {
            className: "cp-ticket",
            attrs: {
              type: "button",
              "aria-current": current ? "true" : null,
            },
            dataset: { id: ticket.id, status: ticket.status },
            on: { click: () => this.pick(ticket.id) },
          },
          h("span", { className: "cp-ticket-id", text: `#${ticket.id}` }),
          h("span", { className: `cp-ticket-status status-${ticket.status}`, text: t(`status_${ticket.status}`) }),
          queue ? h("span", { className: "cp-ticket-queue", text: queue.name }) : null,
          h("time", { attrs: { datetime: ticket.created_at }, text: date }),
          ticket.rating ? h("span", { className: "stars", text: `★ ${ticket.rating}` }) : null,
        ),
      );
    });
    replace(
      this.ticketsBox,
      h("h3", {
        className: "cp-heading",
        attrs: { id: "cp-tickets-title" },
        text: t("cp_tickets", { n: this.contact.tickets_count }),
      }),
      items.length
        ? h("ul", { className: "cp-tickets", attrs: { id: "cp-tickets" } }, items)
        : h("p", { className: "muted", text: t("cp_no_tickets") }),
      this.nextCursor
        ? h("button", {
            className: "load-more",
            attrs: { type: "button", id: "cp-more" },
            text: t("cp_more"),
            on: { click: () => this.loadMoreTickets() },
          })
        : null,
    );
  }

  async loadMoreTickets() {
    const id = this.contactId;
    try {
      const page = await api("/api/tickets", {
        query: { contact_id: id, limit: TICKETS_PAGE, cursor: this.nextCursor },
      });
      if (id !== this.contactId) return;
      const known = new Set(this.tickets.map((ticket) => ticket.id));
      this.tickets.push(...page.items.filter((ticket) => !known.has(ticket.id)));
      this.nextCursor = page.next_cursor;
      this.renderTickets();
      this.ticketsBox.querySelector("#cp-more")?.focus();
    } catch (error) {
      toast(errorText(error), "error");
    }
  }

  pick(ticketId) {
    // At phone width the panel covers the chat: get out of the way of the ticket opened.
    if (window.matchMedia(PHONE_WIDTH).matches) this.close();
    this.onOpenTicket?.(ticketId);
  }

  // Scheduled messages ---------------------------------------------------------------------

  /** The form (built once per contact, so that what is typed survives live updates) and
   * the contact's scheduled messages, newest first. */
  renderSchedule() {
    if (!this.scheduleForm) this.scheduleForm = this.buildScheduleForm();
    const me = this.ctx.me;
    const items = this.scheduled.map((row) => {
      const when = formatTime(row.send_at);
      const mayCancel =
        row.status === "pending" && (SCHEDULE_MANAGERS.has(me?.role) || (me && row.user_id === me.id));
      return h(
        "li",
        { className: "cp-sched-item", dataset: { id: row.id, status: row.status } },
        h(
          "div",
          { className: "cp-sched-meta" },
          h("time", { attrs: { datetime: row.send_at }, text: when }),
          h("span", { className: `cp-sched-status cp-sched-${row.status}`, text: t(`cp_sched_${row.status}`) }),
          row.user_name ? h("span", { className: "muted", text: t("cp_sched_by", { name: row.user_name }) }) : null,
        ),
        row.body ? h("p", { className: "cp-sched-body", text: row.body }) : null,
        row.media_name ? h("p", { className: "cp-sched-file muted", text: `📎 ${row.media_name}` }) : null,
        row.status === "failed" && row.reason ? h("p", { className: "cp-sched-reason", text: row.reason }) : null,
        mayCancel
          ? h("button", {
              className: "cp-sched-cancel",
              attrs: { type: "button", "aria-label": t("cp_sched_cancel_label", { when }) },
              text: t("cp_sched_cancel"),
              on: { click: () => this.cancelScheduled(row) },
            })
          : null,
      );
    });
    replace(
      this.scheduleBox,
      h("h3", { className: "cp-heading", attrs: { id: "cp-sched-title" }, text: t("cp_sched_title") }),
      this.scheduleForm,
      items.length
        ? h("ul", { className: "cp-sched-list", attrs: { id: "cp-sched-list" } }, items)
        : h("p", { className: "muted", attrs: { id: "cp-sched-none" }, text: t("cp_sched_none") }),
    );
  }

  buildScheduleForm() {
    const body = h("textarea", { attrs: { id: "cp-sched-body", rows: 2, maxlength: 4096 } });
    const at = h("input", { attrs: { id: "cp-sched-at", type: "datetime-local", required: true } });
    const file = h("input", { attrs: { id: "cp-sched-file", type: "file" } });
    const error = h("p", { className: "cp-sched-error", attrs: { role: "alert", id: "cp-sched-error" } });
    const submit = h("button", { className: "primary", attrs: { type: "submit", id: "cp-sched-submit" } });
    const labels = [
      h("label", { attrs: { for: "cp-sched-body" } }),
      h("label", { attrs: { for: "cp-sched-at" } }),
      h("label", { attrs: { for: "cp-sched-file" } }),
    ];
    const form = h(
      "form",
      { className: "cp-sched-form", attrs: { id: "cp-sched-form", novalidate: true } },
      labels[0],
      body,
      labels[1],
      at,
      labels[2],
      file,
      error,
      submit,
    );
    form.texts = () => {
      labels[0].textContent = t("cp_sched_body");
      labels[1].textContent = t("cp_sched_at");
      labels[2].textContent = t("cp_sched_file");
      submit.textContent = t("cp_sched_submit");
    };
    form.texts();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const when = at.value ? new Date(at.value) : null;
      if (!when || Number.isNaN(when.getTime())) {
        error.textContent = t("cp_sched_need_time");
        at.focus();
        return;
      }
      const ticket = this.tickets.find((known) => known.id === this.ticketId);
      const payload = {
        contact_id: this.contactId,
        body: body.value.trim(),
        send_at: when.toISOString(),
      };
      if (ticket?.connection_id) payload.connection_id = ticket.connection_id;
      submit.disabled = true;
      try {
        const chosen = file.files?.[0];
        if (chosen) {
          payload.media = {
            filename: chosen.name,
            mime: chosen.type || null,
            content_base64: await fileAsBase64(chosen),
          };
        }
        const row = await api("/api/scheduled-messages", { method: "POST", body: payload });
        body.value = "";
        at.value = "";
        file.value = "";
        this.scheduledChanged(row);
        toast(t("cp_sched_done"));
      } catch (failure) {
        error.textContent = errorText(failure);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  async cancelScheduled(row) {
    try {
      const cancelled = await api(`/api/scheduled-messages/${row.id}`, { method: "DELETE" });
      this.scheduledChanged(cancelled);
      toast(t("cp_sched_cancelled_toast"));
    } catch (error) {
      toast(errorText(error), "error");
    }
  }

  /** A scheduled message as it is now (ours, or `scheduled.updated`). */
  scheduledChanged(row) {
    if (!row || row.contact_id !== this.contactId || !this.isOpen || !this.contact) return;
    const index = this.scheduled.findIndex((known) => known.id === row.id);
    if (index >= 0) this.scheduled[index] = row;
    else this.scheduled.unshift(row);
    this.renderSchedule();
  }

  /** The contact's scheduled messages again (one of them may just have been sent). */
  async refreshScheduled() {
    const id = this.contactId;
    try {
      const page = await api("/api/scheduled-messages", { query: { contact_id: id, limit: SCHEDULED_PAGE } });
      if (id !== this.contactId || !this.contact) return;
      this.scheduled = page.items;
      this.renderSchedule();
    } catch {
      // A live courtesy: the list is right again on the next load.
    }
  }

  // Live ---------------------------------------------------------------------------------

  /** `contact.updated`, or our own change's answer: the contact as it is now. */
  contactUpdated(contact) {
    if (!contact || contact.id !== this.contactId || !this.isOpen || !this.contact) return;
    this.contact = contact;
    this.render();
  }

  /** A ticket changed (or arrived): keep its row in the list as it is now. */
  ticketChanged(ticket) {
    if (!this.isOpen || !this.contact || ticket.contact?.id !== this.contactId) return;
    const index = this.tickets.findIndex((known) => known.id === ticket.id);
    if (index >= 0) this.tickets[index] = ticket;
    else if (!this.tickets.length || ticket.id > this.tickets[0].id) this.tickets.unshift(ticket);
    else return;
    this.renderTickets();
    // A scheduled message becomes a message of one of the contact's tickets.
    if (this.scheduled.some((row) => row.status === "pending")) this.refreshScheduled();
  }

  retranslate() {
    this.texts();
    this.scheduleForm?.texts();
    if (!this.isOpen || !this.contact) return;
    this.render();
  }
}
