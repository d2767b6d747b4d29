// A ticket's history as system lines between its messages: "Ana accepted", "Transferred from
// Suporte to Financeiro by Ana: …", "Closed by the bot", "Reopened by Bruno".
import { h } from "../dom.js";
import { extend, formatTime, t } from "../i18n.js";

extend({
  en: {
    hl_actor_bot: "the bot",
    hl_actor_timer: "a timer",
    hl_actor_customer: "the customer",
    hl_actor_system: "the system",
    hl_deleted: "(deleted)",
    hl_no_queue: "no queue",
    hl_created: "Opened by {actor}",
    hl_handed_off: "The bot handed the conversation over to {to}",
    hl_accepted: "{actor} accepted",
    hl_transferred: "Transferred from {from} to {to} by {actor}",
    hl_transferred_user: "Transferred to {user} by {actor}",
    hl_transferred_both: "Transferred from {from} to {to}, to {user}, by {actor}",
    hl_closed: "Closed by {actor}",
    hl_closed_reason: "Closed by {actor}: {reason}",
    hl_reason_inactivity: "no reply for too long",
    hl_reason_out_of_hours: "out of business hours",
    hl_reopened: "Reopened by {actor}",
    hl_rated: "The customer rated {n}/5",
    hl_rating_expired: "The rating question went unanswered",
    hl_fallback: "Moved to {to}: it waited too long without a queue",
  },
  "pt-BR": {
    hl_actor_bot: "o bot",
    hl_actor_timer: "um temporizador",
    hl_actor_customer: "o cliente",
    hl_actor_system: "o sistema",
    hl_deleted: "(excluído)",
    hl_no_queue: "sem fila",
    hl_created: "Aberto por {actor}",
    hl_handed_off: "O bot passou a conversa para {to}",
    hl_accepted: "{actor} aceitou",
    hl_transferred: "Transferido de {from} para {to} por {actor}",
    hl_transferred_user: "Transferido para {user} por {actor}",
    hl_transferred_both: "Transferido de {from} para {to}, para {user}, por {actor}",
    hl_closed: "Encerrado por {actor}",
    hl_closed_reason: "Encerrado por {actor}: {reason}",
    hl_reason_inactivity: "sem resposta por muito tempo",
    hl_reason_out_of_hours: "fora do horário de atendimento",
    hl_reopened: "Reaberto por {actor}",
    hl_rated: "O cliente avaliou com {n}/5",
    hl_rating_expired: "A pergunta de avaliação ficou sem resposta",
    hl_fallback: "Movido para {to}: esperou demais sem fila",
  },
  es: {
    hl_actor_bot: "el bot",
    hl_actor_timer: "un temporizador",
    hl_actor_customer: "el cliente",
    hl_actor_system: "el sistema",
    hl_deleted: "(eliminado)",
    hl_no_queue: "sin cola",
    hl_created: "Abierto por {actor}",
    hl_handed_off: "El bot pasó la conversación a {to}",
    hl_accepted: "{actor} aceptó",
    hl_transferred: "Transferido de {from} a {to} por {actor}",
    hl_transferred_user: "Transferido a {user} por {actor}",
    hl_transferred_both: "Transferido de {from} a {to}, a {user}, por {actor}",
    hl_closed: "Cerrado por {actor}",
    hl_closed_reason: "Cerrado por {actor}: {reason}",
    hl_reason_inactivity: "sin respuesta por mucho tiempo",
    hl_reason_out_of_hours: "fuera del horario de atención",
    hl_reopened: "Reabierto por {actor}",
    hl_rated: "El cliente calificó con {n}/5",
    hl_rating_expired: "La pregunta de calificación quedó sin respuesta",
    hl_fallback: "Movido a {to}: esperó demasiado sin cola",
  },
});

function named(ref) {
  if (!ref) return t("hl_no_queue");
  return ref.name ?? t("hl_deleted");
}

function actorName(actor) {
  if (actor.kind === "user") return actor.name ?? t("hl_deleted");
  return t(`hl_actor_${actor.kind}`);
}

function reasonText(reason) {
  const key = `hl_reason_${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

/** What the line says, in the interface's language. */
export function historyText(line) {
  const actor = actorName(line.actor);
  switch (line.kind) {
    case "created":
      return t("hl_created", { actor });
    case "handed_off":
      return t("hl_handed_off", { to: named(line.to_queue) });
    case "accepted":
      return t("hl_accepted", { actor });
    case "transferred": {
      const queueMoved = line.from_queue?.id !== line.to_queue?.id;
      const user = line.to_user ? named(line.to_user) : null;
      if (queueMoved && user) {
        return t("hl_transferred_both", {
          from: named(line.from_queue),
          to: named(line.to_queue),
          user,
          actor,
        });
      }
      if (user) return t("hl_transferred_user", { user, actor });
      return t("hl_transferred", { from: named(line.from_queue), to: named(line.to_queue), actor });
    }
    case "closed":
      return line.reason
        ? t("hl_closed_reason", { actor, reason: reasonText(line.reason) })
        : t("hl_closed", { actor });
    case "reopened":
      return t("hl_reopened", { actor });
    case "rated":
      return t("hl_rated", { n: line.reason });
    case "rating_expired":
      return t("hl_rating_expired");
    case "fallback":
      return t("hl_fallback", { to: named(line.to_queue) });
    default:
      return line.kind;
  }
}

/** The line as an item of the message list; the note, when there is one, below it. */
export function historyElement(line) {
  const text = line.note ? `${historyText(line)}: ${line.note}` : historyText(line);
  return h(
    "li",
    {
      className: "history-line",
      attrs: { role: "note" },
      dataset: { kind: line.kind, historyId: String(line.id) },
    },
    h("span", { className: "history-text", text }),
    h("time", { attrs: { datetime: line.at }, text: formatTime(line.at) }),
  );
}
