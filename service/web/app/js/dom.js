// Building DOM safely: every string becomes a text node or a property, never markup.
// Customer-controlled text (names, messages, custom fields) only ever reaches the page
// through these helpers, so it can never turn into elements or scripts.

const FORBIDDEN_ATTRIBUTES = /^(on|style$|srcdoc$)/i;
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction"]);

/** A safe URL for href/src: same-origin paths, blob: and data:image; anything else is dropped. */
export function safeUrl(value) {
  const text = String(value);
  if (text.startsWith("/") && !text.startsWith("//")) return text;
  if (text.startsWith("blob:") || text.startsWith("data:image/")) return text;
  if (text.startsWith("#")) return text;
  return null;
}

/**
 * h("button", {className: "x", attrs: {type: "button"}, on: {click}}, "text", child…)
 * Options: className, text, attrs, dataset, props, on. Children: nodes, strings, arrays;
 * null/undefined/false are skipped.
 */
export function h(tag, options = {}, ...children) {
  const element = document.createElement(tag);
  const { className, text, attrs, dataset, props, on } = options;
  if (className) element.className = className;
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (FORBIDDEN_ATTRIBUTES.test(name)) throw new Error(`attribute ${name} is not allowed`);
    if (URL_ATTRIBUTES.has(name.toLowerCase())) {
      const url = safeUrl(value);
      if (url !== null) element.setAttribute(name, url);
      continue;
    }
    element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const [name, value] of Object.entries(dataset ?? {})) {
    element.dataset[name] = String(value);
  }
  for (const [name, value] of Object.entries(props ?? {})) {
    element[name] = value;
  }
  for (const [event, handler] of Object.entries(on ?? {})) {
    element.addEventListener(event, handler);
  }
  if (text !== undefined && text !== null) element.textContent = String(text);
  append(element, children);
  return element;
}

/** Append children (nodes, strings as text, arrays), skipping empty ones. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace an element's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** The element with this id (throws if the page lacks it: a bug, not a user error). */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing`);
  return element;
}

/** Run `fn` at most once per `ms`, with the last arguments. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
