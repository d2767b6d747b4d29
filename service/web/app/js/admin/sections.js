// The admin's sections, in the order of the navigation. Each module's default export is
// a section: {id, titleKey, roles, render(root, ctx)}; render may return
// {onEvent(event), destroy()} to hear the live feed while it is shown.
import audiences from "./audiences.js";
import campaigns from "./campaigns.js";
import connections from "./connections.js";
import contacts from "./contacts.js";
import dashboard from "./dashboard.js";
import queues from "./queues.js";
import quickReplies from "./quick_replies.js";
import reports from "./reports.js";
import settings from "./settings.js";
import tags from "./tags.js";
import users from "./users.js";

export const SECTIONS = [
  dashboard,
  reports,
  queues,
  connections,
  users,
  contacts,
  audiences,
  campaigns,
  tags,
  quickReplies,
  settings,
];
