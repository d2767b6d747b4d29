// The left column: search, the three tabs (with counts), the queue filter of "Waiting",
// and the tickets of the chosen tab, the latest conversation first.
import { byId, debounce, h, replace } from "../dom.js";
import { formatShortTime, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { initial } from "./chat.js";
import { TABS } from "./store.js";

export class TicketList {
  constructor({ store, ctx, onOpen }) {
    this.store = store;
    this.ctx = ctx;
    this.onOpen = onOpen;
    this.tab = "mine";
    this.queueId = null;
    this.q = "";
    this.selectedId = null;
    this.cursor = null;
    this.loading = true; // until the socket says hello and the first pages arrive
    // Listeners on the page's fixed elements end with this list (a logout, a new login).
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.list = byId("ticket-list");
    this.more = byId("load-more");
    this.search = byId("search");
    this.queueFilter = byId("queue-filter");
    this.queueRow = byId("queue-filter-row");
    this.scheduled = false;

    for (const tab of TABS) {
      byId(`tab-${tab}`).addEventListener("click", () => this.setTab(tab), { signal });
    }
    byId("tabs").addEventListener("keydown", (event) => this.tabKeys(event), { signal });
    this.search.addEventListener(
      "input",
      debounce(() => {
        this.q = this.search.value.trim();
        this.reload();
      }, 250),
      { signal },
    );
    this.queueFilter.addEventListener("change", () => {
      this.queueId = this.queueFilter.value ? Number(this.queueFilter.value) : null;
        this.reload();
      },
      { signal },
    );
    this.more.addEventListener("click", () => this.loadMore(), { signal });
    this.list.addEventListener(
      "scroll",
      () => {
        const l = this.list;
        if (this.cursor && l.scrollHeight - l.scrollTop - l.clientHeight < 60) this.loadMore();
      },
      { signal },
    );
    this.search.value = "";
    this.fillQueues();
    this.markTab();
  }

  /** Stop listening to the page (the session ended). */
  destroy() {
    this.abort.abort();
  }

  get filters() {
    return { queueId: this.tab === "waiting" ? this.queueId : null, q: this.q };
  }

  /** The queue filter's options: an agent's own queues, or all for admins/supervisors. */
  fillQueues() {
    const { me, queues } = this.ctx;
    const chosen = this.queueFilter.value;
    replace(
      this.queueFilter,
      h("option", { attrs: { value: "" }, text: t("all_queues") }),
      [...queues.values()]
        .filter((queue) => me.role !== "agent" || (me.queue_ids ?? []).includes(queue.id))
        .map((queue) => h("option", { attrs: { value: queue.id }, text: queue.name })),
    );
    this.queueFilter.value = chosen;
  }

  setTab(tab) {
    if (this.tab === tab) return;
    this.tab = tab;
    this.markTab();
    this.reload();
  }

  markTab() {
    for (const name of TABS) {
      const button = byId(`tab-${name}`);
      button.setAttribute("aria-selected", String(name === this.tab));
      button.tabIndex = name === this.tab ? 0 : -1;
    }
    this.queueRow.hidden = this.tab !== "waiting";
    this.list.setAttribute("aria-labelledby", `tab-${this.tab}`);
  }

  /** Arrow keys move between the tabs (the ARIA tabs pattern). */
  tabKeys(event) {
    const index = TABS.indexOf(this.tab);
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: TABS.length - 1 - index };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = TABS[(index + moves[event.key] + TABS.length) % TABS.length];
    this.setTab(next);
    byId(`tab-${next}`).focus();
  }

  /** The current tab's first page from the server. */
  async reload() {
    const tab = this.tab;
    const filters = this.filters;
    this.cursor = null;
    this.loading = true;
    this.render();
    try {
      const cursor = await this.store.load(tab, filters);
      if (tab === this.tab && filters.q === this.q && filters.queueId === this.filters.queueId) {
        this.cursor = cursor;
      }
    } catch (error) {
      toast(error.message || t("error_generic"), "error");
    } finally {
      this.loading = false;
      this.render();
    }
  }

  /** Load the tabs that count and ring (mine, waiting) and the current one. */
  async loadAll() {
    await Promise.all(
      ["mine", "waiting"].filter((tab) => tab !== this.tab).map((tab) => this.store.load(tab, {})),
    ).catch((error) => toast(error.message || t("error_generic"), "error"));
    await this.reload();
  }

  async loadMore() {
    if (!this.cursor || this.loading) return;
    this.loading = true;
    try {
      this.cursor = await this.store.load(this.tab, this.filters, this.cursor);
    } catch (error) {
      toast(error.message || t("error_generic"), "error");
    } finally {
      this.loading = false;
      this.render();
    }
  }

  select(id) {
    this.selectedId = id;
    this.render();
  }

  /** Re-render on the next frame (many events may arrive together). */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  render() {
    const tickets = this.store.list(this.tab, this.filters);
    const focusedId = document.activeElement?.closest?.(".ticket-item")?.dataset.id;
    replace(
      this.list,
      tickets.length
        ? tickets.map((ticket) => this.item(ticket))
        : h("li", { className: "list-empty", text: this.loading ? t("loading") : t("empty_list") }),
    );
    if (focusedId) this.list.querySelector(`[data-id="${Number(focusedId)}"]`)?.focus();
    this.list.setAttribute("aria-busy", String(this.loading));
    this.more.hidden = !this.cursor;
    this.more.textContent = t("load_more");
    this.counts();
  }

  counts() {
    const unread = this.store
      .list("mine", {})
      .reduce((sum, ticket) => sum + (ticket.unread_count > 0 ? 1 : 0), 0);
    const waiting = this.store.list("waiting", {}).length;
    byId("count-mine").textContent = unread ? String(unread) : "";
    byId("count-waiting").textContent = waiting ? String(waiting) : "";
    document.title = waiting + unread ? `(${waiting + unread}) ${t("app_name")}` : t("app_name");
  }

  item(ticket) {
    const name = ticket.contact.name || ticket.contact.number;
    const queue = ticket.queue_id ? this.ctx.queues.get(ticket.queue_id) : null;
    const chip = h("span", { className: "queue-chip", text: queue ? queue.name : t("no_queue") });
    if (queue?.color) chip.style.setProperty("--queue-color", queue.color);
    const unread = ticket.unread_count > 0 && ticket.status !== "closed";
    const button = h(
      "button",
      {
        className: "ticket-item",
        attrs: {
          type: "button",
          "aria-current": ticket.id === this.selectedId ? "true" : null,
        },
        dataset: { id: ticket.id, status: ticket.status },
        on: { click: () => this.onOpen(ticket.id) },
      },
      h("span", { className: "avatar", attrs: { "aria-hidden": "true" }, text: initial(name) }),
      h(
        "span",
        { className: "ticket-main" },
        h(
          "span",
          { className: "ticket-top" },
          h("span", { className: "ticket-name", text: name }),
          h("time", {
            attrs: { datetime: ticket.last_message_at || ticket.created_at },
            text: formatShortTime(ticket.last_message_at || ticket.created_at),
          }),
        ),
        h(
          "span",
          { className: "ticket-bottom" },
          h("span", { className: "ticket-preview", text: ticket.last_message || "" }),
          unread
            ? h("span", {
                className: "badge",
                attrs: { "aria-label": t("unread", { n: ticket.unread_count }) },
                text: String(ticket.unread_count),
              })
            : null,
        ),
        h(
          "span",
          { className: "ticket-meta" },
          chip,
          ticket.rating ? h("span", { className: "stars", text: `★ ${ticket.rating}` }) : null,
        ),
      ),
    );
    return h("li", {}, button);
  }
}
