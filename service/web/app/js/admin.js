// The admin at /admin: queues and menus, connections, users, tags, quick replies, bot
// texts and the dashboard. One section at a time, chosen by the URL's hash; the live feed
// is passed to the section shown (a connection's QR code, today's figures).
import { currentToken, currentUser, logout, onSession, refresh, restore } from "./api.js";
import { SECTIONS } from "./admin/sections.js";
import { h, byId, replace } from "./dom.js";
import { applyI18n, extend, onLangChange, t } from "./i18n.js";
import { LiveSocket } from "./socket.js";
import { languageSelect, themeButton } from "./ui/controls.js";
import { renderLogin } from "./ui/login.js";
import { applyTheme } from "./ui/theme.js";
import { toast } from "./ui/toast.js";

extend({
  en: {
    admin_title: "Admin",
    admin_sections: "Admin sections",
    admin_forbidden: "Only administrators and supervisors use this page.",
  },
  "pt-BR": {
    admin_title: "Administração",
    admin_sections: "Seções da administração",
    admin_forbidden: "Somente administradores e supervisores usam esta página.",
  },
  es: {
    admin_title: "Administración",
    admin_sections: "Secciones de la administración",
    admin_forbidden: "Solo administradores y supervisores usan esta página.",
  },
});

applyTheme();
applyI18n(document);

let session = null; // {socket, shown: {section, view}}

async function main() {
  byId("controls").append(languageSelect(), themeButton());
  byId("logout").addEventListener("click", () => logout());
  onSession((user, reason) => {
    if (!user) {
      stop();
      showLogin(reason === "expired" ? "session_expired" : null);
    }
  });
  onLangChange(() => {
    renderNav();
    show();
  });
  window.addEventListener("hashchange", () => show());
  if (await restore()) start();
  else showLogin();
}

function showLogin(notice = null) {
  byId("admin-view").hidden = true;
  const view = byId("login-view");
  view.hidden = false;
  renderLogin(view, { notice, onDone: () => start() });
}

/** The sections this user may open. */
function allowed() {
  const role = currentUser()?.role;
  return SECTIONS.filter((section) => section.roles.includes(role));
}

function start() {
  byId("login-view").hidden = true;
  byId("admin-view").hidden = false;
  byId("me").textContent = currentUser().name;
  const socket = new LiveSocket({
    getToken: currentToken,
    refresh,
    onEvent: (event) => session?.shown?.view?.onEvent?.(event),
    onStatus: (state) => {
      const live = byId("live");
      live.dataset.state = state;
      live.textContent = t(`live_${state}`);
    },
  });
  session = { socket, shown: null };
  socket.start();
  renderNav();
  show();
}

function stop() {
  if (!session) return;
  session.shown?.view?.destroy?.();
  session.socket.stop();
  session = null;
}

function renderNav() {
  if (!session) return;
  const current = currentSection()?.id;
  replace(
    byId("admin-nav"),
    ...allowed().map((section) =>
      h("a", {
        className: "admin-nav-link",
        text: t(section.titleKey),
        attrs: {
          href: `#${section.id}`,
          id: `nav-${section.id}`,
          "aria-current": section.id === current ? "page" : null,
        },
      }),
    ),
  );
}

function currentSection() {
  const sections = allowed();
  const id = location.hash.replace(/^#/, "").split("/")[0];
  return sections.find((section) => section.id === id) ?? sections[0] ?? null;
}

/** Render the section named by the hash (the first allowed one by default). */
async function show() {
  if (!session) return;
  session.shown?.view?.destroy?.();
  session.shown = null;
  const root = byId("admin-main");
  const section = currentSection();
  renderNav();
  if (!section) {
    replace(root, h("p", { className: "muted", text: t("admin_forbidden") }));
    return;
  }
  replace(root, h("h1", { className: "admin-heading", text: t(section.titleKey) }));
  const body = h("div", { className: "admin-body", attrs: { id: `section-${section.id}` } });
  root.append(body);
  const shown = { section, view: null };
  session.shown = shown;
  try {
    const view = await section.render(body, { me: currentUser(), path: sectionPath() });
    if (session?.shown === shown) shown.view = view ?? null;
    else view?.destroy?.();
  } catch (error) {
    console.warn(`section ${section.id} failed`, error);
    toast(error.message || t("error_generic"), "error");
  }
}

/** What follows the section in the hash: "#queues/3" → "3". */
function sectionPath() {
  return location.hash.replace(/^#/, "").split("/").slice(1).join("/");
}

main().catch((error) => {
  console.warn("Atende admin could not start", error);
  toast(t("error_generic"), "error");
});
