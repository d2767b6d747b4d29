// The tickets this tab knows, whichever list they came from, kept current by the live feed.
// A list (tab) is a filter over them, so a ticket that changes status moves between the
// lists by itself. Events that carry a whole ticket replace it; the others make us fetch it
// again (GET /api/tickets/{id}; a 404 means we may no longer see it).

import { api } from "../api.js";

export const TABS = ["mine", "waiting", "closed"];

const DIGITS = /\D+/g;

/** The API's filter for a tab, as GET /api/tickets takes it. */
export function queryOf(tab, { queueId = null, q = "" } = {}) {
  const query = { q: q || null };
  if (tab === "mine") Object.assign(query, { status: "open", assigned: "me" });
  if (tab === "waiting") Object.assign(query, { status: "pending", queue_id: queueId });
  if (tab === "closed") query.status = "closed";
  return query;
}

function lastActivity(ticket) {
  return Date.parse(ticket.last_message_at || ticket.updated_at || ticket.created_at) || 0;
}

export class TicketStore extends EventTarget {
  constructor(me) {
    super();
    this.me = me;
    this.tickets = new Map();
    // Each ticket's version: a fetch answered after a newer change is dropped.
    this.versions = new Map();
    this.fetching = new Map();
  }

  get(id) {
    return this.tickets.get(id) ?? null;
  }

  /** Whether a ticket belongs in a tab with these filters. */
  matches(ticket, tab, { queueId = null, q = "" } = {}) {
    if (tab === "mine" && !(ticket.status === "open" && ticket.user_id === this.me.id)) return false;
    if (tab === "waiting") {
      if (ticket.status !== "pending") return false;
      if (queueId !== null && ticket.queue_id !== queueId) return false;
    }
    if (tab === "closed" && ticket.status !== "closed") return false;
    if (q) {
      const needle = q.toLowerCase();
      const digits = q.replace(DIGITS, "");
      const name = (ticket.contact?.name ?? "").toLowerCase();
      const number = ticket.contact?.number ?? "";
      if (!name.includes(needle) && !(digits && number.includes(digits))) return false;
    }
    return true;
  }

  /** A tab's tickets, the latest conversation first. */
  list(tab, filters) {
    return [...this.tickets.values()]
      .filter((ticket) => this.matches(ticket, tab, filters))
      .sort((a, b) => lastActivity(b) - lastActivity(a) || b.id - a.id);
  }

  /** Whether a pending ticket is in one of my queues (what makes the inbox ring). */
  inMyQueues(ticket) {
    if (ticket.status !== "pending") return false;
    if (this.me.role === "agent") return true; // agents only ever see their queues' tickets
    return ticket.queue_id !== null && (this.me.queue_ids ?? []).includes(ticket.queue_id);
  }

  bump(id) {
    const version = (this.versions.get(id) ?? 0) + 1;
    this.versions.set(id, version);
    return version;
  }

  /** Store a whole ticket; `live` when it comes from the feed (it may ring). */
  put(ticket, { live = false } = {}) {
    const previous = this.tickets.get(ticket.id) ?? null;
    this.bump(ticket.id);
    this.tickets.set(ticket.id, ticket);
    this.emit("ticket", ticket);
    const arrived =
      live &&
      this.inMyQueues(ticket) &&
      (!previous || previous.status !== "pending" || previous.queue_id !== ticket.queue_id);
    if (arrived) this.emit("arrived", ticket);
  }

  /** Change some fields of a known ticket (a message's preview, before the fetch). */
  patch(id, fields) {
    const ticket = this.tickets.get(id);
    if (!ticket) return;
    const next = { ...ticket, ...fields };
    this.tickets.set(id, next);
    this.emit("ticket", next);
  }

  remove(id) {
    this.bump(id);
    if (this.tickets.delete(id)) this.emit("removed", id);
  }

  /** Fetch a ticket again; calls for the same ticket while one is on its way share it. */
  refresh(id) {
    const running = this.fetching.get(id);
    if (running) {
      running.again = true;
      return;
    }
    const entry = { again: false };
    this.fetching.set(id, entry);
    const version = this.bump(id);
    api(`/api/tickets/${id}`)
      .then((ticket) => {
        if (this.versions.get(id) === version) this.put(ticket, { live: true });
      })
      .catch((error) => {
        if (error.status === 404 && this.versions.get(id) === version) this.remove(id);
      })
      .finally(() => {
        this.fetching.delete(id);
        if (entry.again) this.refresh(id);
      });
  }

  /**
   * Load a page of a tab. Tickets we hold for that tab which the server no longer lists
   * (within the page's range) are fetched again: they changed while we were not told.
   * Returns the next cursor (null on the last page).
   */
  async load(tab, filters, cursor = null) {
    const page = await api("/api/tickets", {
      query: { ...queryOf(tab, filters), cursor, limit: 50 },
    });
    const seen = new Set();
    for (const ticket of page.items) {
      seen.add(ticket.id);
      this.put(ticket);
    }
    const lowest = page.items.length ? Math.min(...page.items.map((t) => t.id)) : Infinity;
    const highest = cursor === null ? Infinity : Math.max(...page.items.map((t) => t.id), 0);
    for (const ticket of this.list(tab, filters)) {
      if (seen.has(ticket.id)) continue;
      const inRange = ticket.id <= highest && (page.next_cursor === null || ticket.id > lowest);
      if (inRange) this.refresh(ticket.id);
    }
    return page.next_cursor;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
