// The editor of a queue's menu options tree (flows/spec.py MenuOption): each option has the
// key the customer types, a title, an optional message and an action; "queue" names the
// queue it forwards to, "submenu" holds child options. The tree lives in a plain model that
// inputs write into, so that a rejected save loses nothing; only structural changes (add,
// remove, move) redraw it. Every error line carries the API's path of what it is about
// ("options.0.children.1.title"), so that a 422 lands beside that option.
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { input, select } from "./forms.js";

extend({
  en: {
    qt_option: "Option {path}",
    qt_key: "Key",
    qt_key_hint: "What the customer types",
    qt_title: "Title",
    qt_message: "Message when chosen",
    qt_action: "Then",
    qt_action_human: "Hand over to an agent",
    qt_action_queue: "Forward to another queue",
    qt_action_submenu: "Show sub-options",
    qt_action_end: "End the conversation",
    qt_queue: "Queue",
    qt_pick_queue: "Choose a queue",
    qt_add: "Add option",
    qt_add_child: "Add sub-option",
    qt_add_after: "Add option after",
    qt_remove: "Remove",
    qt_up: "Move up",
    qt_down: "Move down",
    qt_empty: "No options: the customer goes straight to an agent.",
    qt_children: "Sub-options of {path}",
  },
  "pt-BR": {
    qt_option: "Opção {path}",
    qt_key: "Tecla",
    qt_key_hint: "O que o cliente digita",
    qt_title: "Título",
    qt_message: "Mensagem ao escolher",
    qt_action: "Depois",
    qt_action_human: "Passar para um atendente",
    qt_action_queue: "Encaminhar para outra fila",
    qt_action_submenu: "Mostrar subopções",
    qt_action_end: "Encerrar a conversa",
    qt_queue: "Fila",
    qt_pick_queue: "Escolha uma fila",
    qt_add: "Adicionar opção",
    qt_add_child: "Adicionar subopção",
    qt_add_after: "Adicionar opção depois",
    qt_remove: "Remover",
    qt_up: "Subir",
    qt_down: "Descer",
    qt_empty: "Sem opções: o cliente vai direto para um atendente.",
    qt_children: "Subopções de {path}",
  },
  es: {
    qt_option: "Opción {path}",
    qt_key: "Tecla",
    qt_key_hint: "Lo que escribe el cliente",
    qt_title: "Título",
    qt_message: "Mensaje al elegirla",
    qt_action: "Después",
    qt_action_human: "Pasar a un agente",
    qt_action_queue: "Reenviar a otra cola",
    qt_action_submenu: "Mostrar subopciones",
    qt_action_end: "Terminar la conversación",
    qt_queue: "Cola",
    qt_pick_queue: "Elige una cola",
    qt_add: "Añadir opción",
    qt_add_child: "Añadir subopción",
    qt_add_after: "Añadir opción después",
    qt_remove: "Quitar",
    qt_up: "Subir",
    qt_down: "Bajar",
    qt_empty: "Sin opciones: el cliente pasa directo a un agente.",
    qt_children: "Subopciones de {path}",
  },
});

const ACTIONS = ["human", "queue", "submenu", "end"];
// flows/spec.py: MAX_DEPTH levels at most.
const MAX_DEPTH = 5;

/** The editor's copy of an option as the API gave it (children copied too). */
function fromApi(option) {
  return {
    key: option.key ?? "",
    title: option.title ?? "",
    message: option.message ?? "",
    action: option.action ?? "human",
    queue_id: option.queue_id ?? null,
    children: (option.children ?? []).map(fromApi),
  };
}

/** What the API takes: children only under a submenu, a queue only for "queue" (what the
 * other actions had stays in the editor, in case the admin switches back). */
function toApi(option) {
  return {
    key: option.key.trim(),
    title: option.title.trim(),
    message: option.message,
    action: option.action,
    queue_id: option.action === "queue" ? option.queue_id : null,
    children: option.action === "submenu" ? option.children.map(toApi) : [],
  };
}

/** A key not yet used on this level: the next free number. */
function freeKey(level) {
  const used = new Set(level.map((option) => option.key.trim().toLowerCase()));
  let number = level.length + 1;
  while (used.has(String(number))) number += 1;
  return String(number);
}

function blank(level) {
  return { key: freeKey(level), title: "", message: "", action: "human", queue_id: null, children: [] };
}

/**
 * The tree editor: `treeEditor({options, queues, selfId, onChange})` → {element, value(),
 * clearMarks()}. `queues` are [{id, name}] a "queue" option may forward to.
 */
export function treeEditor({ options = [], queues = [], selfId = null, onChange = () => {} }) {
  const model = options.map(fromApi);
  const element = h("div", { className: "qt", attrs: { id: "queue-tree" } });
  const targets = queues.filter((queue) => queue.id !== selfId);

  function changed() {
    onChange();
  }

  /** Redraw after a structural change and put the focus on `focusSelector` if given. */
  function redraw(focusSelector = null, { quiet = false } = {}) {
    replace(element, level(model, "options", 1, ""));
    if (focusSelector) element.querySelector(focusSelector)?.focus();
    if (!quiet) changed();
  }

  function errorLine(path) {
    return h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: path } });
  }

  function level(list, path, depth, label) {
    const items = list.map((option, index) => optionItem(list, index, `${path}.${index}`, depth, label));
    const add = h("button", {
      className: "qt-add",
      attrs: { type: "button", "data-add-to": path },
      text: depth === 1 ? t("qt_add") : t("qt_add_child"),
      on: {
        click: () => {
          list.push(blank(list));
          redraw(`[data-path="${path}.${list.length - 1}"] [data-part=title]`);
        },
      },
    });
    return h(
      "div",
      { className: "qt-level", dataset: { level: path } },
      list.length
        ? h("ol", { className: "qt-list", attrs: label ? { "aria-label": t("qt_children", { path: label }) } : {} }, items)
        : depth === 1
          ? h("p", { className: "muted qt-empty", text: t("qt_empty") })
          : null,
      errorLine(path),
      add,
    );
  }

  function optionItem(list, index, path, depth, parentLabel) {
    const option = list[index];
    const label = parentLabel ? `${parentLabel}.${index + 1}` : String(index + 1);
    const id = `qt-${path.replace(/\W/g, "-")}`;

    const text = (part, attrs, value) => {
      const control = input({ ...attrs, id: `${id}-${part}`, "data-part": part, "data-path-field": `${path}.${part}` }, value);
      control.addEventListener("input", () => {
        option[part] = control.value;
        changed();
      });
      return control;
    };
    const cell = (part, labelKey, control, hintKey = null) =>
      h(
        "div",
        { className: `field qt-${part}` },
        h("label", { attrs: { for: control.id }, text: t(labelKey) }),
        control,
        hintKey ? h("p", { className: "field-hint muted", text: t(hintKey) }) : null,
        errorLine(`${path}.${part}`),
      );

    const key = text("key", { type: "text", maxlength: 20, required: true, autocomplete: "off" }, option.key);
    const title = text("title", { type: "text", maxlength: 100, required: true, autocomplete: "off" }, option.title);
    const message = h("textarea", {
      attrs: { id: `${id}-message`, rows: 2, maxlength: 2000, "data-part": "message", "data-path-field": `${path}.message` },
      props: { value: option.message },
      on: {
        input: (event) => {
          option.message = event.target.value;
          changed();
        },
      },
    });
    const action = select(
      ACTIONS.map((name) => [name, t(`qt_action_${name}`)]),
      option.action,
      { id: `${id}-action`, "data-part": "action", "data-path-field": `${path}.action` },
    );
    const queue = select(
      [["", t("qt_pick_queue")], ...targets.map((target) => [String(target.id), target.name])],
      option.queue_id ?? "",
      { id: `${id}-queue_id`, "data-part": "queue_id", "data-path-field": `${path}.queue_id` },
    );
    queue.addEventListener("change", () => {
      option.queue_id = queue.value ? Number(queue.value) : null;
      changed();
    });
    const queueCell = cell("queue_id", "qt_queue", queue);
    queueCell.hidden = option.action !== "queue";
    action.addEventListener("change", () => {
      const before = option.action;
      option.action = action.value;
      // A new submenu starts with one sub-option to fill in (the API wants at least one).
      if (option.action === "submenu" && !option.children.length) option.children.push(blank([]));
      if ((before === "submenu") !== (option.action === "submenu")) {
        redraw(`#${CSS.escape(`${id}-action`)}`);
      } else {
        queueCell.hidden = option.action !== "queue";
        changed();
      }
    });

    const tool = (textKey, onClick, { disabled = false, name }) =>
      h("button", {
        className: "qt-tool",
        attrs: {
          type: "button",
          disabled,
          "data-tool": name,
          "aria-label": `${t(textKey)} (${t("qt_option", { path: label })})`,
        },
        text: t(textKey),
        on: { click: onClick },
      });
    const focusTool = (atPath, name) => `[data-path="${atPath}"] > .qt-head [data-tool=${name}]`;
    const parent = path.slice(0, path.lastIndexOf("."));
    const tools = h(
      "div",
      { className: "qt-tools" },
      tool("qt_up", () => {
        [list[index - 1], list[index]] = [list[index], list[index - 1]];
        redraw(focusTool(`${parent}.${index - 1}`, index - 1 === 0 ? "down" : "up"));
      }, { disabled: index === 0, name: "up" }),
      tool("qt_down", () => {
        [list[index + 1], list[index]] = [list[index], list[index + 1]];
        redraw(focusTool(`${parent}.${index + 1}`, index + 1 === list.length - 1 ? "up" : "down"));
      }, { disabled: index === list.length - 1, name: "down" }),
      tool("qt_add_after", () => {
        list.splice(index + 1, 0, blank(list));
        redraw(`[data-path="${parent}.${index + 1}"] [data-part=title]`);
      }, { name: "after" }),
      depth < MAX_DEPTH
        ? tool("qt_add_child", () => {
            option.action = "submenu";
            option.children.push(blank(option.children));
            redraw(`[data-path="${path}.children.${option.children.length - 1}"] [data-part=title]`);
          }, { name: "child" })
        : null,
      tool("qt_remove", () => {
        list.splice(index, 1);
        const next = list.length ? `${parent}.${Math.min(index, list.length - 1)}` : null;
        redraw(next ? `[data-path="${next}"] [data-part=title]` : `[data-add-to="${parent}"]`);
      }, { name: "remove" }),
    );

    return h(
      "li",
      { className: "qt-option", dataset: { path } },
      h(
        "fieldset",
        { className: "qt-head" },
        h("legend", { text: t("qt_option", { path: label }) }),
        h(
          "div",
          { className: "qt-fields" },
          cell("key", "qt_key", key, "qt_key_hint"),
          cell("title", "qt_title", title),
          cell("action", "qt_action", action),
          queueCell,
          cell("message", "qt_message", message),
        ),
        errorLine(path),
        tools,
      ),
      option.action === "submenu"
        ? h("div", { className: "qt-children" }, level(option.children, `${path}.children`, depth + 1, label))
        : null,
    );
  }

  redraw(null, { quiet: true });
  return {
    element,
    value: () => model.map(toApi),
    /** The top-level lines of the menu as the bot lists them ("1 - Suporte"). */
    lines: () => model.map((option) => `${option.key.trim()} - ${option.title.trim()}`),
  };
}
