// Connections: the list (#connections) with each one's live status, start / stop / log
// out, and a WhatsApp number's QR code and pairing code while it waits for a phone to link;
// a new one (#connections/new) and one connection (#connections/<id>). Statuses and codes
// arrive as `connection.updated` on the admin's socket; the event carries the raw QR text
// only, so the picture comes from GET /qr, and the connection is re-read for the rest.
import { ApiError, allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, select } from "./forms.js";
import { placeErrors, swatch } from "./queues.js";

extend({
  en: {
    section_connections: "Connections",
    cn_new: "New connection",
    cn_list: "All connections",
    cn_name: "Name",
    cn_channel: "Channel",
    cn_channel_sandbox: "Sandbox (simulated number)",
    cn_channel_whatsapp: "WhatsApp",
    cn_channel_fixed: "The channel cannot change after creation.",
    cn_greeting: "Greeting",
    cn_greeting_hint: "The bot's first message; {{first_name}} is the customer's first name.",
    cn_farewell: "Farewell",
    cn_out_of_hours: "Out-of-hours message",
    cn_queues: "Queues its menu offers",
    cn_no_queues: "No queues yet: create one under Queues.",
    cn_is_default: "Default connection (used when none is named)",
    cn_groups: "Answer in WhatsApp groups",
    cn_default: "Default",
    cn_status_connected: "Connected",
    cn_status_connecting: "Connecting…",
    cn_status_qrcode: "Waiting for a phone to link",
    cn_status_disconnected: "Disconnected",
    cn_status_logged_out: "Logged out",
    cn_status_banned: "Banned",
    cn_start: "Start",
    cn_stop: "Stop",
    cn_logout: "Log out",
    cn_simulator: "Open simulator",
    cn_empty: "No connections yet.",
    cn_qr_alt: "QR code to scan with WhatsApp",
    cn_qr_help: "On the phone: WhatsApp → Linked devices → Link a device, and scan this code.",
    cn_pairing: "Pairing code",
    cn_pairing_help: "On the phone: Link a device → Link with phone number instead, and type this code.",
    cn_pairing_phone: "Phone number for a pairing code (optional)",
    cn_pairing_phone_hint: "Leave it empty to log in with a QR code.",
    cn_start_title: "Start “{name}”",
    cn_logout_confirm: "Unlink the WhatsApp number of “{name}”? Logging in again needs the phone.",
    cn_delete_confirm: "Delete the connection “{name}”?",
    cn_deleted: "Connection deleted.",
    cn_created: "Connection created.",
    cn_not_found: "This connection does not exist (any more).",
    cn_queues_none: "No queues",
  },
  "pt-BR": {
    section_connections: "Conexões",
    cn_new: "Nova conexão",
    cn_list: "Todas as conexões",
    cn_name: "Nome",
    cn_channel: "Canal",
    cn_channel_sandbox: "Sandbox (número simulado)",
    cn_channel_whatsapp: "WhatsApp",
    cn_channel_fixed: "O canal não muda depois de criado.",
    cn_greeting: "Saudação",
    cn_greeting_hint: "A primeira mensagem do bot; {{first_name}} é o primeiro nome do cliente.",
    cn_farewell: "Despedida",
    cn_out_of_hours: "Mensagem fora do horário",
    cn_queues: "Filas que o menu oferece",
    cn_no_queues: "Nenhuma fila ainda: crie uma em Filas.",
    cn_is_default: "Conexão padrão (usada quando nenhuma é indicada)",
    cn_groups: "Responder em grupos do WhatsApp",
    cn_default: "Padrão",
    cn_status_connected: "Conectada",
    cn_status_connecting: "Conectando…",
    cn_status_qrcode: "Aguardando um telefone se conectar",
    cn_status_disconnected: "Desconectada",
    cn_status_logged_out: "Sessão encerrada",
    cn_status_banned: "Banida",
    cn_start: "Iniciar",
    cn_stop: "Parar",
    cn_logout: "Desconectar número",
    cn_simulator: "Abrir simulador",
    cn_empty: "Nenhuma conexão ainda.",
    cn_qr_alt: "Código QR para escanear com o WhatsApp",
    cn_qr_help: "No telefone: WhatsApp → Aparelhos conectados → Conectar um aparelho, e escaneie este código.",
    cn_pairing: "Código de pareamento",
    cn_pairing_help: "No telefone: Conectar um aparelho → Conectar com número de telefone, e digite este código.",
    cn_pairing_phone: "Número para um código de pareamento (opcional)",
    cn_pairing_phone_hint: "Deixe vazio para entrar com um código QR.",
    cn_start_title: "Iniciar “{name}”",
    cn_logout_confirm: "Desvincular o número de WhatsApp de “{name}”? Entrar de novo exige o telefone.",
    cn_delete_confirm: "Excluir a conexão “{name}”?",
    cn_deleted: "Conexão excluída.",
    cn_created: "Conexão criada.",
    cn_not_found: "Esta conexão não existe (mais).",
    cn_queues_none: "Nenhuma fila",
  },
  es: {
    section_connections: "Conexiones",
    cn_new: "Nueva conexión",
    cn_list: "Todas las conexiones",
    cn_name: "Nombre",
    cn_channel: "Canal",
    cn_channel_sandbox: "Sandbox (número simulado)",
    cn_channel_whatsapp: "WhatsApp",
    cn_channel_fixed: "El canal no cambia después de crearla.",
    cn_greeting: "Saludo",
    cn_greeting_hint: "El primer mensaje del bot; {{first_name}} es el nombre del cliente.",
    cn_farewell: "Despedida",
    cn_out_of_hours: "Mensaje fuera de horario",
    cn_queues: "Colas que ofrece su menú",
    cn_no_queues: "Todavía no hay colas: crea una en Colas.",
    cn_is_default: "Conexión predeterminada (cuando no se indica ninguna)",
    cn_groups: "Responder en grupos de WhatsApp",
    cn_default: "Predeterminada",
    cn_status_connected: "Conectada",
    cn_status_connecting: "Conectando…",
    cn_status_qrcode: "Esperando que se vincule un teléfono",
    cn_status_disconnected: "Desconectada",
    cn_status_logged_out: "Sesión cerrada",
    cn_status_banned: "Bloqueada",
    cn_start: "Iniciar",
    cn_stop: "Detener",
    cn_logout: "Desvincular número",
    cn_simulator: "Abrir simulador",
    cn_empty: "Todavía no hay conexiones.",
    cn_qr_alt: "Código QR para escanear con WhatsApp",
    cn_qr_help: "En el teléfono: WhatsApp → Dispositivos vinculados → Vincular un dispositivo, y escanea este código.",
    cn_pairing: "Código de vinculación",
    cn_pairing_help: "En el teléfono: Vincular un dispositivo → Vincular con el número de teléfono, y escribe este código.",
    cn_pairing_phone: "Número para un código de vinculación (opcional)",
    cn_pairing_phone_hint: "Déjalo vacío para entrar con un código QR.",
    cn_start_title: "Iniciar «{name}»",
    cn_logout_confirm: "¿Desvincular el número de WhatsApp de «{name}»? Volver a entrar requiere el teléfono.",
    cn_delete_confirm: "¿Eliminar la conexión «{name}»?",
    cn_deleted: "Conexión eliminada.",
    cn_created: "Conexión creada.",
    cn_not_found: "Esta conexión no existe (ya).",
    cn_queues_none: "Sin colas",
  },
});

const STOPPED = new Set(["disconnected", "logged_out", "banned"]);

export default {
  id: "connections",
  titleKey: "section_connections",
  roles: ["admin"],
  async render(root, ctx) {
    if (ctx.path === "new") return editConnection(root, null);
    if (/^\d+$/.test(ctx.path)) return editConnection(root, Number(ctx.path));
    return listConnections(root);
  },
};

async function listConnections(root) {
  const error = h("p", { className: "form-error", attrs: { role: "alert", id: "connections-error" } });
  const list = h("ul", { className: "cn-list", attrs: { id: "connection-list" } });
  const cards = new Map(); // id → card
  let queues = new Map();
  let alive = true;
  replace(
    root,
    h("div", { className: "as-toolbar" }, h("a", { className: "as-link-button primary", attrs: { href: "#connections/new", id: "connection-new" }, text: t("cn_new") })),
    error,
    h("p", { className: "muted", text: t("loading") }),
  );

  async function load() {
    const [connections, queueList] = await Promise.all([allPages("/api/connections"), allPages("/api/queues")]);
    if (!alive) return;
    queues = new Map(queueList.map((queue) => [queue.id, queue]));
    cards.clear();
    replace(list, ...connections.map((connection) => card(connection).element));
    root.lastChild.replaceWith(connections.length ? list : h("p", { className: "muted", text: t("cn_empty") }));
    for (const connection of connections) if (connection.status === "qrcode") cards.get(connection.id).loadLogin();
  }

  function card(connection) {
    const dot = h("span", { className: "cn-dot", attrs: { "aria-hidden": "true" } });
    const statusText = h("span", { className: "cn-status-text" });
    const detail = h("span", { className: "cn-detail muted" });
    const status = h("p", { className: "cn-status" }, dot, statusText, detail);
    const qr = h("img", { className: "cn-qr", attrs: { alt: t("cn_qr_alt"), width: 200, height: 200 } });
    const qrBox = h("div", { className: "cn-qr-box" }, qr, h("p", { className: "field-hint muted", text: t("cn_qr_help") }));
    const pairing = h("strong", { className: "cn-pairing-code" });
    const pairingBox = h(
      "div",
      { className: "cn-pairing" },
      h("span", { text: `${t("cn_pairing")}: ` }),
      pairing,
      h("p", { className: "field-hint muted", text: t("cn_pairing_help") }),
    );
    const login = h("div", { className: "cn-login", attrs: { "aria-live": "polite" } }, qrBox, pairingBox);
    const cardError = h("p", { className: "form-error", attrs: { role: "alert" } });
    const button = (key, action, onClick) =>
      h("button", {
        attrs: { type: "button", "data-action": action, "aria-label": `${t(key)}: ${connection.name}` },
        text: t(key),
        on: { click: () => run(onClick) },
      });
    const start = button("cn_start", "start", () => startConnection(current));
    const stop = button("cn_stop", "stop", () => api(`/api/connections/${current.id}/stop`, { method: "POST" }));
    const logout = button("cn_logout", "logout", async () => {
      if (!(await confirmDialog(t("cn_logout_confirm", { name: current.name }), { confirmKey: "cn_logout" }))) return null;
      return api(`/api/connections/${current.id}/logout`, { method: "POST" });
    });
    const remove = h("button", {
      className: "as-danger",
      attrs: { type: "button", "data-action": "delete", "aria-label": `${t("delete")}: ${connection.name}` },
      text: t("delete"),
      on: { click: () => removeConnection() },
    });
    const name = h("a", { className: "cn-name", attrs: { href: `#connections/${connection.id}` } });
    const channel = h("span", { className: "cn-channel" });
    const isDefault = h("span", { className: "cn-default", text: t("cn_default") });
    const queueLine = h("p", { className: "cn-queues" });
    const element = h(
      "li",
      { className: "cn-card", dataset: { connectionId: connection.id } },
      h("div", { className: "cn-head" }, name, channel, isDefault),
      status,
      queueLine,
      login,
      h(
        "div",
        { className: "cn-actions" },
        start,
        stop,
        logout,
        h("a", { attrs: { href: `#connections/${connection.id}`, "aria-label": `${t("edit")}: ${connection.name}` }, text: t("edit") }),
        connection.channel === "sandbox"
          ? h("a", { attrs: { href: "/simulator", "data-action": "simulator" }, text: t("cn_simulator") })
          : null,
        remove,
      ),
      cardError,
    );

    let current = connection;
    let asked = 0; // the latest re-read: an older answer arriving late is dropped

    function paint() {
      name.textContent = current.name;
      channel.textContent = t(`cn_channel_${current.channel}`);
      channel.dataset.channel = current.channel;
      isDefault.hidden = !current.is_default;
      element.dataset.status = current.status;
      status.dataset.status = current.status;
      statusText.textContent = t(`cn_status_${current.status}`);
      detail.textContent = current.status_detail ? `· ${current.status_detail}` : "";
      const names = (current.queue_ids ?? []).map((id) => queues.get(id)).filter(Boolean);
      replace(
        queueLine,
        names.length
          ? names.map((queue) => h("span", { className: "cn-queue" }, swatch(queue.color), queue.name))
          : h("span", { className: "muted", text: t("cn_queues_none") }),
      );
      start.hidden = current.is_active && !STOPPED.has(current.status);
      stop.hidden = !current.is_active;
      logout.hidden = current.channel !== "whatsapp" || current.status === "logged_out";
      if (current.status !== "qrcode") showLogin(null);
    }

    function showLogin(codes) {
      login.hidden = !codes || (!codes.qr_png && !codes.pairing_code);
      qrBox.hidden = !codes?.qr_png;
      pairingBox.hidden = !codes?.pairing_code;
      if (codes?.qr_png) qr.setAttribute("src", codes.qr_png);
      else qr.removeAttribute("src");
      pairing.textContent = codes?.pairing_code ?? "";
    }

    async function loadLogin() {
      const mine = ++asked;
      const codes = await api(`/api/connections/${current.id}/qr`).catch(() => null);
      if (mine === asked && alive && current.status === "qrcode") showLogin(codes);
    }

    /** What an event says, at once; then the whole connection (is_active) and its codes. */
    async function update(data) {
      current = { ...current, status: data.status ?? current.status, status_detail: data.detail ?? current.status_detail };
      paint();
      const mine = ++asked;
      let fresh;
      try {
        fresh = await api(`/api/connections/${current.id}`);
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 404) await load();
        return;
      }
      if (mine !== asked || !alive) return;
      current = fresh;
      paint();
      if (current.status === "qrcode") await loadLogin();
    }

    async function run(action) {
      cardError.textContent = "";
      try {
        // The answer may be older than an event that came first (a QR code reported while
        // the request returned): read the connection again rather than adopt the answer.
        if (await action()) await update({});
      } catch (failure) {
        cardError.textContent = failure.message || t("error_generic");
      }
    }

    async function removeConnection() {
      cardError.textContent = "";
      if (!(await confirmDialog(t("cn_delete_confirm", { name: current.name }), { confirmKey: "delete" }))) return;
      try {
        await api(`/api/connections/${current.id}`, { method: "DELETE" });
        toast(t("cn_deleted"));
        await load();
      } catch (failure) {
        // A 409: it has conversations, and says how to keep them (stop it instead).
        cardError.textContent = failure.message || t("error_generic");
      }
    }

    showLogin(null);
    paint();
    const entry = { element, update, loadLogin };
    cards.set(connection.id, entry);
    return entry;
  }

  await load();
  return {
    onEvent(event) {
      if (event.type === "resync") {
        load();
        return;
      }
      if (event.type !== "connection.updated" || !event.data) return;
      const entry = cards.get(event.data.id);
      if (entry) entry.update(event.data);
      else load(); // created elsewhere meanwhile
    },
    destroy() {
      alive = false;
    },
  };
}

/** Start a connection: a sandbox at once; a WhatsApp number asks for an optional phone
 * whose pairing code replaces the QR code. Resolves with the connection, or null. */
function startConnection(connection) {
  if (connection.channel !== "whatsapp") {
    return api(`/api/connections/${connection.id}/start`, { method: "POST", body: {} });
  }
  return new Promise((resolve) => {
    let result = null;
    const phone = input({ type: "tel", autocomplete: "off", inputmode: "tel", placeholder: "+55 11 98888-7777" });
    const formError = h("p", { className: "form-error", attrs: { role: "alert" } });
    const form = h(
      "form",
      { attrs: { method: "dialog", novalidate: true } },
      h("h2", { className: "as-subheading", text: t("cn_start_title", { name: connection.name }) }),
      field("pairing_phone", phone, { labelKey: "cn_pairing_phone", hint: "cn_pairing_phone_hint" }),
      formError,
      h(
        "div",
        { className: "dialog-buttons" },
        h("button", { attrs: { type: "button" }, text: t("cancel"), on: { click: () => dialog.close() } }),
        h("button", { className: "primary", attrs: { type: "submit", id: "cn-start-confirm" }, text: t("cn_start") }),
      ),
    );
    const dialog = h("dialog", { className: "dialog", attrs: { "aria-label": t("cn_start_title", { name: connection.name }) } }, form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const number = phone.value.trim();
      try {
        result = await api(`/api/connections/${connection.id}/start`, {
          method: "POST",
          body: number ? { pairing_phone: number } : {},
        });
        dialog.close();
      } catch (failure) {
        placeErrors(form, failure);
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    phone.focus();
  });
}

async function editConnection(root, connectionId) {
  replace(root, h("p", { className: "muted", text: t("loading") }));
  let connection = null;
  let queues = [];
  try {
    [connection, queues] = await Promise.all([
      connectionId === null ? null : api(`/api/connections/${connectionId}`),
      allPages("/api/queues"),
    ]);
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) {
      replace(root, h("p", { className: "muted", text: t("cn_not_found") }), backLink());
      return;
    }
    throw failure;
  }

  const name = input({ type: "text", maxlength: 100, required: true, autocomplete: "off" }, connection?.name ?? "");
  const channel = select(
    [
      ["sandbox", t("cn_channel_sandbox")],
      ["whatsapp", t("cn_channel_whatsapp")],
    ],
    connection?.channel ?? "sandbox",
    { disabled: connection !== null },
  );
  const text = (value) => h("textarea", { attrs: { rows: 3, maxlength: 4000 }, props: { value: value ?? "" } });
  const greeting = text(connection?.greeting);
  const farewell = text(connection?.farewell);
  const outOfHours = text(connection?.out_of_hours_message);
  const chosen = new Set(connection?.queue_ids ?? []);
  const boxes = queues.map((queue) => {
    const box = input({ type: "checkbox", value: queue.id, id: `cn-queue-${queue.id}` }, chosen.has(queue.id));
    return [queue, box];
  });
  const isDefault = input({ type: "checkbox" }, connection?.is_default ?? false);
  const groups = input({ type: "checkbox" }, connection?.groups_enabled ?? false);
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const save = h("button", { className: "primary", attrs: { type: "submit", id: "connection-save" }, text: t("save") });

  const form = h(
    "form",
    { className: "as-form cn-form", attrs: { id: "connection-form", novalidate: true } },
    h(
      "div",
      { className: "as-grid" },
      field("name", name, { labelKey: "cn_name" }),
      field("channel", channel, { labelKey: "cn_channel", hint: connection ? "cn_channel_fixed" : null }),
    ),
    h(
      "fieldset",
      { className: "cn-queue-choice", attrs: { id: "connection-queues" } },
      h("legend", { text: t("cn_queues") }),
      boxes.length
        ? h(
            "ul",
            { className: "cn-queue-boxes" },
            boxes.map(([queue, box]) =>
              h("li", {}, box, h("label", { attrs: { for: box.id } }, swatch(queue.color), queue.name)),
            ),
          )
        : h("p", { className: "muted", text: t("cn_no_queues") }),
      h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "queue_ids" } }),
    ),
    field("greeting", greeting, { labelKey: "cn_greeting", hint: "cn_greeting_hint" }),
    field("farewell", farewell, { labelKey: "cn_farewell" }),
    field("out_of_hours_message", outOfHours, { labelKey: "cn_out_of_hours" }),
    field("is_default", isDefault, { labelKey: "cn_is_default" }),
    field("groups_enabled", groups, { labelKey: "cn_groups" }),
    error,
    h("div", { className: "as-buttons" }, save),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    save.disabled = true;
    const body = {
      name: name.value.trim(),
      greeting: greeting.value,
      farewell: farewell.value,
      out_of_hours_message: outOfHours.value,
      queue_ids: boxes.filter(([, box]) => box.checked).map(([queue]) => queue.id),
      is_default: isDefault.checked,
      groups_enabled: groups.checked,
    };
    try {
      if (connection) {
        connection = await api(`/api/connections/${connection.id}`, { method: "PATCH", body });
        toast(t("saved"));
      } else {
        await api("/api/connections", { method: "POST", body: { ...body, channel: channel.value } });
        toast(t("cn_created"));
        location.hash = "#connections";
      }
    } catch (failure) {
      placeErrors(form, failure);
    } finally {
      save.disabled = false;
    }
  });
  replace(
    root,
    backLink(),
    h("h2", { className: "as-title", text: connection ? connection.name : t("cn_new") }),
    form,
  );
  name.focus();
}

function backLink() {
  return h("a", { className: "as-back", attrs: { href: "#connections" }, text: `← ${t("cn_list")}` });
}
