// A handheld scanner in keyboard mode (USB HID) "types" what it reads: a token of 250–320 characters
// and Enter, a key every 5–80 ms. Typed at a focused button, the token's spaces and its Enter would press
// that button (close a visit). Outside text fields this guard takes a burst of keys as a scan and keeps
// every key of it from the page. With no burst under way a person's Space, Enter, Tab and arrows on a
// button do what they always do.

const shortest = 20;      // a shorter burst is a person at the keyboard, not a token
const longest = 4096;     // the daemon's own limit for a token
const longestGap = 1000;  // ms between two keys of one burst; after that a half-typed burst is dropped

// The characters of a US keyboard's keys, [plain, with Shift], by the physical key (event.code): the
// scanner sends keys, and Caps Lock, the system's layout or a Chinese input method (key "Process") must
// not change what it meant.
const usKeys = (() => {
  const keys = {
    Space: [" ", " "], Minus: ["-", "_"], Equal: ["=", "+"], Period: [".", ">"], Slash: ["/", "?"],
    Semicolon: [";", ":"], Quote: ["'", "\""], Comma: [",", "<"], BracketLeft: ["[", "{"],
    BracketRight: ["]", "}"], Backslash: ["\\", "|"], Backquote: ["`", "~"],
    NumpadAdd: ["+", "+"], NumpadSubtract: ["-", "-"], NumpadMultiply: ["*", "*"], NumpadDivide: ["/", "/"],
    NumpadDecimal: [".", "."],
  };
  const shiftedDigits = ")!@#$%^&*(";
  for (let digit = 0; digit <= 9; digit++) {
    keys[`Digit${digit}`] = [String(digit), shiftedDigits[digit]];
    keys[`Numpad${digit}`] = [String(digit), String(digit)];
  }
  for (const letter of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") keys[`Key${letter}`] = [letter.toLowerCase(), letter];
  return keys;
})();

const modifierKeys = new Set(["Shift", "Control", "Alt", "AltGraph", "Meta", "OS", "CapsLock", "NumLock", "Fn"]);
const textInputTypes = new Set(["text", "search", "url", "tel", "email", "password", "number", "date",
  "datetime-local", "month", "time", "week"]);

// Where typing is the point: the guard leaves those keys alone (and a paste of text, telemedicine.js).
export function isTextField(node) {
  if (!(node instanceof Element)) return false;
  if (node.isContentEditable) return true;
  if (node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement) return true;
  return node instanceof HTMLInputElement && textInputTypes.has(node.type);
}

// The character a key stands for, or null. event.key only when the physical key is unknown (a virtual
// keyboard, a remote desktop), and only a single printable ASCII character.
function decode(event) {
  const pair = usKeys[event.code];
  if (pair) return pair[event.shiftKey ? 1 : 0];
  return /^[\x20-\x7e]$/.test(event.key) ? event.key : null;
}

// Which key, to pair a keydown with its keypress and keyup.
const keyOf = (event) => event.code || event.key;

function isEnter(event) {
  return event.code === "Enter" || event.code === "NumpadEnter" || (!event.code && event.key === "Enter");
}

// Listens on `target` (the document) in the capture phase, before any button sees a key. `onScan(text)`
// receives each burst of at least 20 characters ended by Enter; `onReading(true|false)` says when a
// burst starts and ends (a hint on screen).
export function installKeyScan({ onScan, onReading = () => {}, target = document }) {
  let burst = null;           // the characters read so far, or null when no burst is under way
  let cut = false;            // the burst went past `longest`: not a token, dropped at its Enter
  let dropTimer = 0;
  const swallowed = new Set(); // keys whose keydown was taken: their keypress and keyup go the same way

  function drop() {
    clearTimeout(dropTimer);
    if (burst !== null) onReading(false);
    burst = null;
    cut = false;
  }

  function swallow(event) {
    event.preventDefault();
    event.stopPropagation();
  }

  function finish() {
    const text = burst;
    const whole = !cut;
    drop();
    if (whole && text.length >= shortest) onScan(text);
  }

  function onKeyDown(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || modifierKeys.has(event.key)) return;
    // A new press: a keyup lost earlier (the window lost the focus mid-burst) must not take this one.
    swallowed.delete(keyOf(event));
    if (isTextField(event.target)) { drop(); return; }
    const enter = isEnter(event);
    const character = enter ? null : decode(event);
    if (burst === null) {
      if (character === null || character === " ") return;
      burst = "";
      onReading(true);
    }
    swallow(event);
    swallowed.add(keyOf(event));
    if (enter) { finish(); return; }
    if (character !== null) {
      if (burst.length < longest) burst += character;
      else cut = true;
    }
    clearTimeout(dropTimer);
    dropTimer = setTimeout(drop, longestGap);
  }

  function onFollowUp(event) {
    if (!swallowed.has(keyOf(event))) return;
    swallow(event);
    if (event.type === "keyup") swallowed.delete(keyOf(event));
  }

  target.addEventListener("keydown", onKeyDown, true);
  target.addEventListener("keypress", onFollowUp, true);
  target.addEventListener("keyup", onFollowUp, true);
}
