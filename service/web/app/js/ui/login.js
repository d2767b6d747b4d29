// The login form, shared by the inbox and the simulator.
import { ApiError, login } from "../api.js";
import { h, replace } from "../dom.js";
import { onLangChange, t } from "../i18n.js";
import { languageSelect, themeButton } from "./controls.js";

/**
 * Render the login form into `root`; `onDone(user)` runs after a successful login.
 * `notice` is an i18n key shown above the form (e.g. "session_expired").
 */
export function renderLogin(root, { onDone, notice = null }) {
  const error = h("p", { className: "form-error", attrs: { role: "alert" } });
  const email = h("input", {
    attrs: { id: "login-email", type: "email", name: "email", autocomplete: "username", required: true },
  });
  const password = h("input", {
    attrs: {
      id: "login-password",
      type: "password",
      name: "password",
      autocomplete: "current-password",
      required: true,
    },
  });
  const submit = h("button", { className: "primary", attrs: { type: "submit" } });
  const title = h("h1");
  const emailLabel = h("label", { attrs: { for: "login-email" } });
  const passwordLabel = h("label", { attrs: { for: "login-password" } });
  const noticeLine = h("p", { className: "form-notice" });

  function texts() {
    title.textContent = t("login_title");
    emailLabel.textContent = t("email");
    passwordLabel.textContent = t("password");
    submit.textContent = t("sign_in");
    noticeLine.textContent = notice ? t(notice) : "";
    noticeLine.hidden = !notice;
  }

  const form = h(
    "form",
    {
      className: "login-card",
      attrs: { novalidate: true },
      on: {
        submit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          submit.disabled = true;
          try {
            const user = await login(email.value.trim(), password.value);
            onDone(user);
          } catch (failure) {
            error.textContent = messageOf(failure);
            password.select();
          } finally {
            submit.disabled = false;
          }
        },
      },
    },
    h("div", { className: "login-controls" }, languageSelect(), themeButton()),
    title,
    noticeLine,
    h("div", { className: "field" }, emailLabel, email),
    h("div", { className: "field" }, passwordLabel, password),
    error,
    submit,
  );
  texts();
  onLangChange(() => {
    if (form.isConnected) texts();
  });
  replace(root, form);
  email.focus();
}

function messageOf(failure) {
  if (failure instanceof ApiError) {
    if (failure.status === 401 || failure.status === 422) return t("login_failed");
    if (failure.status === 429) return t("login_throttled");
    if (failure.status === 0) return t("error_network");
  }
  return t("error_generic");
}
