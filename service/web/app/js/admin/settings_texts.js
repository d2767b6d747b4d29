// The names of the bot's texts and of their {{variables}}, for the settings page. The
// texts themselves (the defaults) come from the server, so that there is one copy.
import { extend } from "../i18n.js";

/** The languages the bot speaks, by their code, each named in itself. */
export const BOT_LANGUAGES = [
  ["pt-BR", "Português (Brasil)"],
  ["en", "English"],
  ["es", "Español"],
];

const TEXTS = {
  welcome: ["Welcome", "Boas-vindas", "Bienvenida"],
  menu_header: ["Above the menu", "Acima do menu", "Encima del menú"],
  submenu_header: ["Above a submenu", "Acima de um submenu", "Encima de un submenú"],
  not_understood: ["Answer not understood", "Resposta não entendida", "Respuesta no entendida"],
  fallback: ["Handing over after wrong answers", "Encaminhamento após respostas erradas", "Derivación tras respuestas erróneas"],
  menu_end: ["Closing from a menu option", "Encerramento por opção do menu", "Cierre desde una opción del menú"],
  queue_chosen: ["Queue chosen", "Fila escolhida", "Cola elegida"],
  waiting: ["Waiting for an agent", "Aguardando um atendente", "Esperando a un agente"],
  out_of_hours: ["Out of hours", "Fora do horário", "Fuera de horario"],
  human_handoff: ["Customer asked for an agent", "Cliente pediu um atendente", "El cliente pidió un agente"],
  optout: ["Campaigns stopped", "Campanhas interrompidas", "Campañas detenidas"],
  optin: ["Campaigns resumed", "Campanhas retomadas", "Campañas reanudadas"],
  csat_question: ["Rating question", "Pergunta da avaliação", "Pregunta de evaluación"],
  csat_thanks: ["Thanks for the rating", "Agradecimento pela avaliação", "Gracias por la evaluación"],
  csat_invalid: ["Rating not understood", "Avaliação não entendida", "Evaluación no entendida"],
  back_hint: ["“Back” option", "Opção “voltar”", "Opción “volver”"],
  main_menu_hint: ["“Main menu” option", "Opção “menu principal”", "Opción “menú principal”"],
};

const VARIABLES = {
  name: ["the customer's name", "o nome do cliente", "el nombre del cliente"],
  first_name: ["the customer's first name", "o primeiro nome do cliente", "el primer nombre del cliente"],
  queue: ["the queue's name", "o nome da fila", "el nombre de la cola"],
  agent: ["the agent's name", "o nome do atendente", "el nombre del agente"],
  protocol: ["the ticket's protocol number", "o número de protocolo do ticket", "el número de protocolo del ticket"],
  greeting: ["good morning / afternoon / evening", "bom dia / boa tarde / boa noite", "buenos días / buenas tardes / buenas noches"],
};

/** i18n key of each text's label, by text key. */
export const TEXT_LABELS = Object.fromEntries(Object.keys(TEXTS).map((key) => [key, `settings_text_${key}`]));
/** i18n key of each variable's meaning, by variable name. */
export const VARIABLE_LABELS = Object.fromEntries(Object.keys(VARIABLES).map((key) => [key, `settings_var_${key}`]));

function dictionary(index) {
  return {
    ...Object.fromEntries(Object.entries(TEXTS).map(([key, names]) => [TEXT_LABELS[key], names[index]])),
    ...Object.fromEntries(Object.entries(VARIABLES).map(([key, names]) => [VARIABLE_LABELS[key], names[index]])),
  };
}

extend({ en: dictionary(0), "pt-BR": dictionary(1), es: dictionary(2) });
