// Telling an agent that a ticket arrived: a short beep (WebAudio, no file) and a desktop
// notification when the user allowed them. Browsers only let audio start after a user
// gesture, so the audio context is created on the first click or key press.

let audio = null;

function unlockAudio() {
  if (audio) return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio = new Context();
}

window.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
window.addEventListener("keydown", unlockAudio, { once: true, capture: true });

/** Two short tones; silent until the page has had a user gesture. */
export function beep() {
  if (!audio || audio.state !== "running") return;
  const start = audio.currentTime;
  for (const [offset, frequency] of [
    [0, 880],
    [0.18, 1175],
  ]) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.15);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + 0.16);
  }
}

/** Whether asking for permission makes sense (supported and not yet answered). */
export function canAskPermission() {
  return "Notification" in window && Notification.permission === "default";
}

export async function askPermission() {
  if (!("Notification" in window)) return "denied";
  return Notification.requestPermission();
}

/** A desktop notification (plain text) if permitted; clicking it focuses the tab. */
export function notify(title, body, onClick) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const notification = new Notification(title, { body, tag: "atende-ticket" });
    notification.onclick = () => {
      window.focus();
      onClick?.();
      notification.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker: the beep remains.
  }
}
