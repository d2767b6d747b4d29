// The live feed: one websocket per tab (GET /ws?token=…&since=…). It keeps the id of the
// last event it saw and reconnects with growing delays using since=<that id>, so the
// server replays what was missed, without duplicates; a `resync` means the replay no
// longer reaches back that far and the lists must be fetched again.

const PING_MS = 25_000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const CLOSE_UNAUTHORIZED = 4401;

export class LiveSocket {
  /**
   * getToken(): the current access token; refresh(): renew it (resolves true if it could);
   * onEvent(event): every frame but pong; onStatus("connecting" | "online" | "offline").
   */
  constructor({ getToken, refresh, onEvent, onStatus }) {
    this.getToken = getToken;
    this.refresh = refresh;
    this.onEvent = onEvent;
    this.onStatus = onStatus ?? (() => {});
    this.lastId = null;
    this.ws = null;
    this.stopped = true;
    this.attempt = 0;
    this.pingTimer = null;
    this.retryTimer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close(1000, "bye");
      this.ws = null;
    }
  }

  connect() {
    if (this.stopped) return;
    const token = this.getToken();
    if (!token) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams({ token });
    if (this.lastId) params.set("since", this.lastId);
    this.onStatus("connecting");
    const ws = new WebSocket(`${scheme}//${location.host}/ws?${params}`);
    this.ws = ws;
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = (closed) => this.closed(ws, closed.code);
    // onclose always follows an error; nothing to add here (and nothing to log).
    ws.onerror = () => {};
  }

  receive(raw) {
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      return;
    }
    if (!event || typeof event.type !== "string") return;
    if (event.type === "pong") return;
    if (event.type === "hello") {
      this.attempt = 0;
      const resumed = this.lastId !== null;
      if (!resumed) this.lastId = event.data?.last_id ?? null;
      this.startPinging();
      this.onStatus("online");
      this.onEvent({ ...event, resumed });
      return;
    }
    if (event.id) this.lastId = event.id;
    this.onEvent(event);
  }

  startPinging() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send('{"type":"ping"}');
    }, PING_MS);
  }

  async closed(ws, code) {
    if (ws !== this.ws) return;
    clearInterval(this.pingTimer);
    this.ws = null;
    if (this.stopped) return;
    this.onStatus("offline");
    // An expired token: renew it first (if the login is over, connect() finds no token).
    if (code === CLOSE_UNAUTHORIZED) await this.refresh();
    if (this.stopped) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    // Jitter, so that a restarted server is not hit by every tab at the same instant.
    this.retryTimer = setTimeout(() => this.connect(), delay * (0.5 + Math.random() / 2));
  }
}
