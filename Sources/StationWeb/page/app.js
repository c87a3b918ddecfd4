// The front-desk page: the last verdict, the open visits, a visit's records, the station's health and the
// day, kept live by the daemon's server-sent events. Everything that comes from a token, the cloud or the
// daemon is put on the page as text (textContent, never innerHTML): a holder's name is data, not markup.
import { languages, text, nextSteps } from "/web/text.js";
import { installKeyScan } from "/web/keyscan.js";
import { createSounds } from "/web/sounds.js";
import { installTelemedicine } from "/web/telemedicine.js";

const $ = (id) => document.getElementById(id);

// The sign-in's page key: the redirect after the one-time link puts it in the fragment (never sent to a
// server); it lives in this origin's storage, which other ports cannot read, and goes with every request.
const pageKey = (() => {
  const handed = location.hash.match(/^#key=([A-Za-z0-9_-]{20,100})$/);
  if (handed) {
    localStorage.setItem("vhc.pageKey", handed[1]);
    history.replaceState(null, "", "/");
  }
  return localStorage.getItem("vhc.pageKey") || "";
})();

const savedLanguage = localStorage.getItem("vhc.language");
const state = {
  language: languages.includes(savedLanguage) ? savedLanguage : "zh-Hant",
  status: null,
  clockOffset: 0,          // station time − browser time, seconds
  sessions: [],
  revealed: new Map(),     // session id → the holder's full identity, while shown
  revealTimers: new Map(), // session id → the timer that masks it again
  source: null,            // the EventSource
  streamOpens: 0,
  verdict: null,           // the verdict on screen: { event, sessionID, at (its countdown's start) }
  readySeconds: 20,        // the station's page.ready_seconds: the verdict's time on screen (0: no limit)
  captureSeconds: 120,     // the station's page.capture_seconds: how long a video call is read without a code
  lastEventID: Number(sessionStorage.getItem("vhc.lastSeen")) || 0, // the newest event this tab handled
  drainPeak: 0,            // the outbox's largest length since it last was empty
  records: null,           // { session, category }
  idCheckSession: null,
};

function t(key, values = {}) {
  const words = text[state.language][key] ?? text.en[key] ?? key;
  return words.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// ---- talking to the daemon ----

class ProblemError extends Error {
  constructor(problem, status) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.code = problem?.code;
    this.status = status;
  }
}

// `body` goes as JSON; `raw` (a picture's Blob) goes as it is, with its media type `type`.
async function api(path, { method = "GET", body, raw, type } = {}) {
  const headers = { "X-VHC-Page-Key": pageKey };
  if (raw !== undefined) headers["Content-Type"] = type || "application/octet-stream";
  else if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  if (response.status === 401) { showSignIn(); throw new ProblemError({ code: "unauthorized" }, 401); }
  const answered = response.headers.get("Content-Type") || "";
  const data = answered.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ProblemError(data, response.status);
  return data;
}

const refresh = {
  timers: {},
  // Several events in a burst ask for one reload, not one each.
  soon(name, action, delay = 150) {
    clearTimeout(this.timers[name]);
    this.timers[name] = setTimeout(() => action().catch(reportError), delay);
  },
};

// A failure as the clerk reads it: the daemon's words, and its stable code for whoever they call.
function problemText(error) {
  return `${error.message}${error.code ? ` (${error.code})` : ""}`;
}

function reportError(error) {
  if (error?.status === 401) return;
  $("action-error").textContent = `${t("common.failed")}: ${problemText(error)}`;
}

const sounds = createSounds({ toggle: $("sound"), volume: $("volume"), blocked: $("sound-blocked") });

// Words for a setting or a source code (`setting.telemedicine`, `source.capture`); an unknown one as it is.
function named(kind, code) {
  return text[state.language][`${kind}.${code}`] ?? text.en[`${kind}.${code}`] ?? code;
}

const telemedicine = installTelemedicine({
  $, t, element, api, stationNow, timeText, named, language: () => state.language,
  captureSeconds: () => state.captureSeconds,
});

// ---- the verdict ----

function verdictOf(event) {
  const session = event.session;
  const cloudState = session?.cloud;
  if (event.type === "scan.rejected") return { color: "red", title: "verdict.refused", next: event.code };
  if (event.type === "visit.refused") return { color: "red", title: "verdict.cloudRefused", next: "cloudRefused" };
  if (event.type === "visit.undeliverable") return { color: "red", title: "verdict.undeliverable", next: "undeliverable" };
  if (event.type === "visit.unsigned") {
    return { color: "amber", title: "verdict.practitionerRefused", next: "practitionerRefused" };
  }
  if (session?.state === "awaiting_id_check") return { color: "amber", title: "verdict.idCheck", next: "idCheck" };
  if (cloudState === "awaiting_practitioner") {
    return { color: "amber", title: "verdict.awaitingPractitioner", next: "awaitingPractitioner" };
  }
  if (cloudState === "pending_cloud") {
    // Online, the cloud answers within moments: say so rather than alarm the clerk with amber.
    if (state.status?.cloud?.state === "online") return { color: "green", title: "verdict.sending", next: "valid" };
    return { color: "amber", title: "verdict.pendingCloud", next: "pendingCloud" };
  }
  return { color: "green", title: "verdict.valid", next: "valid" };
}

// A new verdict; one replayed after a reload (`fresh` false) is not heard again, and one whose time is up
// stays off the screen. The browser test reads when it was painted (the first animation frame after the
// change is the one that paints it) and the event's time.
function showVerdict(event, fresh) {
  state.verdict = { event, sessionID: event.session?.id ?? null, at: event.at };
  if (readyIn() <= 0) { backToReady(); return; }
  paintVerdict();
  if (fresh) announce();
  const box = $("verdict");
  requestAnimationFrame(() => {
    Object.assign(box.dataset, { paintedAt: String(Date.now()), eventId: String(event.id), eventAt: String(event.at) });
  });
}

function paintVerdict() {
  const box = $("verdict");
  const event = state.verdict?.event;
  if (!event) {
    box.dataset.color = "idle";
    delete box.dataset.code;
    $("verdict-title").textContent = t("verdict.idle");
    for (const id of ["verdict-holder", "verdict-reason", "verdict-next", "verdict-meta"]) $(id).textContent = "";
    return;
  }
  const verdict = verdictOf(event);
  box.dataset.color = verdict.color;
  box.dataset.code = event.code ?? event.session?.closeReason ?? "valid";
  $("verdict-title").textContent = t(verdict.title);
  const holder = event.holder ?? event.session?.holder;
  const delegate = event.session?.delegate;
  $("verdict-holder").textContent = holder
    ? `${t("verdict.holder")}: ${holder}${delegate ? ` · ${t("verdict.delegate")}: ${delegate}` : ""}` : "";
  const reason = event.reason ? (state.language === "en" ? event.reason.en : event.reason.zhHant) : "";
  $("verdict-reason").textContent = event.type === "visit.refused"
    ? t("verdict.cloudRefusedReason", { code: event.code ?? event.session?.closeReason ?? "" })
    : event.type === "visit.unsigned"
      ? t("verdict.practitionerRefusedReason", { code: event.code ?? "", who: event.source ?? "" })
      : event.type === "visit.undeliverable" ? t("verdict.undeliverableReason") : reason;
  const steps = nextSteps[state.language];
  $("verdict-next").textContent = steps[verdict.next] ?? steps.default;
  const meta = [];
  if (event.code && event.type === "scan.rejected") meta.push(event.code);
  if (event.session?.setting) meta.push(named("setting", event.session.setting));
  const source = event.source && named("source", event.source);
  if (source) meta.push(`${t("verdict.source")}: ${source === event.source ? source : `${source} (${event.source})`}`);
  if (event.session?.visitSequence) meta.push(`${t("verdict.visit")}: ${event.session.visitSequence}`);
  meta.push(timeText(event.at));
  $("verdict-meta").textContent = meta.join(" · ");
}

// Screen readers hear a verdict once, when it is new or its colour changes, not on every repaint (a
// language switch, the link's state): the live region is apart from the box. Its sound goes with it.
function announce() {
  const words = [$("verdict-title"), $("verdict-holder"), $("verdict-reason"), $("verdict-next")]
    .map((node) => node.textContent).filter(Boolean).join(" ");
  $("verdict-announcer").textContent = words;
  sounds.playVerdict(verdictOf(state.verdict.event).color);
}

// Seconds until the verdict on screen gives way to "ready": page.ready_seconds from its time.
function readyIn() {
  return state.readySeconds > 0 ? state.verdict.at + state.readySeconds - stationNow() : Infinity;
}

// Its time is up: the panel asks for the next card, and the holder leaves the screen (and the hidden
// live region). A reload then resumes after the last event, so the verdict does not come back.
function backToReady() {
  state.verdict = null;
  paintVerdict();
  $("verdict-announcer").textContent = "";
  remember();
}

// A later event about the visit on screen (forwarded, checked, refused) updates the verdict in place; a
// changed colour is heard, and stays its full time on screen.
function followVerdict(event, fresh) {
  if (!event.session || state.verdict?.sessionID !== event.session.id) return;
  const previous = state.verdict.event;
  const color = verdictOf(previous).color;
  // A refusal or a give-up replaces the verdict (its code and words); other events bring the session.
  state.verdict.event = ["visit.refused", "visit.unsigned", "visit.undeliverable"].includes(event.type)
    ? { ...event, id: previous.id, holder: previous.holder }
    : { ...previous, session: event.session };
  paintVerdict();
  if (verdictOf(state.verdict.event).color === color) return;
  state.verdict.at = event.at;
  if (fresh) announce();
}

// ---- the live stream ----

const eventTypes = [
  "scan.accepted", "scan.rejected", "session.opened", "session.id_checked", "session.closed", "session.expired",
  "visit.unsigned", "visit.undeliverable", "session.signed", "visit.forwarded", "visit.refused", "stream.gap",
  "practitioner.logged_in", "practitioner.logged_out", "token.double_use", "consent.requested",
  "consent.approved", "consent.refused", "consent.expired", "consent.cancelled", "cloud.online", "cloud.offline",
];

function connectEvents() {
  // EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed across a drop; a stream
  // opened anew (after the daemon restarted) cannot say where it was, so the lists are read again.
  // A reloaded page asks for the events from just before its last verdict: the verdict comes back, and
  // nothing that happened while it reloaded is missed.
  const resume = Number(sessionStorage.getItem("vhc.resumeAfter"));
  const after = Number.isSafeInteger(resume) && resume > 0 ? `&after=${resume}` : "";
  const source = new EventSource(`/v1/events?key=${encodeURIComponent(pageKey)}${after}`);
  state.source = source;
  source.onopen = () => {
    setStream("open");
    if (state.streamOpens++ > 0) reloadAll();
  };
  source.onerror = () => {
    setStream(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    if (source.readyState === EventSource.CLOSED) reconnect(1000);
  };
  for (const type of eventTypes) {
    source.addEventListener(type, (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      receive(event);
    });
  }
}

// An event is fresh when this tab has not handled it before (a reload replays the verdict on screen).
function receive(event) {
  // A station whose numbering started again (a new database) says so: what follows is all new.
  if (event.type === "stream.gap" && event.code === "event_id_unknown") state.lastEventID = event.id;
  const fresh = event.id > state.lastEventID;
  state.lastEventID = Math.max(state.lastEventID, event.id);
  handle(event, fresh);
  remember();
}

// Where a reload resumes: just before the verdict on screen, or after the last event when there is none;
// and what it has seen already, so a replayed verdict is not announced twice.
function remember() {
  const verdictID = state.verdict?.event?.id;
  sessionStorage.setItem("vhc.resumeAfter", String(verdictID ? verdictID - 1 : state.lastEventID));
  sessionStorage.setItem("vhc.lastSeen", String(state.lastEventID));
}

// The stream closed for good (the daemon restarted, or the sign-in ended): try again, slower each time,
// until the daemon answers; a sign-in that ended shows the sign-in panel instead.
function reconnect(delay) {
  setTimeout(() => {
    checkSignIn().then(connectEvents).catch((error) => {
      if (error?.status !== 401) reconnect(Math.min(delay * 2, 30000));
    });
  }, delay);
}

function reloadAll() {
  refresh.soon("settings", loadSettings, 0);
  refresh.soon("status", loadStatus, 0);
  refresh.soon("sessions", loadSessions, 0);
  refresh.soon("day", loadDay, 0);
  refresh.soon("consents", telemedicine.loadConsents, 0);
}

function setStream(mode) {
  const pill = $("stream");
  pill.dataset.state = mode;
  pill.dataset.text = mode === "open" ? "stream.open" : mode === "closed" ? "stream.reconnecting" : `stream.${mode}`;
  pill.textContent = t(pill.dataset.text);
}

function handle(event, fresh) {
  switch (event.type) {
    case "scan.accepted":
    case "scan.rejected":
      showVerdict(event, fresh);
      refresh.soon("day", loadDay, 1000);
      break;
    case "visit.forwarded":
    case "visit.refused":
    case "session.id_checked":
    case "session.signed":
    case "visit.unsigned":
    case "visit.undeliverable":
      followVerdict(event, fresh);
      break;
    case "stream.gap":
      reloadAll();
      break;
    case "cloud.online":
    case "cloud.offline":
      // The verdict's colour depends on the link (pending while offline is amber): repaint at once.
      if (state.status?.cloud) state.status.cloud.state = event.type === "cloud.online" ? "online" : "offline";
      paintVerdict();
      refresh.soon("status", loadStatus, 0);
      break;
  }
  if (event.session || event.type === "stream.gap") refresh.soon("sessions", loadSessions);
  // An approval's visit is recorded after its consent.approved: its scan's events bring the list up to date.
  if (event.type.startsWith("consent.") || event.source === "consent") {
    refresh.soon("consents", telemedicine.loadConsents, 50);
  }
  if (event.type.startsWith("practitioner.") || event.type.startsWith("visit.") || event.type === "session.signed") {
    refresh.soon("status", loadStatus);
  }
}

// ---- health ----

async function loadStatus() {
  const status = await api("/v1/status");
  state.status = status;
  // The station's `now` is whole seconds: an offset under a second is that rounding, not a clock apart.
  const offset = status.now - Date.now() / 1000;
  state.clockOffset = Math.abs(offset) < 1 ? 0 : offset;
  paintStatus();
}

// The station's settings for the page; without them (an older daemon) the defaults hold.
async function loadSettings() {
  const settings = await api("/v1/web/settings").catch(() => null);
  const ready = settings?.readySeconds, capture = settings?.captureSeconds;
  state.readySeconds = Number.isFinite(ready) && ready >= 0 ? ready : 20;
  state.captureSeconds = Number.isFinite(capture) && capture >= 10 ? capture : 120;
}

function age(seconds) {
  if (seconds == null) return "";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function mark(node, words, level) {
  node.textContent = words;
  node.dataset.state = level;
}

function paintStatus() {
  const status = state.status;
  if (!status) return;
  $("institution").textContent = status.institution;
  const camera = status.camera.state;
  mark($("camera"), t(`camera.${camera}`), camera === "streaming" ? "good" : camera === "none" ? "" : "bad");
  $("camera").dataset.camera = camera;
  const cloud = status.cloud;
  const cloudNode = $("cloud");
  if (!cloud) mark(cloudNode, t("health.noCloud"), "");
  else {
    const key = cloud.institutionKey === "pkcs11" ? ` · ${t("health.institutionToken")}` : "";
    mark(cloudNode, t(`cloud.${cloud.state}`) + key, cloud.state === "online" ? "good" : cloud.state === "offline" ? "bad" : "warn");
  }
  cloudNode.dataset.cloud = cloud?.state ?? "none";
  const outbox = cloud?.outboxLength ?? 0;
  const waiting = cloud?.awaitingPractitioner ?? 0;
  let outboxWords = outbox === 0 ? t("health.none") : `${outbox} · ${t("health.oldest")} ${age(cloud.oldestOutboxAgeSeconds)}`;
  if (waiting > 0) outboxWords += ` · ${t("cloudState.awaiting_practitioner")} ${waiting}`;
  const undeliverable = cloud?.undeliverable ?? 0;
  if (undeliverable > 0) outboxWords += ` · ${t("cloudState.undeliverable")} ${undeliverable}`;
  mark($("outbox"), outboxWords, undeliverable > 0 ? "bad" : outbox > 0 ? "warn" : "");
  $("outbox").dataset.length = String(outbox);
  paintDrain(outbox, cloud?.state);
  const lists = [];
  const listText = (name, list) =>
    `${t(name)} #${list.sequence} ${age(list.ageSeconds)} ${t("health.age")}${list.state === "expired" ? ` (${t("health.expired")})` : ""}`;
  if (status.trustList) lists.push(listText("health.trust", status.trustList));
  if (status.revocationList) lists.push(listText("health.revocation", status.revocationList));
  mark($("lists"), lists.join(" · ") || t("health.none"), status.problems.some((p) => p.startsWith("trust_list") || p.startsWith("revocation")) ? "bad" : "");
  paintClock();
  const practitioner = status.practitioner;
  const refusal = status.practitionerRefusal;
  let practitionerWords = practitioner
    ? `${practitioner.name} (${practitioner.id}) ${t("health.until")} ${timeText(practitioner.until).slice(0, 5)}`
      + (practitioner.credential === "pkcs11" ? ` · ${t("health.card")}` : "")
    : t("health.notLoggedIn");
  if (refusal) {
    practitionerWords += ` · ${t("health.refused")}: ${refusal.practitioner.name} (${refusal.practitioner.id}), ${refusal.code}`;
  }
  const cardRefusal = status.cardRefusal;
  if (cardRefusal) {
    const tries = cardRefusal.pinTries ? ` (${t(`pinTries.${cardRefusal.pinTries}`)})` : "";
    practitionerWords += ` · ${t("health.cardRefused")}: ${cardRefusal.code}${tries}`;
  }
  mark($("practitioner"), practitionerWords, refusal || cardRefusal ? "bad" : practitioner ? "" : "warn");
  const problems = $("problems");
  problems.replaceChildren(...status.problems.map((problem) => element("li", { "data-problem": problem,
    text: text[state.language][`problem.${problem}`] ?? problem.replaceAll("_", " ") })));
}

function paintDrain(outbox, cloudState) {
  // The bar shows how much of what piled up while offline has gone out since the cloud came back.
  if (outbox === 0) {
    if (state.drainPeak > 0) {
      $("drain").hidden = false;
      $("drain-bar").value = 1;
      $("drain-text").textContent = `${state.drainPeak} / ${state.drainPeak}`;
      $("drain").dataset.done = "true";
      setTimeout(() => { if (state.drainPeak === 0) $("drain").hidden = true; }, 4000);
    }
    state.drainPeak = 0;
    return;
  }
  state.drainPeak = Math.max(state.drainPeak, outbox);
  const drain = $("drain");
  drain.hidden = cloudState !== "online";
  drain.dataset.done = "false";
  $("drain-bar").value = (state.drainPeak - outbox) / state.drainPeak;
  $("drain-text").textContent = `${state.drainPeak - outbox} / ${state.drainPeak}`;
}

// Times as a clinic writes them, 24-hour, in the screen's own time zone. Written by hand: the browser's
// Intl formatting costs a cold page tens of milliseconds to load its locale data.
const two = (number) => String(number).padStart(2, "0");
function timeText(seconds) {
  const date = new Date(seconds * 1000);
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}
function dateText(seconds) {
  const date = new Date(seconds * 1000);
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

function stationNow() { return Date.now() / 1000 + state.clockOffset; }

/** The browser's zone at `date`, as its offset from UTC: "UTC+08:00". */
function zoneText(date) {
  const minutes = -date.getTimezoneOffset();
  const hours = String(Math.floor(Math.abs(minutes) / 60)).padStart(2, "0");
  return `UTC${minutes < 0 ? "-" : "+"}${hours}:${String(Math.abs(minutes) % 60).padStart(2, "0")}`;
}

function paintClock() {
  const now = new Date(stationNow() * 1000);
  $("clock").textContent = timeText(now.getTime() / 1000);
  const status = state.status;
  if (status) {
    const behind = status.clock.state === "rolled_back";
    // The page's times are the browser's local time; this line names its zone (docs/operations.md, Times).
    mark($("station-clock"), `${dateText(now.getTime() / 1000)} ${timeText(now.getTime() / 1000)} ${zoneText(now)}${behind ? ` · ${t("health.clockBehind")}` : ""}`, behind ? "bad" : "");
  }
}

// ---- visits ----

async function loadSessions() {
  const [active, waiting] = await Promise.all([
    api("/v1/sessions?state=active"), api("/v1/sessions?state=awaiting_id_check"),
  ]);
  state.sessions = [...waiting.sessions, ...active.sessions].sort((a, b) => b.openedAt - a.openedAt);
  paintSessions();
}

function timeLeft(session) {
  const minutes = Math.max(0, Math.ceil((session.expiresAt - stationNow()) / 60));
  return `${minutes} ${t("visits.minutes")}`;
}

function button(key, action, attributes = {}) {
  return element("button", { type: "button", text: t(key), onclick: action, ...attributes });
}

function paintSessions() {
  const rows = state.sessions.map((session) => {
    const revealed = state.revealed.get(session.id);
    const holder = revealed
      ? element("span", { class: "revealed", text: `${revealed.id} ${revealed.name} ${revealed.birthDate}` })
      : element("span", { text: `${session.holderID} ${session.holderName}` });
    const stateCell = element("td", {},
      element("span", { class: "state", "data-state": session.state, text: t(`state.${session.state}`) }));
    if (session.cloud && session.cloud.state !== "forwarded") {
      stateCell.append(" ", element("span", { class: "state", "data-state": session.cloud.state, text: t(`cloudState.${session.cloud.state}`) }));
    }
    const actions = element("div", { class: "actions" });
    if (session.state === "awaiting_id_check") actions.append(button("visits.idCheck", () => openIDCheck(session), { "data-action": "id-check" }));
    if (session.cloud?.state === "forwarded") actions.append(button("visits.records", () => openRecords(session), { "data-action": "records" }));
    actions.append(revealed
      ? button("visits.hide", () => hideHolder(session.id), { "data-action": "hide" })
      : button("visits.reveal", () => reveal(session).catch(reportError), { "data-action": "reveal" }));
    actions.append(button("visits.close", () => closeVisit(session).catch(reportError), { "data-action": "close" }));
    return element("tr", { "data-session": session.id },
      element("td", {}, holder),
      element("td", { text: session.delegateID ?? "" }),
      element("td", { class: "setting", text: session.setting ? named("setting", session.setting) : "" }),
      stateCell,
      element("td", { class: "time-left", text: timeLeft(session) }),
      element("td", { text: session.cloud?.visitSequence ?? "" }),
      element("td", {}, actions));
  });
  // A repaint keeps the keyboard's place: the same button of the same visit gets the focus back.
  const focused = document.activeElement;
  const row = focused?.closest?.("tr[data-session]");
  const place = row ? { session: row.dataset.session, action: focused.dataset.action } : null;
  $("visits-body").replaceChildren(...rows);
  if (place) focusVisit(place.session, place.action);
  $("visits-table").hidden = rows.length === 0;
  $("visits-empty").hidden = rows.length > 0;
}

// The focus goes back to a visit's button after a repaint or a closed panel: Reveal and Hide take each
// other's place; a visit gone (closed) leaves it on the list's heading.
const counterpart = { reveal: "hide", hide: "reveal" };
function focusVisit(session, action) {
  const row = document.querySelector(`tr[data-session="${CSS.escape(session ?? "")}"]`);
  const target = row?.querySelector(`[data-action="${action}"]`)
    ?? row?.querySelector(`[data-action="${counterpart[action] ?? action}"]`)
    ?? row?.querySelector("button");
  (target ?? $("visits-title")).focus();
}

// Every second only the times change: repainting the rows would take the keyboard focus away.
function paintTimesLeft() {
  for (const session of state.sessions) {
    const cell = document.querySelector(`tr[data-session="${CSS.escape(session.id)}"] .time-left`);
    if (cell) cell.textContent = timeLeft(session);
  }
}

async function reveal(session) {
  // An explicit, audited action: the daemon records who asked, and the name goes away again by itself.
  const holder = await api(`/v1/sessions/${encodeURIComponent(session.id)}/reveal`, { method: "POST", body: {} });
  state.revealed.set(session.id, holder);
  paintSessions();
  clearTimeout(state.revealTimers.get(session.id));
  state.revealTimers.set(session.id, setTimeout(() => { hideHolder(session.id); }, 30000));
}

function hideHolder(id) {
  clearTimeout(state.revealTimers.get(id));
  state.revealTimers.delete(id);
  state.revealed.delete(id);
  paintSessions();
}

async function closeVisit(session) {
  if (!confirm(t("visits.closeConfirm"))) return;
  await api(`/v1/sessions/${encodeURIComponent(session.id)}/close`, { method: "POST", body: {} });
  await loadSessions();
  focusVisit(null, "close");
}

// ---- the ID-document check ----

function openIDCheck(session) {
  state.idCheckSession = session;
  $("idcheck").hidden = false;
  $("idcheck-holder").textContent = `${session.holderID} ${session.holderName}`;
  $("idcheck-error").textContent = "";
  $("idcheck-document").focus();
}

async function submitIDCheck(submitted) {
  submitted.preventDefault();
  const session = state.idCheckSession;
  if (!session) return;
  try {
    await api(`/v1/sessions/${encodeURIComponent(session.id)}/id-check`, {
      method: "POST",
      body: {
        document: $("idcheck-document").value,
        lastFour: $("idcheck-last-four").value.trim(),
        operator: $("idcheck-operator").value.trim(),
      },
    });
    closeIDCheck();
    $("idcheck-last-four").value = "";
    await loadSessions();
    focusVisit(session.id, "records");
  } catch (error) {
    $("idcheck-error").textContent = problemText(error);
  }
}

function closeIDCheck() {
  const session = state.idCheckSession;
  $("idcheck").hidden = true;
  state.idCheckSession = null;
  if (session) focusVisit(session.id, "id-check");
}

// ---- records ----

const categories = ["medications", "tcm", "allergies", "labs", "imaging", "surgeries", "discharges", "preventive"];

function openRecords(session) {
  state.records = { session, category: "medications" };
  $("alerts-atc").value = "";
  $("records").hidden = false;
  $("records-holder").textContent = `${session.holderID} ${session.holderName} · ${t("verdict.visit")} ${session.cloud?.visitSequence ?? ""}`;
  $("alerts").replaceChildren();
  paintTabs();
  loadRecords().catch(reportRecordsError);
  $("records-title").scrollIntoView({ block: "nearest" });
}

function paintTabs() {
  const tabs = categories.map((category) => {
    const selected = state.records?.category === category;
    return element("button", {
      type: "button", role: "tab", "aria-selected": String(selected), tabindex: selected ? "0" : "-1",
      "data-category": category, text: t(`category.${category}`),
      onclick: () => { state.records.category = category; paintTabs(); loadRecords().catch(reportRecordsError); },
      onkeydown: (key) => moveTab(key, category),
    });
  });
  $("records-tabs").replaceChildren(...tabs);
}

function moveTab(key, category) {
  const step = key.key === "ArrowRight" ? 1 : key.key === "ArrowLeft" ? -1 : 0;
  if (!step) return;
  const next = categories[(categories.indexOf(category) + step + categories.length) % categories.length];
  state.records.category = next;
  paintTabs();
  document.querySelector(`[data-category="${next}"]`).focus();
  loadRecords().catch(reportRecordsError);
}

function reportRecordsError(error) {
  $("records-list").replaceChildren(element("p", { class: "error", text: problemText(error) }));
}

async function loadRecords() {
  const asked = { ...state.records };
  $("records-list").replaceChildren(element("p", { text: t("records.loading") }));
  const page = await api(`/v1/sessions/${encodeURIComponent(asked.session.id)}/records/${asked.category}?pageSize=50`);
  // Another tab or another visit's records were asked for meanwhile: this answer is not theirs.
  if (state.records?.session.id !== asked.session.id || state.records?.category !== asked.category) return;
  const category = asked.category;
  const items = page.items.map((item) => element("li", {}, ...describe(category, item)));
  const list = items.length ? element("ul", { "data-category": category }, ...items) : element("p", { text: t("records.empty") });
  const more = page.total > page.items.length ? element("p", { text: t("records.more", { n: page.total - page.items.length }) }) : null;
  $("records-list").replaceChildren(list, ...(more ? [more] : []));
}

// One record as text: the fields a clinician reads first, per category.
function describe(category, item) {
  const line = (...parts) => parts.filter((part) => part != null && part !== "").join(" · ");
  switch (category) {
    case "medications":
      return [
        line(item.date, item.name, item.atcCode, item.dose, item.institution, item.chronic ? t("records.chronic") : ""),
        " — ", element("span", { class: "days-left", text: `${t("records.daysLeft")} ${item.daysRemaining}/${item.daysSupply}` }),
      ];
    case "tcm": return [line(item.date, item.formula, item.institution), " — ", element("span", { class: "days-left", text: `${t("records.daysLeft")} ${item.daysRemaining}/${item.daysSupply}` })];
    case "allergies": return [line(item.date, item.substance, item.atcCode, item.reaction, item.severity)];
    case "labs": return [line(item.date, item.test, `${item.value} ${item.unit}`, item.flag, item.institution)];
    case "imaging": return [line(item.date, item.modality, item.bodySite, item.report)];
    case "surgeries": return [line(item.date, item.procedure, item.code, item.institution)];
    case "discharges": return [line(`${item.admittedOn} – ${item.date}`, item.diagnosis, item.diagnosisCode, item.summary)];
    case "preventive": return [line(item.date, item.service, item.result, item.institution)];
    default: return [JSON.stringify(item)];
  }
}

async function checkAlerts(submitted) {
  submitted.preventDefault();
  const session = state.records?.session;
  if (!session) return;
  const atcCode = $("alerts-atc").value.trim().toUpperCase();
  try {
    const answer = await api(`/v1/sessions/${encodeURIComponent(session.id)}/alerts`, {
      method: "POST", body: { prescriptions: [{ atcCode }] },
    });
    if (state.records?.session.id !== session.id) return;
    const alerts = answer.alerts.map((alert) => element("div", { class: "alert", role: "alert", "data-kind": alert.kind },
      element("strong", { text: `⚠ ${t(`alerts.${alert.kind}`)} (${alert.severity})` }),
      element("p", { text: alert.message }),
      element("p", { text: `${alert.existing.date} · ${alert.existing.name} ${alert.existing.atcCode} · ${t("records.daysLeft")} ${alert.existing.daysRemaining}` }),
      element("p", { text: alert.source })));
    $("alerts").replaceChildren(...(alerts.length ? alerts : [element("p", { text: t("alerts.none") })]));
  } catch (error) {
    $("alerts").replaceChildren(element("p", { class: "error", text: problemText(error) }));
  }
}

// ---- the day at a glance ----

async function loadDay() {
  const day = await api("/v1/stats/day");
  $("day-summary").textContent = t("day.summary", { total: day.accepted + day.refused, accepted: day.accepted, refused: day.refused });
  paintChart(day.hours);
  const refusals = day.refusals.map((refusal) => element("li", { "data-code": refusal.code,
    text: `${refusal.count} × ${state.language === "en" ? refusal.reason.en : refusal.reason.zhHant} (${refusal.code})` }));
  $("day-refusals").replaceChildren(...(refusals.length ? refusals : [element("li", { text: t("day.noRefusals") })]));
  state.day = day;
}

function paintChart(hours) {
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", "0 0 480 140");
  svg.setAttribute("preserveAspectRatio", "xMinYMid meet");
  svg.setAttribute("aria-hidden", "true");
  const peak = Math.max(1, ...hours.map((hour) => hour.accepted + hour.refused));
  hours.forEach((hour, index) => {
    const x = index * 20 + 2;
    const acceptedHeight = (hour.accepted / peak) * 110;
    const refusedHeight = (hour.refused / peak) * 110;
    for (const [kind, height, y] of [["accepted", acceptedHeight, 120 - acceptedHeight], ["refused", refusedHeight, 120 - acceptedHeight - refusedHeight]]) {
      if (height <= 0) continue;
      const bar = document.createElementNS(svgNS, "rect");
      bar.setAttribute("class", kind);
      for (const [name, value] of Object.entries({ x, y, width: 16, height })) bar.setAttribute(name, String(value));
      svg.append(bar);
    }
    if (index % 3 === 0) {
      const label = document.createElementNS(svgNS, "text");
      label.setAttribute("x", String(x));
      label.setAttribute("y", "134");
      label.textContent = String(hour.hour).padStart(2, "0");
      svg.append(label);
    }
  });
  const chart = $("day-chart");
  chart.setAttribute("aria-label", `${t("day.chartLabel")}: ${hours.filter((h) => h.accepted + h.refused > 0).map((h) => `${h.hour}:00 ${h.accepted}/${h.refused}`).join(", ")}`);
  chart.replaceChildren(svg);
}

// ---- language, sign-in, start ----

function applyLanguage() {
  document.documentElement.lang = state.language;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
  document.title = t("title");
  const other = languages.find((language) => language !== state.language);
  const toggle = $("language");
  toggle.textContent = text[other]["language.other"] === undefined ? other : t("language.other");
  toggle.lang = other;
  paintVerdict();
  paintStatus();
  paintSessions();
  if (state.records) paintTabs();
  if (state.day) loadDay().catch(reportError);
  telemedicine.paint();
}

function showSignIn() {
  // Signed out or expired: nothing more reaches this screen until a new link is used, and nothing of
  // the last visits stays on it.
  state.source?.close();
  state.source = null;
  for (const id of [...state.revealed.keys()]) hideHolder(id);
  state.sessions = [];
  paintSessions();
  if (state.verdict) backToReady();  // the last holder, masked, leaves the page; a reload does not bring it back
  telemedicine.signedOut();
  $("signin").hidden = false;
  $("desk").hidden = true;
  $("signout").hidden = true;
  $("stream").hidden = true;
}

async function checkSignIn() {
  await loadStatus();
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("signout").hidden = false;
  $("stream").hidden = false;
}

async function start() {
  // The first reads go out before anything is painted, together: a cold load waits for one round trip.
  const firstReads = Promise.allSettled([checkSignIn(), loadSessions(), loadDay(), loadSettings(),
    telemedicine.loadConsents()]);
  applyLanguage();
  sounds.start();
  installKeyScan({
    onScan: (token) => api("/v1/scans", { method: "POST", body: { token, source: "handheld" } }).catch(reportError),
    onReading: (reading) => { $("keyscan").hidden = !reading; },
  });
  $("language").addEventListener("click", () => {
    state.language = state.language === "en" ? "zh-Hant" : "en";
    localStorage.setItem("vhc.language", state.language);
    applyLanguage();
  });
  $("idcheck-form").addEventListener("submit", submitIDCheck);
  $("idcheck-cancel").addEventListener("click", closeIDCheck);
  $("alerts-form").addEventListener("submit", checkAlerts);
  $("records-close").addEventListener("click", () => {
    const session = state.records?.session;
    $("records").hidden = true;
    state.records = null;
    if (session) focusVisit(session.id, "records");
  });
  $("signout").addEventListener("click", async () => {
    await api("/v1/web/signout", { method: "POST", body: {} }).catch(() => {});
    localStorage.removeItem("vhc.pageKey");
    showSignIn();
  });
  const [signedIn, ...rest] = await firstReads;
  if (signedIn.status === "rejected") {
    if (signedIn.reason?.status !== 401) reportError(signedIn.reason);
    return;
  }
  for (const result of rest) if (result.status === "rejected") reportError(result.reason);
  connectEvents();
  setInterval(() => loadStatus().catch(() => {}), 2000);
  setInterval(() => { paintClock(); paintTimesLeft(); telemedicine.tick(); if (state.verdict && readyIn() <= 0) backToReady(); }, 1000);
  document.body.dataset.readyAt = String(performance.now());
  document.body.dataset.ready = "true";
  sounds.wake(); // before any event is handled, yet after the page is up: the audio device costs ~50 ms
}

start();
