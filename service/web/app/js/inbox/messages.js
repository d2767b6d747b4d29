// One message of the chat as elements: text as text, status ticks, media, notes apart.
import { api } from "../api.js";
import { h } from "../dom.js";
import { formatTime, t } from "../i18n.js";
import { toast } from "../ui/toast.js";

const TICKS = { pending: "◷", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };

// Files are served only with the Authorization header: fetched once each, shown as blob URLs.
const blobs = new Map();

function blobUrl(url) {
  if (!blobs.has(url)) {
    const loading = api(url, { blob: true }).then((blob) => URL.createObjectURL(blob));
    loading.catch(() => blobs.delete(url));
    blobs.set(url, loading);
  }
  return blobs.get(url);
}

/** The message's file, from `media` (or the older media_type/media_name fields). */
function mediaOf(message) {
  if (message.media) return message.media;
  if (message.media_type) return { type: message.media_type, name: message.media_name, url: null };
  return null;
}

/** A message's file: an image preview and a download button, or a note that it is not here. */
export function mediaBlock(message) {
  const media = mediaOf(message);
  if (!media) return null;
  const name = media.name || media.type;
  if (!media.url) {
    return h("p", { className: "msg-media muted", text: t("media_unavailable", { type: name }) });
  }
  const block = h("div", { className: "msg-media" });
  if (media.type === "image" || media.type === "sticker") {
    const image = h("img", { className: "msg-image", attrs: { alt: name } });
    blobUrl(media.url)
      .then((url) => {
        image.src = url;
      })
      .catch(() => image.remove());
    block.append(image);
  }
  block.append(
    h("button", {
      className: "link-button",
      attrs: { type: "button" },
      text: `⬇ ${t("download", { name })}`,
      on: { click: () => download(media.url, name) },
    }),
  );
  return block;
}

async function download(url, name) {
  try {
    const href = await blobUrl(url);
    const link = h("a", { attrs: { href, download: name } });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    toast(error.message || t("error_generic"), "error");
  }
}

function ticks(message) {
  if (message.direction !== "out" || message.is_note) return null;
  const label =
    message.status === "failed"
      ? message.error
        ? t("msg_failed", { error: message.error })
        : t("msg_failed_unknown")
      : t(`msg_${message.status}`);
  return h("span", {
    className: `ticks ticks-${message.status}`,
    attrs: { role: "img", "aria-label": label, title: label },
    dataset: { status: message.status },
    text: TICKS[message.status] ?? "",
  });
}

function author(message, ctx) {
  if (message.direction !== "out") return null;
  if (message.from_bot) return t("bot");
  const user = message.sender_user_id ? ctx.users.get(message.sender_user_id) : null;
  return user?.name ?? null;
}

/** The <li> for a message or a note. */
export function messageElement(message, ctx) {
  const side = message.direction === "out" ? "msg-out" : "msg-in";
  const classes = ["msg", message.is_note ? "msg-note" : side];
  if (message.from_bot) classes.push("msg-bot");
  if (message.status === "failed") classes.push("msg-failed");
  const who = author(message, ctx);
  const heading = message.is_note
    ? h("p", { className: "msg-label", text: who ? `${t("note_label")} · ${who}` : t("note_label") })
    : who
      ? h("p", { className: "msg-author", text: who })
      : null;
  const body = message.revoked_at
    ? h("p", { className: "msg-body msg-deleted", text: t("deleted") })
    : message.body
      ? h("p", { className: "msg-body", text: message.body })
      : null;
  const failure =
    message.status === "failed" && !message.is_note
      ? h("p", {
          className: "msg-error",
          attrs: { role: "note" },
          text: message.error ? t("msg_failed", { error: message.error }) : t("msg_failed_unknown"),
        })
      : null;
  return h(
    "li",
    { className: classes.join(" "), dataset: { id: message.id } },
    heading,
    message.revoked_at ? null : mediaBlock(message),
    body,
    failure,
    h(
      "p",
      { className: "msg-meta" },
      message.edited_at && !message.revoked_at ? h("span", { text: t("edited") }) : null,
      h("time", { attrs: { datetime: message.created_at }, text: formatTime(message.created_at) }),
      ticks(message),
    ),
  );
}
