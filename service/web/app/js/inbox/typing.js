// "typing…" on the customer's phone while the agent writes: shown once and renewed every
// few seconds while the keys keep moving (WhatsApp drops the indicator on its own after a
// while), and taken back when the text is sent, emptied, or left alone.

const RENEW_MS = 4000;
const IDLE_MS = 6000;

export class TypingSignal {
  /** post(typing) tells the server; it must never throw (typing is a courtesy). */
  constructor(post) {
    this.post = post;
    this.active = false;
    this.sentAt = 0;
    this.idle = null;
  }

  /** The composer's text changed; `hasText` says whether anything is left in it. */
  typed(hasText) {
    if (!hasText) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (!this.active || now - this.sentAt >= RENEW_MS) {
      this.active = true;
      this.sentAt = now;
      this.post(true);
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Stop without telling: the ticket can no longer be written to (closed, gone), and the
   * phone drops the indicator by itself. */
  forget() {
    clearTimeout(this.idle);
    this.idle = null;
    this.active = false;
    this.sentAt = 0;
  }

  /** Take the indicator back (if it is showing). */
  stop() {
    clearTimeout(this.idle);
    this.idle = null;
    if (!this.active) return;
    this.active = false;
    this.sentAt = 0;
    this.post(false);
  }
}
