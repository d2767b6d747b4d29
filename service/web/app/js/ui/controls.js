// The top bar's language picker and theme toggle, shared by the inbox and the simulator.
import { h } from "../dom.js";
import { LANGUAGES, getLang, onLangChange, setLang, t } from "../i18n.js";
import { currentTheme, toggleTheme } from "./theme.js";

/** A <select> of the UI languages, bound to the current one. */
export function languageSelect() {
  const select = h(
    "select",
    {
      className: "control",
      attrs: { "data-i18n-aria-label": "language", "aria-label": t("language") },
      on: { change: () => setLang(select.value) },
    },
    LANGUAGES.map(([code, name]) => h("option", { attrs: { value: code }, text: name })),
  );
  select.value = getLang();
  onLangChange((lang) => {
    select.value = lang;
  });
  return select;
}

/** A button that switches between the light and the dark theme. */
export function themeButton() {
  const button = h("button", {
    className: "icon-button",
    attrs: { type: "button" },
    on: {
      click: () => {
        toggleTheme();
        label();
      },
    },
  });
  function label() {
    const next = currentTheme() === "dark" ? "theme_light" : "theme_dark";
    button.textContent = currentTheme() === "dark" ? "☀" : "☾";
    button.setAttribute("aria-label", t(next));
    button.title = t(next);
  }
  label();
  onLangChange(label);
  return button;
}
