// The phone simulator at /simulator: for a `sandbox` connection, type as a customer
// (POST /api/sandbox/{id}/inbound) and read what the business answered (GET …/outbound),
// live from the websocket, with a slow poll in case an event is not ours to see.
import { api, currentToken, logout, onSession, refresh, restore } from "./api.js";
import { byId, debounce, h, replace } from "./dom.js";
import { applyI18n, formatTime, onLangChange, t } from "./i18n.js";
import { initial } from "./inbox/chat.js";
import { mediaBlock } from "./inbox/messages.js";
import { LiveSocket } from "./socket.js";
import { languageSelect, themeButton } from "./ui/controls.js";
import { renderLogin } from "./ui/login.js";
import { applyTheme } from "./ui/theme.js";
import { toast } from "./ui/toast.js";

const POLL_MS = 10_000;
const PREFS_KEY = "atende.sim.prefs";
const LIVE_TYPES = new Set(["message.created", "message.updated", "ticket.updated", "resync"]);

applyTheme();
applyI18n(document);

const state = {
  connections: new Map(),
  chat: null, // {connection, number, name}
  outbound: [],
  mine: [], // what the customer wrote: {text, after, seq, status}
  fetching: null,
  again: false,
};
let socket = null;
let poller = null;

async function main() {
  byId("controls").append(languageSelect(), themeButton());
  byId("logout").addEventListener("click", () => logout());
  byId("sim-setup").addEventListener("submit", (event) => {
    event.preventDefault();
    openChat();
  });
  byId("phone-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  onSession((user, reason) => {
    if (!user) {
      stop();
      showLogin(reason === "expired" ? "session_expired" : null);
    }
  });
  onLangChange(() => {
    const live = byId("live");
    live.textContent = t(`live_${live.dataset.state}`);
    fillConnections();
    render();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refreshSoon();
  });
  if (await restore()) start();
  else showLogin();
}

function showLogin(notice = null) {
  byId("sim-view").hidden = true;
  const view = byId("login-view");
  view.hidden = false;
  renderLogin(view, { notice, onDone: () => start() });
}

async function start() {
  byId("login-view").hidden = true;
  byId("sim-view").hidden = false;
  const prefs = readPrefs();
  byId("sim-number").value = prefs.number ?? "+5511999990001";
  byId("sim-name").value = prefs.name ?? "Maria";
  try {
    const page = await api("/api/connections", { query: { limit: 200 } });
    state.connections = new Map(
      page.items.filter((c) => c.channel === "sandbox").map((c) => [c.id, c]),
    );
  } catch (error) {
    toast(error.message || t("error_generic"), "error");
  }
  fillConnections();
  if (prefs.connectionId && state.connections.has(prefs.connectionId)) {
    byId("sim-connection").value = String(prefs.connectionId);
  }
  socket = new LiveSocket({
    getToken: currentToken,
    refresh,
    onEvent: (event) => {
      if (event.type === "connection.updated") updateConnection(event.data);
      else if (LIVE_TYPES.has(event.type) || (event.type === "hello" && !event.resumed)) {
        refreshSoon();
      }
    },
    onStatus: (live) => {
      const element = byId("live");
      element.dataset.state = live;
      element.textContent = t(`live_${live}`);
    },
  });
  socket.start();
  poller = setInterval(() => {
    if (document.visibilityState === "visible") refreshSoon();
  }, POLL_MS);
}

function stop() {
  socket?.stop();
  socket = null;
  clearInterval(poller);
  state.chat = null;
  byId("phone").hidden = true;
}

function fillConnections() {
  const select = byId("sim-connection");
  const chosen = select.value;
  replace(
    select,
    [...state.connections.values()].map((c) =>
      h("option", { attrs: { value: c.id }, text: `${c.name} (${c.status})` }),
    ),
  );
  if (chosen) select.value = chosen;
  const none = state.connections.size === 0;
  byId("sim-empty").hidden = !none;
  byId("sim-open").disabled = none;
}

function updateConnection(data) {
  const connection = state.connections.get(data?.id);
  if (!connection) return;
  connection.status = data.status ?? connection.status;
  fillConnections();
}

function readPrefs() {
  try {
    return JSON.parse(localStorage.getItem(PREFS_KEY) || "{}");
  } catch {
    return {};
  }
}

function savePrefs(prefs) {
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(prefs));
  } catch {
    // Not remembered: the form keeps its values for this page.
  }
}

function historyKey(chat) {
  return `atende.sim.history.${chat.connection.id}.${chat.number}`;
}

function loadMine(chat) {
  try {
    return JSON.parse(sessionStorage.getItem(historyKey(chat)) || "[]");
  } catch {
    return [];
  }
}

function saveMine() {
  try {
    sessionStorage.setItem(historyKey(state.chat), JSON.stringify(state.mine));
  } catch {
    // The customer's side of the chat is then kept for this page only.
  }
}

async function openChat() {
  const connection = state.connections.get(Number(byId("sim-connection").value));
  const number = byId("sim-number").value.trim();
  const name = byId("sim-name").value.trim();
  if (!connection || !number) return;
  savePrefs({ connectionId: connection.id, number, name });
  state.chat = { connection, number, name };
  state.mine = loadMine(state.chat);
  state.outbound = [];
  byId("phone").hidden = false;
  render();
  await refreshOutbound();
  // At phone width the chat is below the form: bring it into view.
  byId("phone").scrollIntoView({ block: "nearest" });
  byId("phone-input").focus();
}

/** Fetch what the business sent this customer; calls meanwhile share the request. */
async function refreshOutbound() {
  if (!state.chat) return;
  if (state.fetching) {
    state.again = true;
    return state.fetching;
  }
  const chat = state.chat;
  state.fetching = api(`/api/sandbox/${chat.connection.id}/outbound`, {
    query: { to: chat.number },
  })
    .then((page) => {
      if (state.chat === chat) {
        state.outbound = page.items;
        render();
      }
    })
    .catch((error) => toast(error.message || t("error_generic"), "error"))
    .finally(() => {
      state.fetching = null;
      if (state.again) {
        state.again = false;
        refreshOutbound();
      }
    });
  return state.fetching;
}

const refreshSoon = debounce(() => refreshOutbound(), 100);

function lastOutboundId() {
  return state.outbound.reduce((max, item) => Math.max(max, item.id), 0);
}

async function send() {
  const input = byId("phone-input");
  const text = input.value.trim();
  const chat = state.chat;
  if (!text || !chat) return;
  input.value = "";
  // What the business had sent before this message comes before it in the chat.
  await refreshOutbound();
  const entry = { text, after: lastOutboundId(), seq: Date.now(), status: "sending" };
  state.mine.push(entry);
  saveMine();
  render();
  try {
    await api(`/api/sandbox/${chat.connection.id}/inbound`, {
      method: "POST",
      body: { from: chat.number, name: chat.name, text },
    });
    entry.status = "sent";
  } catch (error) {
    entry.status = "failed";
    toast(error.message || t("error_generic"), "error");
  }
  if (state.chat === chat) {
    saveMine();
    render();
    await refreshOutbound();
  }
}

/** The chat: the business's messages by id, each customer message after what preceded it. */
function timeline() {
  const business = state.outbound.map((item) => ({ key: item.id, order: 0, item }));
  const customer = state.mine.map((item) => ({ key: item.after + 0.5, order: item.seq, item, mine: true }));
  return [...business, ...customer].sort((a, b) => a.key - b.key || a.order - b.order);
}

function bubble(entry) {
  const { item } = entry;
  if (entry.mine) {
    const tick = { sending: "◷", sent: "✓", failed: "!" }[item.status] ?? "";
    return h(
      "li",
      { className: `msg msg-out msg-customer${item.status === "failed" ? " msg-failed" : ""}` },
      h("p", { className: "msg-body", text: item.text }),
      h("p", { className: "msg-meta" }, h("span", { className: "ticks", text: tick })),
    );
  }
  return h(
    "li",
    { className: `msg msg-in${item.from_bot ? " msg-bot" : ""}`, dataset: { id: item.id } },
    item.from_bot ? h("p", { className: "msg-author", text: t("bot") }) : null,
    item.media ? mediaBlock({ media: item.media }) : null,
    item.text ? h("p", { className: "msg-body", text: item.text }) : null,
    h(
      "p",
      { className: "msg-meta" },
      h("time", { attrs: { datetime: item.created_at }, text: formatTime(item.created_at) }),
    ),
  );
}

function render() {
  const chat = state.chat;
  if (!chat) return;
  byId("phone-title").textContent = chat.connection.name;
  byId("phone-avatar").textContent = initial(chat.connection.name);
  byId("phone-sub").textContent = `${t("customer")}: ${chat.name || chat.number} · ${chat.number}`;
  const list = byId("phone-messages");
  const follow = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  replace(list, timeline().map(bubble));
  if (follow) list.scrollTop = list.scrollHeight;
}

main().catch((error) => {
  console.warn("The simulator could not start", error);
  toast(t("error_generic"), "error");
});
