// The chat pane: the open ticket's header and actions, its history (newest page first,
// older pages as one scrolls up), live messages and status ticks, and the composer.
import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { uploadError } from "./attachments.js";
import { Composer } from "./composer.js";
import { ContactPanel } from "./contact_panel.js";
import { historyElement } from "./history.js";
import { messageElement } from "./messages.js";
import { transferDialog } from "./transfer.js";

extend({
  en: { answers_campaign: "answers the campaign “{name}”" },
  "pt-BR": { answers_campaign: "responde à campanha “{name}”" },
  es: { answers_campaign: "responde a la campaña “{name}”" },
});

const PAGE = 50;
const EARLY_LIMIT = 200;
// A message's status only moves forward; a failure may still be retried and sent.
const RANK = { pending: 0, failed: 0.5, sent: 1, delivered: 2, read: 3 };

/** `next` with the status of `known` when that one is further along (an older snapshot,
 * such as the POST's answer, may arrive after the receipt that moved the message on). */
function furthest(next, known) {
  if (!known || (RANK[known.status] ?? 0) <= (RANK[next.status] ?? 0)) return next;
  return { ...next, status: known.status, error: known.error ?? next.error };
}
const NEAR_TOP_PX = 80;
const NEAR_BOTTOM_PX = 120;

export function initial(name) {
  const letter = [...String(name || "?").trim()][0] ?? "?";
  return letter.toUpperCase();
}

export class ChatPane {
  /** ctx: {me, queues, users, online}; onBack() returns to the list at phone width;
   * onOpenTicket(id) opens another ticket (from the contact panel's history). */
  constructor({ root, ctx, store, onBack, onGone, onOpenTicket }) {
    this.root = root;
    this.ctx = ctx;
    this.store = store;
    this.onBack = onBack;
    this.onGone = onGone;
    this.ticketId = null;
    this.messages = new Map();
    this.elements = new Map();
    // The ticket's history lines (accepted, transferred, closed…), by id, and their items.
    this.lines = new Map();
    this.lineElements = new Map();
    // Status changes of messages not shown yet (the receipt can beat the message itself).
    this.early = new Map();
    this.nextCursor = null;
    this.loadingOlder = false;
    this.generation = 0;
    this.composer = new Composer({
      onSend: (text, options) => this.send(text, options),
      onTyping: (typing) => this.typing(typing),
    });
    this.panel = new ContactPanel({
      ctx,
      onOpenTicket,
      onToggle: (open, { focus = false } = {}) => {
        this.contactButton?.setAttribute("aria-expanded", String(open));
        if (focus) this.contactButton?.focus();
      },
    });
    // Beside the chat in the inbox's grid (an overlay when the screen is narrow); a new
    // login builds a new pane, whose panel replaces the last one.
    document.getElementById("contact-panel")?.remove();
    root.parentElement?.classList.remove("panel-open");
    root.after(this.panel.element);
    this.markRead = debounceRead(() => this.read());
    this.showEmpty();
  }

  get ticket() {
    return this.ticketId === null ? null : this.store.get(this.ticketId);
  }

  showEmpty(noticeKey = "select_ticket") {
    this.composer?.drop();
    this.panel?.close();
    this.ticketId = null;
    this.root.classList.remove("has-ticket");
    replace(
      this.root,
      h("div", { className: "chat-empty" }, h("p", { text: t(noticeKey), dataset: { notice: noticeKey } })),
    );
  }

  /** Open a ticket (already in the store). */
  async open(id) {
    this.generation += 1;
    const generation = this.generation;
    if (this.ticketId !== null && this.ticketId !== id) this.composer.leave();
    this.ticketId = id;
    this.messages.clear();
    this.elements.clear();
    this.lines.clear();
    this.lineElements.clear();
    this.early.clear();
    this.nextCursor = null;
    this.shownStatus = undefined;
    this.build();
    this.composer.reset();
    this.renderTicket();
    const contactId = this.ticket?.contact?.id;
    if (contactId) this.panel.follow(contactId, id);
    await Promise.all([this.loadNewest(generation), this.loadHistory(generation)]);
    this.read();
    if (generation === this.generation) this.composer.focus();
  }

  build() {
    this.title = h("h2", { className: "chat-name", attrs: { id: "chat-name" } });
    this.subtitle = h("p", { className: "chat-sub", attrs: { id: "chat-sub" } });
    this.avatar = h("span", { className: "avatar", attrs: { "aria-hidden": "true" } });
    this.actions = h("div", { className: "chat-actions" });
    this.contactButton = h("button", {
      className: "contact-toggle",
      attrs: {
        type: "button",
        id: "contact-toggle",
        "aria-controls": "contact-panel",
        "aria-expanded": String(this.panel.isOpen),
      },
      on: { click: () => this.toggleContact() },
    });
    this.back = h("button", {
      className: "icon-button back-button",
      attrs: { type: "button" },
      text: "←",
      on: { click: () => this.onBack() },
    });
    this.historyNote = h("p", { className: "history-note" });
    this.list = h("ol", { className: "message-list", attrs: { id: "message-list" } });
    this.scroller = h(
      "div",
      {
        className: "messages",
        attrs: { role: "log", tabindex: "0", "aria-labelledby": "chat-name" },
        on: { scroll: () => this.scrolled() },
      },
      this.historyNote,
      this.list,
    );
    this.root.classList.add("has-ticket");
    replace(
      this.root,
      h(
        "header",
        { className: "chat-header" },
        this.back,
        this.avatar,
        h("div", { className: "chat-title" }, this.title, this.subtitle),
        this.contactButton,
        this.actions,
      ),
      this.scroller,
      this.composer.element,
    );
  }

  /** The header, actions and composer state from the ticket as the store has it now. */
  renderTicket() {
    const ticket = this.ticket;
    if (!ticket || !this.title) return;
    this.shownStatus = ticket.status;
    const { me } = this.ctx;
    this.back.setAttribute("aria-label", t("back"));
    this.back.title = t("back");
    this.contactButton.textContent = t("cp_toggle");
    this.title.textContent = ticket.contact.name || ticket.contact.number;
    this.avatar.textContent = initial(ticket.contact.name || ticket.contact.number);
    const queue = ticket.queue_id ? this.ctx.queues.get(ticket.queue_id) : null;
    const agent = ticket.user_id ? this.ctx.users.get(ticket.user_id) : null;
    const parts = [
      ticket.contact.number,
      t(`status_${ticket.status}`),
      queue ? queue.name : null,
      agent ? t("assigned_to", { name: agent.name }) : null,
      ticket.campaign ? t("answers_campaign", { name: ticket.campaign.name }) : null,
    ].filter(Boolean);
    replace(
      this.subtitle,
      parts.join(" · "),
      ticket.rating
        ? h("span", {
            className: "rating",
            attrs: { id: "chat-rating" },
            text: ` · ★ ${t("rating", { n: ticket.rating })}`,
          })
        : null,
    );
    this.subtitle.dataset.status = ticket.status;

    this.renderActions(ticket);

    const staff = me.role === "admin" || me.role === "supervisor";
    let blocked = null;
    if (ticket.status === "closed") blocked = "cannot_write_closed";
    else if (!staff && ticket.status === "pending") blocked = "cannot_write_pending";
    else if (!staff && ticket.user_id !== me.id) blocked = "cannot_write_other";
    this.composer.setBlocked(blocked);
  }

  /** The action buttons; rebuilt only when they change, so that focus stays where it is. */
  renderActions(ticket) {
    const keys = [];
    if (ticket.status === "pending") keys.push("accept");
    if (ticket.status !== "closed") keys.push("transfer", "close");
    else keys.push("reopen");
    const signature = `${keys.join(",")}@${t("accept")}`;
    if (this.actions.dataset.signature === signature) return;
    this.actions.dataset.signature = signature;
    const focused = document.activeElement?.dataset?.action;
    const run = {
      accept: () => this.act("accept"),
      transfer: () => this.transfer(),
      close: () => this.act("close"),
      reopen: () => this.act("reopen"),
    };
    replace(
      this.actions,
      keys.map((key) =>
        h("button", {
          className: key === "accept" ? "primary" : "",
          attrs: { type: "button", "data-action": key },
          text: t(key),
          on: { click: () => run[key]() },
        }),
      ),
    );
    if (focused) this.actions.querySelector(`[data-action="${focused}"]`)?.focus();
  }

  async act(action) {
    const id = this.ticketId;
    try {
      const ticket = await api(`/api/tickets/${id}/${action}`, { method: "POST" });
      if (ticket && ticket.id) this.store.put(ticket);
      if (action === "accept" || action === "reopen") this.composer.focus();
    } catch (error) {
      toast(error.message || t("error_generic"), "error");
    }
  }

  /** Show or hide the contact panel for the open ticket's contact. */
  toggleContact() {
    const ticket = this.ticket;
    if (this.panel.isOpen) this.panel.close({ focus: true });
    else if (ticket) this.panel.show(ticket.contact.id, ticket.id);
  }

  /** "typing…" on the customer's phone; a courtesy, so a failure is not the agent's concern. */
  async typing(typing) {
    const id = this.ticketId;
    if (id === null) return;
    try {
      await api(`/api/tickets/${id}/typing`, { method: "POST", body: { typing } });
    } catch {
      // The phone drops the indicator by itself.
    }
  }

  async transfer() {
    const ticket = this.ticket;
    if (!ticket) return;
    // Whether I still see the ticket depends on where it went: the feed tells, in order
    // (ticket.updated, or ticket.removed), so the response is not stored over it.
    await transferDialog(ticket, this.ctx);
  }

  async send(text, { note, file }) {
    const id = this.ticketId;
    if (file && !note) {
      await this.sendFile(id, file, text);
      return;
    }
    const path = note ? `/api/tickets/${id}/notes` : `/api/tickets/${id}/messages`;
    try {
      const message = await api(path, { method: "POST", body: { text } });
      this.add([message], { stick: true });
    } catch (error) {
      toast(error.message || t("error_generic"), "error");
      throw error;
    }
  }

  /** A file, with the composer's text as its caption; a refusal (413, 422) keeps both. */
  async sendFile(id, file, caption) {
    const form = new FormData();
    form.append("file", file, file.name || "file");
    if (caption) form.append("caption", caption);
    try {
      const message = await api(`/api/tickets/${id}/media`, { method: "POST", body: form });
      this.add([message], { stick: true });
    } catch (error) {
      toast(uploadError(error, file), "error");
      throw error;
    }
  }

  async loadNewest(generation = this.generation) {
    const id = this.ticketId;
    this.historyNote.textContent = t("loading");
    try {
      const page = await api(`/api/tickets/${id}/messages`, { query: { limit: PAGE } });
      if (generation !== this.generation) return;
      if (this.messages.size === 0) this.nextCursor = page.next_cursor;
      this.add(page.items, { stick: true });
      this.fillScreen();
    } catch (error) {
      if (generation === this.generation) toast(error.message || t("error_generic"), "error");
    }
    this.noteHistory();
  }

  /** The ticket's history lines, placed among the messages by time. */
  async loadHistory(generation = this.generation) {
    try {
      const page = await api(`/api/tickets/${this.ticketId}/history`);
      if (generation === this.generation) this.addLines(page.items);
    } catch {
      // The lines explain; the conversation itself is what the agent needs.
    }
  }

  /** Insert or replace history lines: each before the first message written after it. */
  addLines(lines) {
    if (!this.list) return;
    const follow = this.nearBottom();
    for (const line of lines) {
      if (line.ticket_id !== this.ticketId) continue;
      this.lines.set(line.id, line);
      const element = historyElement(line);
      element.dataset.at = String(Date.parse(line.at));
      const old = this.lineElements.get(line.id);
      this.lineElements.set(line.id, element);
      if (old) {
        old.replaceWith(element);
        continue;
      }
      this.list.insertBefore(element, this.itemAfter(Date.parse(line.at), line.id));
    }
    if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** The first item of the list written after `at` (a later line, for equal times), or null. */
  itemAfter(at, lineId) {
    for (const item of this.list.children) {
      const itemAt = Number(item.dataset.at);
      const laterLine = item.dataset.historyId && Number(item.dataset.historyId) > lineId;
      if (itemAt > at || (itemAt === at && laterLine)) return item;
    }
    return null;
  }

  /** Keep loading older pages while they do not fill the pane (nothing to scroll yet). */
  async fillScreen() {
    while (
      this.nextCursor &&
      this.scroller.isConnected &&
      this.scroller.scrollHeight <= this.scroller.clientHeight
    ) {
      if (!(await this.loadOlder())) break;
    }
  }

  scrolled() {
    if (this.scroller.scrollTop < NEAR_TOP_PX) this.loadOlder();
  }

  async loadOlder() {
    if (!this.nextCursor || this.loadingOlder) return false;
    const generation = this.generation;
    this.loadingOlder = true;
    this.historyNote.textContent = t("loading_older");
    try {
      const page = await api(`/api/tickets/${this.ticketId}/messages`, {
        query: { limit: PAGE, cursor: this.nextCursor },
      });
      if (generation !== this.generation) return false;
      this.nextCursor = page.next_cursor;
      const before = this.scroller.scrollHeight;
      const top = this.scroller.scrollTop;
      this.add(page.items, { stick: false });
      // Keep what the agent was reading in place while older messages appear above it.
      this.scroller.scrollTop = top + (this.scroller.scrollHeight - before);
      return true;
    } catch (error) {
      toast(error.message || t("error_generic"), "error");
      return false;
    } finally {
      this.loadingOlder = false;
      this.noteHistory();
    }
  }

  noteHistory() {
    if (!this.historyNote) return;
    this.historyNote.textContent = this.nextCursor ? "" : t("history_start");
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  /** Insert or replace messages in id order; `stick` scrolls to the end if we were there. */
  add(messages, { stick }) {
    if (!this.list) return;
    const follow = stick && (this.nearBottom() || this.messages.size === 0);
    for (const received of messages) {
      if (received.ticket_id !== this.ticketId) continue;
      const known = this.messages.get(received.id) ?? this.early.get(received.id);
      this.early.delete(received.id);
      const message = furthest(received, known);
      this.messages.set(message.id, message);
      const element = messageElement(message, this.ctx);
      element.dataset.at = String(Date.parse(message.created_at));
      const old = this.elements.get(message.id);
      this.elements.set(message.id, element);
      if (old) {
        old.replaceWith(element);
        continue;
      }
      const after = [...this.elements.keys()].filter((id) => id > message.id && id !== message.id);
      const nextId = after.length ? Math.min(...after) : null;
      const next = nextId !== null ? this.elements.get(nextId) : null;
      if (next && next.isConnected) this.list.insertBefore(element, next);
      else this.list.insertBefore(element, this.lineAfter(Date.parse(message.created_at)));
    }
    if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** The first history line at the end of the list that came after `at`, or null. */
  lineAfter(at) {
    let found = null;
    for (let item = this.list.lastElementChild; item?.dataset.historyId; item = item.previousElementSibling) {
      if (Number(item.dataset.at) > at) found = item;
    }
    return found;
  }

  // Live events ------------------------------------------------------------------------

  historyAdded(line) {
    if (line.ticket_id === this.ticketId) this.addLines([line]);
  }

  messageCreated(message) {
    if (message.ticket_id !== this.ticketId) return;
    this.add([message], { stick: true });
    if (message.direction === "in") this.markRead();
  }

  messageUpdated(change) {
    if (change.ticket_id !== this.ticketId) return;
    const known = this.messages.get(change.id);
    if (!known) {
      this.early.set(change.id, change);
      if (this.early.size > EARLY_LIMIT) this.early.delete(this.early.keys().next().value);
      return;
    }
    this.add([{ ...known, ...change }], { stick: false });
  }

  ticketChanged(ticket) {
    this.panel.ticketChanged(ticket);
    if (ticket.id !== this.ticketId) return;
    this.renderTicket();
  }

  ticketRemoved(id) {
    if (id !== this.ticketId) return;
    this.showEmpty("ticket_gone");
    toast(t("ticket_gone"));
    this.onGone?.();
  }

  /** `contact.updated`: the open panel shows it (the header follows the ticket's refresh). */
  contactUpdated(contact) {
    this.panel.contactUpdated(contact);
  }

  /** After a resync: the newest page again, merged into what is shown. */
  resync() {
    if (this.ticketId === null) return;
    this.loadNewest();
    this.loadHistory();
  }

  /** Re-render the text of everything shown (after a language change). */
  retranslate() {
    this.composer.texts();
    this.panel.retranslate();
    if (this.ticketId === null) {
      const notice = this.root.querySelector("[data-notice]");
      if (notice) notice.textContent = t(notice.dataset.notice);
      return;
    }
    this.renderTicket();
    this.add([...this.messages.values()], { stick: false });
    this.addLines([...this.lines.values()]);
    this.noteHistory();
  }

  async read() {
    const id = this.ticketId;
    if (id === null || document.visibilityState !== "visible") return;
    try {
      await api(`/api/tickets/${id}/read`, { method: "POST" });
      this.store.patch(id, { unread_count: 0 });
    } catch {
      // Read marks are a courtesy: a failure changes nothing for the agent.
    }
  }
}

function debounceRead(fn) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, 300);
  };
}
