// The agents' inbox at /: login, the live ticket lists and the chat, updated from the
// websocket without ever reloading.
import { api, currentToken, currentUser, logout, onSession, refresh, restore } from "./api.js";
import { byId } from "./dom.js";
import { applyI18n, extend, onLangChange, t } from "./i18n.js";
import { ChatPane } from "./inbox/chat.js";
import { TicketList } from "./inbox/list.js";
import { TicketStore } from "./inbox/store.js";
import { LiveSocket } from "./socket.js";
import { languageSelect, themeButton } from "./ui/controls.js";
import { renderLogin } from "./ui/login.js";
import { askPermission, beep, canAskPermission, notify } from "./ui/notify.js";
import { applyTheme } from "./ui/theme.js";
import { toast } from "./ui/toast.js";

extend({ en: { open_admin: "Admin" }, "pt-BR": { open_admin: "Administração" }, es: { open_admin: "Administración" } });

applyTheme();
applyI18n(document);

let session = null; // the running inbox: {store, list, chat, socket, ctx}

async function main() {
  byId("controls").append(languageSelect(), themeButton());
  byId("logout").addEventListener("click", () => logout());
  const notifyButton = byId("notify-button");
  notifyButton.hidden = !canAskPermission();
  notifyButton.addEventListener("click", async () => {
    await askPermission();
    notifyButton.hidden = !canAskPermission();
  });
  onSession((user, reason) => {
    if (!user) {
      stop();
      showLogin(reason === "expired" ? "session_expired" : null);
    }
  });
  onLangChange(() => retranslate());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") session?.chat.markRead();
  });
  if (await restore()) start();
  else showLogin();
}

function showLogin(notice = null) {
  byId("inbox-view").hidden = true;
  const view = byId("login-view");
  view.hidden = false;
  renderLogin(view, { notice, onDone: () => start() });
}

/** Fetch what names and filters need: the company's queues and users. */
async function loadDirectory(ctx) {
  const [queues, users] = await Promise.all([
    api("/api/queues", { query: { limit: 200 } }),
    api("/api/users", { query: { limit: 200 } }),
  ]);
  ctx.queues = new Map(queues.items.map((queue) => [queue.id, queue]));
  ctx.users = new Map(users.items.map((user) => [user.id, user]));
}

async function start() {
  byId("login-view").hidden = true;
  byId("inbox-view").hidden = false;
  const me = currentUser();
  byId("me").textContent = me.name;
  byId("admin-link").hidden = me.role === "agent";
  const ctx = { me, queues: new Map(), users: new Map(), online: new Set() };
  try {
    await loadDirectory(ctx);
  } catch (error) {
    toast(error.message || t("error_generic"), "error");
  }
  const store = new TicketStore(me);
  const inbox = byId("inbox");
  const list = new TicketList({ store, ctx, onOpen: (id) => openTicket(id) });
  const backToList = () => {
    inbox.classList.remove("chat-open");
    list.select(null);
    history.replaceState(null, "", location.pathname);
  };
  const chat = new ChatPane({
    root: byId("chat"),
    ctx,
    store,
    onBack: () => {
      backToList();
      chat.showEmpty();
      byId("ticket-list").querySelector(".ticket-item")?.focus();
    },
    onGone: backToList,
    onOpenTicket: (id) => openTicket(id),
  });
  store.addEventListener("ticket", (event) => {
    list.schedule();
    chat.ticketChanged(event.detail);
  });
  store.addEventListener("removed", (event) => {
    list.schedule();
    chat.ticketRemoved(event.detail);
  });
  store.addEventListener("arrived", (event) => announce(event.detail, ctx));
  const socket = new LiveSocket({
    getToken: currentToken,
    refresh,
    onEvent: (event) => dispatch(event),
    onStatus: (state) => showLive(state),
  });
  session = { store, list, chat, socket, ctx, firstHello: true };
  socket.start();
  list.render();
  openFromUrl();
}

function stop() {
  if (!session) return;
  session.socket.stop();
  session.list.destroy();
  session = null;
}

/** Open a ticket: from the store, or fetched (a link, a notification). */
async function openTicket(id) {
  if (!session) return;
  const { store, list, chat } = session;
  if (!store.get(id)) {
    try {
      store.put(await api(`/api/tickets/${id}`));
    } catch (error) {
      toast(error.message || t("error_generic"), "error");
      return;
    }
  }
  list.select(id);
  byId("inbox").classList.add("chat-open");
  history.replaceState(null, "", `#ticket=${id}`);
  await chat.open(id);
}

function openFromUrl() {
  const match = /^#ticket=(\d+)$/.exec(location.hash);
  if (match) openTicket(Number(match[1]));
}

/** One event from the socket. */
function dispatch(event) {
  if (!session) return;
  const { store, list, chat, ctx } = session;
  const data = event.data ?? {};
  switch (event.type) {
    case "hello":
      ctx.online = new Set(data.online ?? []);
      // A fresh connection has nothing to replay: (re)load the lists after subscribing,
      // so nothing falls between the two.
      if (!event.resumed || session.firstHello) list.loadAll();
      session.firstHello = false;
      break;
    case "resync":
      // Too much was missed to replay: fetch the lists again (tickets that left them are
      // found out and dropped) and the open chat's newest page.
      list.loadAll();
      chat.resync();
      break;
    case "message.created":
      chat.messageCreated(data);
      // A note is for agents only: the list keeps showing the conversation's last message.
      if (data.is_note) break;
      // What the server changed on the ticket with it, done here instead of fetching it.
      {
        const known = store.get(data.ticket_id);
        const unread = (known?.unread_count ?? 0) + (data.direction === "in" ? 1 : 0);
        store.patch(data.ticket_id, {
          last_message: data.body || (data.media_type ? `[${data.media_type}]` : ""),
          last_message_at: data.created_at,
          unread_count: unread,
        });
      }
      break;
    case "message.updated":
      chat.messageUpdated(data);
      break;
    case "ticket.created":
    case "ticket.updated":
      if (data.contact) store.put(data, { live: true });
      else store.refresh(data.id);
      break;
    case "ticket.removed":
      store.remove(data.id);
      break;
    case "ticket.history":
      chat.historyAdded(data);
      break;
    case "contact.updated":
      chat.contactUpdated(data);
      for (const ticket of store.tickets.values()) {
        if (ticket.contact?.id !== data.id) continue;
        store.patch(ticket.id, { contact: { ...ticket.contact, name: data.name, number: data.number } });
      }
      break;
    case "scheduled.updated":
      chat.panel.scheduledChanged(data);
      break;
    case "presence.updated":
      if (data.online) ctx.online.add(data.user_id);
      else ctx.online.delete(data.user_id);
      break;
    default:
      break;
  }
}

/** A ticket arrived in one of my queues: beep, and a desktop notification if allowed. */
function announce(ticket, ctx) {
  beep();
  const queue = ticket.queue_id ? ctx.queues.get(ticket.queue_id)?.name : t("no_queue");
  notify(
    t("new_ticket"),
    t("new_ticket_body", { name: ticket.contact.name || ticket.contact.number, queue }),
    () => openTicket(ticket.id),
  );
}

function showLive(state) {
  const live = byId("live");
  live.dataset.state = state;
  live.textContent = t(`live_${state}`);
}

function retranslate() {
  const live = byId("live");
  live.textContent = t(`live_${live.dataset.state}`);
  if (!session) return;
  session.list.fillQueues();
  session.list.render();
  session.chat.retranslate();
}

main().catch((error) => {
  console.warn("Atende could not start", error);
  toast(t("error_generic"), "error");
});
