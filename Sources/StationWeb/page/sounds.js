// A verdict you can hear: a clerk looking at the patient, not the screen, still knows which verdict came.
// Three short tones made with Web Audio (no audio file to load), told apart by rhythm as well as pitch:
// one high note, two equal notes, three low pulses. Never the only signal: the screen says it in words.

const tones = {
  valid: { frequency: 880, notes: 1, length: 0.15, gap: 0, wave: "sine" },
  attention: { frequency: 660, notes: 2, length: 0.14, gap: 0.11, wave: "sine" },
  // A triangle wave: a low sine is nearly silent on a monitor's small speakers.
  refused: { frequency: 330, notes: 3, length: 0.09, gap: 0.07, wave: "triangle" },
};
const kindOfColor = { green: "valid", amber: "attention", red: "refused" };
const edge = 0.01;        // attack and release, seconds: a tone cut on and off clicks
const loudest = 0.5;      // the gain at volume 100: several notes never clip
const defaultVolume = 60;

function savedVolume(storage) {
  const saved = storage.getItem("vhc.volume");
  const volume = saved === null ? NaN : Number(saved);
  return Number.isFinite(volume) && volume >= 0 && volume <= 100 ? volume : defaultVolume;
}

function note(context, tone, start, peak) {
  const oscillator = context.createOscillator();
  oscillator.type = tone.wave;
  oscillator.frequency.value = tone.frequency;
  const gain = context.createGain();
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(peak, start + edge);
  gain.gain.setValueAtTime(peak, start + tone.length - edge);
  gain.gain.linearRampToValueAtTime(0, start + tone.length);
  oscillator.connect(gain).connect(context.destination);
  oscillator.start(start);
  oscillator.stop(start + tone.length);
}

// The sound controls in the header: `toggle` (a button with aria-pressed), `volume` (a 0–100 range) and
// `blocked` (shown while the browser holds sound back until someone clicks), remembered in `storage`.
export function createSounds({ toggle, volume, blocked, storage = localStorage }) {
  let enabled = storage.getItem("vhc.sound") !== "off";
  let level = savedVolume(storage);
  let context = null;

  // Made on first need: a page with sound off never opens the audio device.
  function audio() {
    if (!context && enabled && window.AudioContext) {
      context = new AudioContext();
      context.addEventListener("statechange", paintBlocked);
    }
    return context;
  }

  // Browsers start audio only after a click or a key on the page (autoplay policy): until then the
  // context stays "suspended" and its resume() waits. The button says so rather than the first verdict
  // going silent.
  async function wake() {
    if (audio()?.state !== "suspended") return paintBlocked();
    await Promise.race([context.resume().catch(() => {}), new Promise((done) => setTimeout(done, 300))]);
    paintBlocked();
  }

  function paintBlocked() {
    blocked.hidden = !(enabled && context?.state === "suspended");
    document.body.dataset.audio = context?.state ?? "none";
  }

  function paintControls() {
    toggle.setAttribute("aria-pressed", String(enabled));
    volume.value = String(level);
    paintBlocked();
  }

  function playVerdict(color) {
    const tone = tones[kindOfColor[color]];
    if (!tone || !enabled || level === 0) return;
    // Held back by the browser: a tone played late, with a later verdict on screen, would mislead.
    if (audio()?.state !== "running") { wake(); return; }
    const peak = loudest * (level / 100) ** 2; // squared: to the ear, half the gain is not half as loud
    let start = context.currentTime + 0.02;
    for (let index = 0; index < tone.notes; index++) {
      note(context, tone, start, peak);
      start += tone.length + tone.gap;
    }
    // For the browser test, which also watches the Web Audio calls themselves.
    const body = document.body;
    body.dataset.lastSound = kindOfColor[color];
    body.dataset.soundCount = String(Number(body.dataset.soundCount ?? 0) + 1);
  }

  // The controls, from what was saved. Cheap: the audio itself waits for wake().
  function start() {
    toggle.addEventListener("click", () => {
      enabled = !enabled;
      storage.setItem("vhc.sound", enabled ? "on" : "off");
      paintControls();
      if (enabled) wake();
    });
    volume.addEventListener("input", () => {
      level = Number(volume.value);
      storage.setItem("vhc.volume", String(level));
    });
    blocked.addEventListener("click", () => { wake(); });
    // Any first click or key on the page lets sound start, even before the blocked button is pressed.
    for (const type of ["click", "keydown"]) {
      window.addEventListener(type, () => { if (context?.state === "suspended") wake(); }, true);
    }
    paintControls();
  }

  return { start, wake, playVerdict };
}
