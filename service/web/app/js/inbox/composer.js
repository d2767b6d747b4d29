// The chat's composer: Enter sends, Shift+Enter starts a new line; "/" at the start opens
// the quick replies (arrows to move, Enter or Tab to pick, Escape to close); "Note" writes
// an internal note instead of a message to the customer. A file (paperclip, drop, paste)
// goes with the text as its caption; the customer sees "typing…" while the agent writes.
import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { Attachment } from "./attachments.js";
import { TypingSignal } from "./typing.js";

const MAX_ROWS = 6;
let quickReplies = null;

/** The company's quick replies, fetched once per page. */
function loadQuickReplies() {
  if (!quickReplies) {
    quickReplies = api("/api/quick-replies", { query: { limit: 200 } })
      .then((page) => page.items)
      .catch(() => {
        quickReplies = null;
        return [];
      });
  }
  return quickReplies;
}

export class Composer {
  /** onSend(text, {note, file}) resolves when sent (and rejects to keep the text and file);
   * onTyping(typing) tells the customer's phone (never throws). */
  constructor({ onSend, onTyping = () => {} }) {
    this.onSend = onSend;
    this.sending = false;
    this.queue = Promise.resolve(); // the sends in flight, in order
    this.typing = new TypingSignal(onTyping);
    this.attachment = new Attachment({ onChange: () => this.refreshDisabled() });
    this.note = false;
    this.blockedReason = null;
    this.matches = [];
    this.active = 0;
    this.textarea = h("textarea", {
      className: "composer-input",
      attrs: { rows: 1, id: "composer-input", autocomplete: "off" },
      on: {
        keydown: (event) => this.keydown(event),
        input: () => this.changed(),
        blur: () => setTimeout(() => this.hideReplies(), 150),
      },
    });
    this.replies = h("ul", {
      className: "quick-replies",
      attrs: { role: "listbox", id: "quick-replies" },
    });
    this.replies.hidden = true;
    this.noteButton = h("button", {
      className: "note-toggle",
      attrs: { type: "button", "aria-pressed": "false" },
      on: { click: () => this.setNote(!this.note) },
    });
    this.sendButton = h("button", { className: "send-button", attrs: { type: "submit" } });
    this.blocked = h("p", { className: "composer-blocked" });
    this.element = h(
      "form",
      {
        className: "composer",
        on: {
          submit: (event) => {
            event.preventDefault();
            this.submit();
          },
        },
      },
      this.replies,
      this.blocked,
      this.attachment.chip,
      this.attachment.input,
      h(
        "div",
        { className: "composer-row" },
        this.noteButton,
        this.attachment.button,
        this.textarea,
        this.sendButton,
      ),
    );
    this.attachment.listen(this.element, this.textarea);
    this.texts();
  }

  texts() {
    this.noteButton.textContent = t("note_toggle");
    this.noteButton.title = t("note_label");
    this.sendButton.textContent = "➤";
    this.sendButton.setAttribute("aria-label", t("send"));
    this.sendButton.title = t("send");
    this.textarea.setAttribute("aria-label", t("composer_label"));
    this.textarea.placeholder = this.note ? t("note_placeholder") : t("composer_placeholder");
    this.blocked.textContent = this.blockedReason ? t(this.blockedReason) : "";
    this.attachment.texts();
  }

  /** Messages to the customer are allowed or not (reason: an i18n key); notes always are. */
  setBlocked(reason) {
    this.blockedReason = reason;
    if (reason) this.typing.forget(); // telling a closed ticket would only be refused
    this.blocked.hidden = !reason;
    this.refreshDisabled();
    this.texts();
  }

  setNote(note) {
    this.note = note;
    if (note) this.typing.stop(); // a note is not written to the customer
    this.noteButton.setAttribute("aria-pressed", String(note));
    this.element.classList.toggle("composer-note", note);
    this.refreshDisabled();
    this.texts();
    this.textarea.focus();
  }

  refreshDisabled() {
    const disabled = Boolean(this.blockedReason) && !this.note;
    this.textarea.disabled = disabled;
    this.sendButton.disabled = disabled || this.sending;
    this.blocked.hidden = !this.blockedReason || this.note;
    // Notes carry no file; a file picked before switching to a note waits for the message.
    const canAttach = !this.blockedReason && !this.note;
    this.attachment.setEnabled(canAttach);
    this.attachment.button.hidden = this.note;
    this.attachment.chip.hidden = !this.attachment.file || this.note;
  }

  /** Whether the customer may be shown "typing…" now. */
  writesToCustomer() {
    return !this.note && !this.blockedReason;
  }

  reset() {
    this.typing.stop();
    this.textarea.value = "";
    this.attachment.clear();
    this.fit();
    this.hideReplies();
    this.setNote(false);
  }

  /** Another ticket is about to open: take "typing…" back from this one first. */
  leave() {
    this.typing.stop();
  }

  /** The ticket went away (closed elsewhere, transferred): nothing to take back from. */
  drop() {
    this.typing.forget();
  }

  focus() {
    if (!this.textarea.disabled) this.textarea.focus();
  }

  fit() {
    const lines = this.textarea.value.split("\n").length;
    this.textarea.rows = Math.min(MAX_ROWS, Math.max(1, lines));
  }

  async submit() {
    const raw = this.textarea.value;
    const text = raw.trim();
    const file = this.note ? null : this.attachment.file;
    if ((!text && !file) || this.textarea.disabled || this.sending) return;
    const options = { note: this.note, file };
    // The text leaves the composer at once, so what the agent types while it is sent is
    // never wiped; it comes back if the send fails. Sends go out one after another.
    this.textarea.value = "";
    this.fit();
    if (!this.note) this.typing.stop();
    if (file) {
      this.sending = true; // one file at a time: its chip stays until it is sent
      this.sendButton.disabled = true;
      this.attachment.sending(true);
    }
    const previous = this.queue;
    this.queue = (async () => {
      await previous;
      try {
        await this.onSend(text, options);
        if (file) this.attachment.clear();
      } catch {
        // The caller told the user; the text and the file stay for another try.
        if (!this.textarea.value.trim()) {
          this.textarea.value = raw;
          this.fit();
        }
        if (file) this.attachment.sending(false);
      } finally {
        if (file) {
          this.sending = false;
          this.refreshDisabled();
        }
      }
    })();
    this.textarea.focus();
    await this.queue;
  }

  keydown(event) {
    if (!this.replies.hidden && this.matches.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.active = (this.active + step + this.matches.length) % this.matches.length;
        this.renderReplies();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        this.pick(this.matches[this.active]);
        return;
      }
    }
    if (event.key === "Escape" && !this.replies.hidden) {
      event.preventDefault();
      this.hideReplies();
      return;
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.enter();
    }
  }

  /** Enter on a "/shortcut" picks its quick reply even when the list is not shown (not
   * loaded yet, or closed by a blur): the customer must never receive "/shortcut". */
  async enter() {
    const value = this.textarea.value;
    if (value.startsWith("/") && !/\s/.test(value)) {
      const prefix = value.slice(1).toLowerCase();
      const match = (await loadQuickReplies()).find((reply) =>
        reply.shortcut.toLowerCase().startsWith(prefix),
      );
      if (this.textarea.value !== value) return; // typed on meanwhile
      if (match) {
        this.pick(match);
        return;
      }
    }
    this.submit();
  }

  async changed() {
    this.fit();
    const value = this.textarea.value;
    if (this.writesToCustomer()) this.typing.typed(value.trim() !== "");
    if (!value.startsWith("/") || /\s/.test(value)) {
      this.hideReplies();
      return;
    }
    const prefix = value.slice(1).toLowerCase();
    const all = await loadQuickReplies();
    if (this.textarea.value !== value) return; // typed on meanwhile
    this.matches = all.filter((reply) => reply.shortcut.toLowerCase().startsWith(prefix));
    this.active = 0;
    this.replies.hidden = false;
    this.textarea.setAttribute("aria-expanded", "true");
    this.textarea.setAttribute("aria-controls", "quick-replies");
    this.renderReplies();
  }

  renderReplies() {
    this.replies.replaceChildren();
    this.replies.setAttribute("aria-label", t("quick_replies"));
    if (!this.matches.length) {
      this.replies.append(h("li", { className: "quick-empty", text: t("no_quick_replies") }));
      return;
    }
    this.matches.forEach((reply, index) => {
      const selected = index === this.active;
      this.replies.append(
        h(
          "li",
          {
            className: selected ? "quick-reply active" : "quick-reply",
            attrs: { role: "option", "aria-selected": String(selected), id: `quick-${index}` },
            on: {
              mousedown: (event) => {
                event.preventDefault(); // keep the focus in the textarea
                this.pick(reply);
              },
            },
          },
          h("span", { className: "quick-shortcut", text: `/${reply.shortcut}` }),
          h("span", { className: "quick-text", text: reply.text }),
        ),
      );
    });
    this.textarea.setAttribute("aria-activedescendant", `quick-${this.active}`);
  }

  pick(reply) {
    if (!reply) return;
    this.textarea.value = reply.text;
    this.fit();
    this.hideReplies();
    this.textarea.focus();
  }

  hideReplies() {
    this.replies.hidden = true;
    this.matches = [];
    this.textarea.setAttribute("aria-expanded", "false");
    this.textarea.removeAttribute("aria-activedescendant");
  }
}
