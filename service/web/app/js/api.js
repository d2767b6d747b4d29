// The API client and the login session. The access token lives in this module's memory
// only; the refresh token in sessionStorage (this tab, this origin), so that a reload keeps
// the login but no other origin's script and no other tab can read either. The access
// token is renewed in the background before it expires, and once more on a 401.

const REFRESH_KEY = "atende.refresh";
const REFRESH_MARGIN_SECONDS = 60;
const RETRY_REFRESH_MS = 15_000;

let accessToken = null;
let user = null;
let refreshTimer = null;
let refreshing = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.fields = fields ?? null;
  }
}

/** Who is logged in (the API's UserOut), or null. */
export function currentUser() {
  return user;
}

/** The access token, for the websocket's `?token=`. */
export function currentToken() {
  return accessToken;
}

/** Call `listener(user, reason)` when the login starts, renews or ends ("expired", "logout"). */
export function onSession(listener) {
  listeners.add(listener);
}

function tell(reason) {
  for (const listener of listeners) listener(user, reason);
}

function storedRefreshToken() {
  try {
    return sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

// Device tokens outlive the session (localStorage, one per e-mail: a shared computer may
// serve several agents): a browser that logged in before is never locked out by strangers'
// wrong passwords for its e-mail (service/auth/devices.py).
const DEVICES_KEY = "atende.devices";

function deviceTokens() {
  try {
    return JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function storeDeviceToken(email, token) {
  if (!token) return;
  try {
    const tokens = deviceTokens();
    tokens[email] = token;
    localStorage.setItem(DEVICES_KEY, JSON.stringify(tokens));
  } catch {
    // Without localStorage this browser is simply an unknown client at every login.
  }
}

function storeRefreshToken(token) {
  try {
    if (token) sessionStorage.setItem(REFRESH_KEY, token);
    else sessionStorage.removeItem(REFRESH_KEY);
  } catch {
    // Without sessionStorage the login simply does not survive a reload.
  }
}

function urlOf(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path, { method = "GET", body, query, auth = true, headers = {} }) {
  const init = {
    method,
    headers: { Accept: "application/json", ...headers },
    credentials: "omit",
  };
  if (body !== undefined) {
    if (body instanceof FormData) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
  }
  if (auth && accessToken) init.headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(urlOf(path, query), init);
  } catch (error) {
    throw new ApiError(0, "network", String(error?.message ?? error));
  }
}

async function parse(response, { blob = false } = {}) {
  if (response.ok && blob) return response.blob();
  if (response.status === 204) return null;
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? response.statusText,
      error.fields,
    );
  }
  return payload;
}

/**
 * Call the API: api("/api/tickets", {query: {status: "open"}}), api(path, {method: "POST",
 * body}). Resolves with the JSON (null for 204; a Blob with {blob: true}); rejects with an
 * ApiError carrying the contract's error code and message.
 */
export async function api(path, options = {}) {
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false && storedRefreshToken()) {
    if (await refresh()) response = await send(path, options);
  }
  if (response.status === 401 && options.auth !== false) expire();
  return parse(response, options);
}

function adopt(pair) {
  accessToken = pair.access_token;
  user = pair.user;
  storeRefreshToken(pair.refresh_token);
  const seconds = Math.max(10, Number(pair.expires_in || 900) - REFRESH_MARGIN_SECONDS);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(), seconds * 1000);
}

function forget() {
  clearTimeout(refreshTimer);
  accessToken = null;
  user = null;
  storeRefreshToken(null);
}

function expire() {
  if (!user && !accessToken) return;
  forget();
  tell("expired");
}

/** Every page of a paginated list (`limit` 200 at a time), for the admin's small lists. */
export async function allPages(path) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path, { query: { limit: 200, cursor } });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

/** Email and password for a session; rejects with ApiError (401 wrong, 429 throttled). */
export async function login(email, password) {
  const key = email.trim().toLowerCase();
  const device = deviceTokens()[key];
  const response = await send("/api/auth/login", {
    method: "POST",
    body: { email, password },
    auth: false,
    headers: device ? { "X-Atende-Device": device } : {},
  });
  const pair = await parse(response);
  storeDeviceToken(key, pair.device_token);
  adopt(pair);
  tell("login");
  return user;
}

/** A new token pair from the stored refresh token; true if the session goes on. Concurrent
 * callers share one request: a refresh token can be spent only once. */
export function refresh() {
  if (!refreshing) {
    refreshing = renew().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function renew() {
  const token = storedRefreshToken();
  if (!token) return false;
  let response;
  try {
    response = await send("/api/auth/refresh", {
      method: "POST",
      body: { refresh_token: token },
      auth: false,
    });
  } catch {
    // The server is unreachable: keep the session and try again soon.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => refresh(), RETRY_REFRESH_MS);
    return false;
  }
  if (response.ok) {
    const wasLoggedIn = user !== null;
    adopt(await response.json());
    tell(wasLoggedIn ? "refresh" : "restore");
    return true;
  }
  if (response.status === 401 || response.status === 422) {
    const hadSession = user !== null;
    forget();
    if (hadSession) tell("expired");
    return false;
  }
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(), RETRY_REFRESH_MS);
  return false;
}

/** Resume the session kept by this tab (after a reload); true if there is one. */
export async function restore() {
  return storedRefreshToken() ? refresh() : false;
}

/** End the session here and on the server. */
export async function logout() {
  const token = storedRefreshToken();
  forget();
  tell("logout");
  if (token) {
    try {
      await send("/api/auth/logout", {
        method: "POST",
        body: { refresh_token: token },
        auth: false,
      });
    } catch {
      // Logged out locally; the server-side token expires on its own.
    }
  }
}
