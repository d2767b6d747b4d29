// UI text in pt-BR, en and es. The user's choice is kept in localStorage; the default
// follows the browser's language. Elements carry data-i18n* attributes; applyI18n()
// fills them, and views re-render their dynamic text on a language change.

export const DICTIONARIES = {
  en: {
    app_name: "Atende",
    language: "Language",
    theme_dark: "Dark theme",
    theme_light: "Light theme",
    logout: "Log out",
    loading: "Loading…",
    error_generic: "Something went wrong. Try again.",
    error_network: "No connection to the server.",
    live_online: "Live",
    live_connecting: "Connecting…",
    live_offline: "Offline: reconnecting…",
    login_title: "Sign in to Atende",
    email: "Email",
    password: "Password",
    sign_in: "Sign in",
    login_failed: "Wrong email or password.",
    login_throttled: "Too many attempts. Try again later.",
    session_expired: "Your session ended. Please sign in again.",
    search_placeholder: "Search name or number",
    search_label: "Search tickets",
    tabs_label: "Ticket lists",
    tab_mine: "Mine",
    tab_waiting: "Waiting",
    tab_closed: "Closed",
    queue_filter: "Queue",
    all_queues: "All queues",
    no_queue: "No queue",
    empty_list: "No tickets here.",
    load_more: "Load more",
    select_ticket: "Pick a conversation on the left.",
    unread: "{n} unread",
    status_bot: "Bot",
    status_pending: "Waiting",
    status_open: "Open",
    status_closed: "Closed",
    back: "Back to the list",
    accept: "Accept",
    transfer: "Transfer",
    close: "Close",
    reopen: "Reopen",
    note_label: "Internal note",
    bot: "Bot",
    rating: "Rating: {n}/5",
    assigned_to: "Agent: {name}",
    msg_pending: "Waiting to be sent",
    msg_sent: "Sent",
    msg_delivered: "Delivered",
    msg_read: "Read",
    msg_failed: "Not sent: {error}",
    msg_failed_unknown: "Not sent",
    deleted: "This message was deleted.",
    edited: "edited",
    loading_older: "Loading older messages…",
    history_start: "Start of the conversation",
    download: "Download {name}",
    media_unavailable: "{type}: the file is not stored here",
    composer_label: "Message",
    composer_placeholder: "Type a message (/ for quick replies)",
    note_placeholder: "Write an internal note (the customer never sees it)",
    send: "Send",
    note_toggle: "Note",
    cannot_write_closed: "This ticket is closed: reopen it to write.",
    cannot_write_pending: "Accept the ticket to reply.",
    cannot_write_other: "This ticket is another agent's.",
    ticket_gone: "This ticket left your lists.",
    quick_replies: "Quick replies",
    no_quick_replies: "No quick reply matches.",
    transfer_title: "Transfer the ticket",
    to_queue: "To queue",
    to_agent: "To agent",
    nobody: "—",
    cancel: "Cancel",
    confirm_transfer: "Transfer",
    online: "online",
    transfer_need_target: "Choose a queue or an agent.",
    notify_enable: "Enable notifications",
    new_ticket: "New ticket waiting",
    new_ticket_body: "{name} in {queue}",
    sim_title: "Phone simulator",
    connection: "Connection",
    no_sandbox: "No sandbox connection yet: an admin creates one with channel “sandbox”.",
    customer_number: "Customer number",
    customer_name: "Customer name",
    open_chat: "Open chat",
    message_placeholder: "Message",
    sim_hint: "Type as the customer: the bot's and the agents' answers show up here.",
    open_inbox: "Inbox",
    open_simulator: "Simulator",
    customer: "Customer",
  },
  "pt-BR": {
    app_name: "Atende",
    language: "Idioma",
    theme_dark: "Tema escuro",
    theme_light: "Tema claro",
    logout: "Sair",
    loading: "Carregando…",
    error_generic: "Algo deu errado. Tente de novo.",
    error_network: "Sem conexão com o servidor.",
    live_online: "Ao vivo",
    live_connecting: "Conectando…",
    live_offline: "Desconectado: reconectando…",
    login_title: "Entrar no Atende",
    email: "E-mail",
    password: "Senha",
    sign_in: "Entrar",
    login_failed: "E-mail ou senha incorretos.",
    login_throttled: "Tentativas demais. Tente mais tarde.",
    session_expired: "Sua sessão terminou. Entre de novo.",
    search_placeholder: "Buscar nome ou número",
    search_label: "Buscar atendimentos",
    tabs_label: "Listas de atendimentos",
    tab_mine: "Meus",
    tab_waiting: "Aguardando",
    tab_closed: "Encerrados",
    queue_filter: "Fila",
    all_queues: "Todas as filas",
    no_queue: "Sem fila",
    empty_list: "Nenhum atendimento aqui.",
    load_more: "Carregar mais",
    select_ticket: "Escolha uma conversa à esquerda.",
    unread: "{n} não lidas",
    status_bot: "Bot",
    status_pending: "Aguardando",
    status_open: "Em atendimento",
    status_closed: "Encerrado",
    back: "Voltar à lista",
    accept: "Aceitar",
    transfer: "Transferir",
    close: "Encerrar",
    reopen: "Reabrir",
    note_label: "Nota interna",
    bot: "Bot",
    rating: "Avaliação: {n}/5",
    assigned_to: "Atendente: {name}",
    msg_pending: "Aguardando envio",
    msg_sent: "Enviada",
    msg_delivered: "Entregue",
    msg_read: "Lida",
    msg_failed: "Não enviada: {error}",
    msg_failed_unknown: "Não enviada",
    deleted: "Esta mensagem foi apagada.",
    edited: "editada",
    loading_older: "Carregando mensagens anteriores…",
    history_start: "Início da conversa",
    download: "Baixar {name}",
    media_unavailable: "{type}: o arquivo não está guardado aqui",
    composer_label: "Mensagem",
    composer_placeholder: "Digite uma mensagem (/ para respostas rápidas)",
    note_placeholder: "Escreva uma nota interna (o cliente nunca a vê)",
    send: "Enviar",
    note_toggle: "Nota",
    cannot_write_closed: "Atendimento encerrado: reabra para escrever.",
    cannot_write_pending: "Aceite o atendimento para responder.",
    cannot_write_other: "Este atendimento é de outro atendente.",
    ticket_gone: "Este atendimento saiu das suas listas.",
    quick_replies: "Respostas rápidas",
    no_quick_replies: "Nenhuma resposta rápida corresponde.",
    transfer_title: "Transferir o atendimento",
    to_queue: "Para a fila",
    to_agent: "Para o atendente",
    nobody: "—",
    cancel: "Cancelar",
    confirm_transfer: "Transferir",
    online: "online",
    transfer_need_target: "Escolha uma fila ou um atendente.",
    notify_enable: "Ativar notificações",
    new_ticket: "Novo atendimento aguardando",
    new_ticket_body: "{name} em {queue}",
    sim_title: "Simulador de celular",
    connection: "Conexão",
    no_sandbox: "Nenhuma conexão sandbox ainda: um admin cria uma com o canal “sandbox”.",
    customer_number: "Número do cliente",
    customer_name: "Nome do cliente",
    open_chat: "Abrir conversa",
    message_placeholder: "Mensagem",
    sim_hint: "Escreva como o cliente: as respostas do bot e dos atendentes aparecem aqui.",
    open_inbox: "Atendimentos",
    open_simulator: "Simulador",
    customer: "Cliente",
  },
  es: {
    app_name: "Atende",
    language: "Idioma",
    theme_dark: "Tema oscuro",
    theme_light: "Tema claro",
    logout: "Salir",
    loading: "Cargando…",
    error_generic: "Algo salió mal. Inténtalo de nuevo.",
    error_network: "Sin conexión con el servidor.",
    live_online: "En vivo",
    live_connecting: "Conectando…",
    live_offline: "Desconectado: reconectando…",
    login_title: "Entrar en Atende",
    email: "Correo",
    password: "Contraseña",
    sign_in: "Entrar",
    login_failed: "Correo o contraseña incorrectos.",
    login_throttled: "Demasiados intentos. Inténtalo más tarde.",
    session_expired: "Tu sesión terminó. Vuelve a entrar.",
    search_placeholder: "Buscar nombre o número",
    search_label: "Buscar tickets",
    tabs_label: "Listas de tickets",
    tab_mine: "Míos",
    tab_waiting: "En espera",
    tab_closed: "Cerrados",
    queue_filter: "Cola",
    all_queues: "Todas las colas",
    no_queue: "Sin cola",
    empty_list: "No hay tickets aquí.",
    load_more: "Cargar más",
    select_ticket: "Elige una conversación a la izquierda.",
    unread: "{n} sin leer",
    status_bot: "Bot",
    status_pending: "En espera",
    status_open: "En atención",
    status_closed: "Cerrado",
    back: "Volver a la lista",
    accept: "Aceptar",
    transfer: "Transferir",
    close: "Cerrar",
    reopen: "Reabrir",
    note_label: "Nota interna",
    bot: "Bot",
    rating: "Valoración: {n}/5",
    assigned_to: "Agente: {name}",
    msg_pending: "Esperando envío",
    msg_sent: "Enviado",
    msg_delivered: "Entregado",
    msg_read: "Leído",
    msg_failed: "No enviado: {error}",
    msg_failed_unknown: "No enviado",
    deleted: "Este mensaje fue eliminado.",
    edited: "editado",
    loading_older: "Cargando mensajes anteriores…",
    history_start: "Inicio de la conversación",
    download: "Descargar {name}",
    media_unavailable: "{type}: el archivo no está guardado aquí",
    composer_label: "Mensaje",
    composer_placeholder: "Escribe un mensaje (/ para respuestas rápidas)",
    note_placeholder: "Escribe una nota interna (el cliente nunca la ve)",
    send: "Enviar",
    note_toggle: "Nota",
    cannot_write_closed: "Ticket cerrado: reábrelo para escribir.",
    cannot_write_pending: "Acepta el ticket para responder.",
    cannot_write_other: "Este ticket es de otro agente.",
    ticket_gone: "Este ticket salió de tus listas.",
    quick_replies: "Respuestas rápidas",
    no_quick_replies: "Ninguna respuesta rápida coincide.",
    transfer_title: "Transferir el ticket",
    to_queue: "A la cola",
    to_agent: "Al agente",
    nobody: "—",
    cancel: "Cancelar",
    confirm_transfer: "Transferir",
    online: "en línea",
    transfer_need_target: "Elige una cola o un agente.",
    notify_enable: "Activar notificaciones",
    new_ticket: "Nuevo ticket en espera",
    new_ticket_body: "{name} en {queue}",
    sim_title: "Simulador de teléfono",
    connection: "Conexión",
    no_sandbox: "Aún no hay conexión sandbox: un admin crea una con el canal “sandbox”.",
    customer_number: "Número del cliente",
    customer_name: "Nombre del cliente",
    open_chat: "Abrir chat",
    message_placeholder: "Mensaje",
    sim_hint: "Escribe como el cliente: las respuestas del bot y de los agentes aparecen aquí.",
    open_inbox: "Bandeja",
    open_simulator: "Simulador",
    customer: "Cliente",
  },
};

/**
 * Add a module's own texts: `extend({en: {...}, "pt-BR": {...}, es: {...}})`. Pages and
 * sections keep their words beside their code; a key defined twice is a mistake.
 */
export function extend(dictionaries) {
  for (const [lang, entries] of Object.entries(dictionaries)) {
    const target = DICTIONARIES[lang];
    if (!target) throw new Error(`unknown language ${lang}`);
    for (const [key, text] of Object.entries(entries)) {
      if (key in target && target[key] !== text) console.warn(`i18n key ${key} redefined`);
      target[key] = text;
    }
  }
}

export const LANGUAGES = [
  ["pt-BR", "Português (Brasil)"],
  ["en", "English"],
  ["es", "Español"],
];

const STORAGE_KEY = "atende.lang";
const listeners = new Set();
let current = pick(readStored() ?? navigator.language);

function readStored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The supported language closest to a BCP 47 tag ("pt" and "pt-PT" → pt-BR). */
export function pick(tag) {
  const lower = String(tag || "").toLowerCase();
  if (lower.startsWith("pt")) return "pt-BR";
  if (lower.startsWith("es")) return "es";
  return "en";
}

export function getLang() {
  return current;
}

/** Switch the UI language, remember it, re-translate the page and tell the views. */
export function setLang(lang) {
  current = pick(lang);
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // A browser without storage still switches for this page.
  }
  applyI18n(document);
  for (const listener of listeners) listener(current);
}

export function onLangChange(listener) {
  listeners.add(listener);
}

/** The text for `key` in the current language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const text = DICTIONARIES[current][key] ?? DICTIONARIES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** Fill data-i18n (text), data-i18n-placeholder, -title and -aria-label under `root`. */
export function applyI18n(root) {
  document.documentElement.lang = current;
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const [attribute, data] of [
    ["placeholder", "i18nPlaceholder"],
    ["title", "i18nTitle"],
    ["aria-label", "i18nAriaLabel"],
  ]) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const element of root.querySelectorAll(selector)) {
      element.setAttribute(attribute, t(element.dataset[data]));
    }
  }
}

/** Times as people read them: today's as HH:MM, older ones with the date. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  const options = sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
  return new Intl.DateTimeFormat(current, options).format(date);
}

export function formatShortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const now = new Date();
  const options =
    date.toDateString() === now.toDateString()
      ? { hour: "2-digit", minute: "2-digit" }
      : { day: "2-digit", month: "2-digit" };
  return new Intl.DateTimeFormat(current, options).format(date);
}
