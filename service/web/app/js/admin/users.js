// Users: the company's people with their role, queues and whether they are online now;
// create, edit, deactivate or reactivate, delete. Presence comes from GET /api/presence
// and then from the live feed's presence.updated events.
import { allPages, api } from "../api.js";
import { h, replace } from "../dom.js";
import { extend, t } from "../i18n.js";
import { toast } from "../ui/toast.js";
import { clearErrors, confirmDialog, field, input, select, showErrors, table } from "./forms.js";

extend({
  en: {
    section_users: "Users",
    users_new: "New user",
    users_edit_title: "Edit {name}",
    users_name: "Name",
    users_email: "Email",
    users_password: "Password",
    users_password_keep: "Leave empty to keep the current password.",
    users_password_hint: "At least 8 characters.",
    users_role: "Role",
    users_role_admin: "Administrator",
    users_role_supervisor: "Supervisor",
    users_role_agent: "Agent",
    users_language: "Language",
    users_queues: "Queues",
    users_no_queues: "No queues yet: create them under Queues.",
    users_active: "Active",
    users_yes: "Yes",
    users_no: "No",
    users_online: "Online",
    users_offline: "Offline",
    users_deactivate: "Deactivate",
    users_reactivate: "Reactivate",
    users_deactivated: "{name} can no longer sign in.",
    users_reactivated: "{name} can sign in again.",
    users_delete_confirm: "Delete {name}? Their tickets stay, without an agent.",
    users_deactivate_confirm: "Deactivate {name}? They are signed out at once.",
    users_deleted: "User deleted.",
    users_created: "User created.",
    users_empty: "No users yet.",
    users_cancel: "Cancel",
    users_you: "(you)",
  },
  "pt-BR": {
    section_users: "Usuários",
    users_new: "Novo usuário",
    users_edit_title: "Editar {name}",
    users_name: "Nome",
    users_email: "E-mail",
    users_password: "Senha",
    users_password_keep: "Deixe vazio para manter a senha atual.",
    users_password_hint: "Pelo menos 8 caracteres.",
    users_role: "Papel",
    users_role_admin: "Administrador",
    users_role_supervisor: "Supervisor",
    users_role_agent: "Atendente",
    users_language: "Idioma",
    users_queues: "Filas",
    users_no_queues: "Nenhuma fila ainda: crie-as em Filas.",
    users_active: "Ativo",
    users_yes: "Sim",
    users_no: "Não",
    users_online: "On-line",
    users_offline: "Off-line",
    users_deactivate: "Desativar",
    users_reactivate: "Reativar",
    users_deactivated: "{name} não pode mais entrar.",
    users_reactivated: "{name} pode entrar de novo.",
    users_delete_confirm: "Excluir {name}? Os tickets ficam, sem atendente.",
    users_deactivate_confirm: "Desativar {name}? A sessão termina na hora.",
    users_deleted: "Usuário excluído.",
    users_created: "Usuário criado.",
    users_empty: "Nenhum usuário ainda.",
    users_cancel: "Cancelar",
    users_you: "(você)",
  },
  es: {
    section_users: "Usuarios",
    users_new: "Nuevo usuario",
    users_edit_title: "Editar {name}",
    users_name: "Nombre",
    users_email: "Correo",
    users_password: "Contraseña",
    users_password_keep: "Déjala vacía para mantener la contraseña actual.",
    users_password_hint: "Al menos 8 caracteres.",
    users_role: "Rol",
    users_role_admin: "Administrador",
    users_role_supervisor: "Supervisor",
    users_role_agent: "Agente",
    users_language: "Idioma",
    users_queues: "Colas",
    users_no_queues: "Todavía no hay colas: créalas en Colas.",
    users_active: "Activo",
    users_yes: "Sí",
    users_no: "No",
    users_online: "En línea",
    users_offline: "Desconectado",
    users_deactivate: "Desactivar",
    users_reactivate: "Reactivar",
    users_deactivated: "{name} ya no puede entrar.",
    users_reactivated: "{name} puede entrar de nuevo.",
    users_delete_confirm: "¿Eliminar a {name}? Sus tickets quedan, sin agente.",
    users_deactivate_confirm: "¿Desactivar a {name}? Su sesión termina al instante.",
    users_deleted: "Usuario eliminado.",
    users_created: "Usuario creado.",
    users_empty: "Todavía no hay usuarios.",
    users_cancel: "Cancelar",
    users_you: "(tú)",
  },
});

const ROLES = ["agent", "supervisor", "admin"];
const LANGUAGES = [
  ["pt-BR", "Português (Brasil)"],
  ["en", "English"],
  ["es", "Español"],
];

export default {
  id: "users",
  titleKey: "section_users",
  roles: ["admin"],
  async render(root, ctx) {
    const state = { users: [], queues: [], online: new Set(), editing: null };
    const error = h("p", { className: "form-error", attrs: { role: "alert", id: "users-error" } });
    const editor = h("div", { className: "ap-editor", attrs: { id: "user-editor" }, props: { hidden: true } });
    const list = h("div", { className: "ap-scroll" }, h("p", { className: "muted", text: t("loading") }));
    const newButton = h("button", {
      className: "primary",
      attrs: { type: "button", id: "user-new" },
      text: t("users_new"),
      on: { click: () => openEditor(null) },
    });
    replace(root, h("div", { className: "ap-toolbar" }, newButton), error, editor, list);

    async function load() {
      const [users, queues, presence] = await Promise.all([
        allPages("/api/users"),
        allPages("/api/queues"),
        api("/api/presence"),
      ]);
      state.users = users;
      state.queues = queues;
      state.online = new Set(presence.online);
      // Whoever looks at this page is online, even if their socket has not joined yet.
      state.online.add(ctx.me.id);
      renderList();
    }

    function queueNames(user) {
      const names = new Map(state.queues.map((queue) => [queue.id, queue.name]));
      return user.queue_ids.map((id) => names.get(id)).filter(Boolean).join(", ");
    }

    function dot(user) {
      const online = state.online.has(user.id);
      const label = t(online ? "users_online" : "users_offline");
      return h("span", {
        className: online ? "ap-dot ap-dot-on" : "ap-dot",
        attrs: { role: "img", "aria-label": label, title: label, "data-online": String(online) },
      });
    }

    function renderList() {
      if (!state.users.length) {
        replace(list, h("p", { className: "muted", text: t("users_empty") }));
        return;
      }
      replace(
        list,
        table(
          [
            [
              "users_name",
              (user) =>
                h(
                  "span",
                  { className: "ap-name" },
                  dot(user),
                  h("span", { text: user.name }),
                  user.id === ctx.me.id ? h("span", { className: "muted", text: t("users_you") }) : null,
                ),
            ],
            ["users_email", (user) => h("span", { className: "ap-break", text: user.email })],
            ["users_role", (user) => t(`users_role_${user.role}`)],
            ["users_queues", (user) => queueNames(user)],
            ["users_active", (user) => t(user.is_active ? "users_yes" : "users_no")],
            ["", (user) => actions(user)],
          ],
          state.users,
          {
            className: "admin-table ap-table",
            rowAttrs: (user) => ({ "data-user-id": user.id, "data-active": String(user.is_active) }),
          },
        ),
      );
    }

    function actions(user) {
      const self = user.id === ctx.me.id;
      return h(
        "span",
        { className: "ap-actions" },
        h("button", {
          attrs: { type: "button", "data-action": "edit", "aria-label": `${t("edit")}: ${user.name}` },
          text: t("edit"),
          on: { click: () => openEditor(user) },
        }),
        self
          ? null
          : h("button", {
              attrs: { type: "button", "data-action": user.is_active ? "deactivate" : "reactivate" },
              text: t(user.is_active ? "users_deactivate" : "users_reactivate"),
              on: { click: () => setActive(user, !user.is_active) },
            }),
        self
          ? null
          : h("button", {
              className: "ap-danger",
              attrs: { type: "button", "data-action": "delete", "aria-label": `${t("delete")}: ${user.name}` },
              text: t("delete"),
              on: { click: () => remove(user) },
            }),
      );
    }

    async function setActive(user, active) {
      error.textContent = "";
      if (!active && !(await confirmDialog(t("users_deactivate_confirm", { name: user.name }), { confirmKey: "users_deactivate" }))) {
        return;
      }
      try {
        await api(`/api/users/${user.id}`, { method: "PATCH", body: { is_active: active } });
        toast(t(active ? "users_reactivated" : "users_deactivated", { name: user.name }));
        await load();
      } catch (failure) {
        error.textContent = failure.message || t("error_generic");
      }
    }

    async function remove(user) {
      error.textContent = "";
      if (!(await confirmDialog(t("users_delete_confirm", { name: user.name }), { confirmKey: "delete" }))) return;
      try {
        await api(`/api/users/${user.id}`, { method: "DELETE" });
        toast(t("users_deleted"));
        if (state.editing?.id === user.id) closeEditor();
        await load();
      } catch (failure) {
        error.textContent = failure.message || t("error_generic");
      }
    }

    function closeEditor() {
      state.editing = null;
      editor.hidden = true;
      editor.replaceChildren();
      newButton.focus();
    }

    function openEditor(user) {
      state.editing = user;
      const name = input({ type: "text", maxlength: 200, required: true, autocomplete: "off" }, user?.name ?? "");
      const email = input({ type: "email", maxlength: 254, required: true, autocomplete: "off" }, user?.email ?? "");
      const password = input({ type: "password", maxlength: 200, autocomplete: "new-password", minlength: 8, required: !user });
      const role = select(ROLES.map((value) => [value, t(`users_role_${value}`)]), user?.role ?? "agent");
      const language = select(LANGUAGES, user?.language ?? "pt-BR");
      const chosen = new Set(user?.queue_ids ?? []);
      const boxes = state.queues.map((queue) =>
        h(
          "label",
          { className: "ap-check" },
          input({ type: "checkbox", value: String(queue.id), "data-queue-id": queue.id }, chosen.has(queue.id)),
          h("span", { text: queue.name }),
        ),
      );
      const queues = h(
        "fieldset",
        { className: "ap-fieldset", dataset: { field: "queue_ids" } },
        h("legend", { text: t("users_queues") }),
        boxes.length ? h("div", { className: "ap-checks" }, boxes) : h("p", { className: "muted", text: t("users_no_queues") }),
        h("p", { className: "field-error", attrs: { role: "alert" }, dataset: { errorFor: "queue_ids" } }),
      );
      const form = h(
        "form",
        { className: "ap-form", attrs: { id: "user-form", novalidate: true, "aria-labelledby": "user-form-title" } },
        h("h2", {
          className: "ap-title",
          attrs: { id: "user-form-title" },
          text: user ? t("users_edit_title", { name: user.name }) : t("users_new"),
        }),
        h(
          "div",
          { className: "ap-grid" },
          field("name", name, { labelKey: "users_name" }),
          field("email", email, { labelKey: "users_email" }),
          field("password", password, {
            labelKey: "users_password",
            hint: user ? "users_password_keep" : "users_password_hint",
          }),
          field("role", role, { labelKey: "users_role" }),
          field("language", language, { labelKey: "users_language" }),
        ),
        queues,
        h("p", { className: "form-error", attrs: { role: "alert" } }),
        h(
          "div",
          { className: "ap-buttons" },
          h("button", { className: "primary", attrs: { type: "submit", id: "user-save" }, text: t("save") }),
          h("button", { attrs: { type: "button" }, text: t("users_cancel"), on: { click: closeEditor } }),
        ),
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        clearErrors(form);
        const body = {
          name: name.value.trim(),
          email: email.value.trim(),
          role: role.value,
          language: language.value,
          queue_ids: boxes.map((box) => box.querySelector("input")).filter((box) => box.checked).map((box) => Number(box.value)),
        };
        if (password.value || !user) body.password = password.value;
        const submit = form.querySelector("#user-save");
        submit.disabled = true;
        try {
          if (user) await api(`/api/users/${user.id}`, { method: "PATCH", body });
          else await api("/api/users", { method: "POST", body });
          toast(t(user ? "saved" : "users_created"));
          closeEditor();
          await load();
        } catch (failure) {
          showErrors(form, failure);
        } finally {
          submit.disabled = false;
        }
      });
      replace(editor, form);
      editor.hidden = false;
      name.focus();
    }

    await load();
    return {
      onEvent(event) {
        if (event.type !== "presence.updated") return;
        const { user_id: userId, online } = event.data ?? {};
        if (online) state.online.add(userId);
        else state.online.delete(userId);
        for (const row of list.querySelectorAll(`tr[data-user-id="${CSS.escape(String(userId))}"]`)) {
          row.querySelector(".ap-dot")?.replaceWith(dot(state.users.find((user) => user.id === userId)));
        }
      },
    };
  },
};
