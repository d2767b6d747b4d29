// Light and dark theme: the system's preference unless the user chose, and a toggle.

const STORAGE_KEY = "atende.theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The theme in effect: the user's choice, else the system's. */
export function currentTheme() {
  const chosen = stored();
  if (chosen === "dark" || chosen === "light") return chosen;
  return media.matches ? "dark" : "light";
}

/** Put the theme on <html data-theme> (the CSS reads it) and tell the listeners. */
export function applyTheme() {
  document.documentElement.dataset.theme = currentTheme();
}

export function toggleTheme() {
  const next = currentTheme() === "dark" ? "light" : "dark";
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Not remembered, still switched for this page.
  }
  document.documentElement.dataset.theme = next;
  return next;
}

media.addEventListener("change", () => applyTheme());
