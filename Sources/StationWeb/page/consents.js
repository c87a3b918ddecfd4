// Remote consent: the clinician types the patient's ID number, the station asks the cloud, and the patient
// approves or refuses in the app. The list is the station's own (GET /v1/consents: the last 24 hours,
// newest first, pending ones kept across a daemon restart), read again at start, on every consent.* event
// and after each action, so a reloaded page shows the same. An approval opens the visit as a scan does:
// the verdict panel shows it (source consent). The patient is masked by the daemon; all of it is text.
import { isTaiwanID } from "/web/taiwan-id.js";

const two = (number) => String(number).padStart(2, "0");

export function createConsents({ $, t, api, element, stationNow, timeText, named, say, problemWords, setting }) {
  let consents = [];
  let seen = null;  // consent id → the state last shown; null until the first read (nothing announced then)

  async function load() {
    const list = await api("/v1/consents");
    const fresh = Array.isArray(list?.consents) ? list.consents : [];
    if (seen) {
      for (const consent of fresh) {
        const before = seen.get(consent.id);
        if (before && before !== consent.state) say(t(`consent.became.${consent.state}`, { patient: consent.patient }));
      }
    }
    seen = new Map(fresh.map((consent) => [consent.id, consent.state]));
    consents = fresh;
    paint();
  }

  function timeLeft(consent) {
    const seconds = Math.max(0, Math.ceil(consent.expiresAt - stationNow()));
    return t("consent.left", { time: `${Math.floor(seconds / 60)}:${two(seconds % 60)}` });
  }

  function stateWords(consent) {
    if (consent.state === "approved") {
      // `code` of an approval is its scan's: valid, or why the token it brought was refused.
      const refused = !consent.sessionId && consent.code && consent.code !== "valid";
      return refused ? t("consent.state.approvedRefused", { code: consent.code }) : t("consent.state.approved");
    }
    const key = `consent.state.${consent.state}`;
    const words = t(key);
    return words === key ? consent.state : words;
  }

  function detail(consent) {
    if (consent.state === "pending") return timeLeft(consent);
    const ended = consent.endedAt ? ` · ${t("consent.endedAt", { time: timeText(consent.endedAt) })}` : "";
    const code = consent.code && consent.state !== "approved" ? ` (${consent.code})` : "";
    return `${t("consent.requestedAt", { time: timeText(consent.requestedAt) })}${ended}${code}`;
  }

  function paint() {
    // A repaint keeps the keyboard's place on a pending request's Cancel.
    const kept = document.activeElement?.closest?.("#consent-list li[data-consent]")?.dataset.consent;
    const items = consents.map((consent) => {
      const item = element("li", { "data-consent": consent.id, "data-state": consent.state },
        element("span", { class: "consent-patient", text: consent.patient }), " · ",
        element("span", { class: "consent-setting", text: named("setting", consent.setting) }), " · ",
        element("span", { class: "state", "data-state": `consent-${consent.state}`, text: stateWords(consent) }), " ",
        element("span", { class: "consent-detail", text: detail(consent) }));
      if (consent.state === "pending") {
        item.append(" ", element("button", { type: "button", "data-action": "cancel-consent", text: t("consent.cancel"),
          "aria-label": `${t("consent.cancel")} ${consent.patient}`, onclick: () => cancel(consent) }));
      }
      return item;
    });
    $("consent-list").replaceChildren(...items);
    $("consent-empty").hidden = items.length > 0;
    if (kept) {
      const button = document.querySelector(`#consent-list li[data-consent="${CSS.escape(kept)}"] button`);
      (button ?? $("consent-title")).focus();
    }
  }

  // Every second only the countdowns change: repainting the list would take the focus away.
  function tick() {
    for (const consent of consents) {
      if (consent.state !== "pending") continue;
      const cell = document.querySelector(`#consent-list li[data-consent="${CSS.escape(consent.id)}"] .consent-detail`);
      if (cell) cell.textContent = timeLeft(consent);
    }
  }

  async function request(submitted) {
    submitted.preventDefault();
    const input = $("consent-patient");
    const patientId = input.value.trim().toUpperCase();
    const error = $("consent-error");
    if (!isTaiwanID(patientId)) {
      input.setAttribute("aria-invalid", "true");
      error.textContent = t("consent.invalidID");
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    error.textContent = "";
    $("consent-submit").disabled = true;
    try {
      const consent = await api("/v1/consents", { method: "POST", body: { patientId, setting: setting() } });
      input.value = "";
      say(t("consent.asked", { patient: consent?.patient ?? "", setting: named("setting", consent?.setting ?? setting()) }));
    } catch (failure) {
      if (failure?.status !== 401) error.textContent = t("consent.failed", { problem: problemWords(failure) });
      return;
    } finally {
      $("consent-submit").disabled = false;
    }
    await load().catch((failure) => { error.textContent = problemWords(failure); });
  }

  async function cancel(consent) {
    const error = $("consent-error");
    error.textContent = "";
    try {
      await api(`/v1/consents/${encodeURIComponent(consent.id)}/cancel`, { method: "POST", body: {} });
    } catch (failure) {
      if (failure?.status !== 401) error.textContent = t("consent.cancelFailed", { problem: problemWords(failure) });
    }
    await load().catch((failure) => { error.textContent = problemWords(failure); });
    const button = document.querySelector(`#consent-list li[data-consent="${CSS.escape(consent.id)}"] button`);
    (button ?? $("consent-title")).focus();
  }

  // Signed out: nothing of the list stays on screen.
  function forget() {
    consents = [];
    seen = null;
    paint();
  }

  $("consent-form").addEventListener("submit", request);
  $("consent-patient").addEventListener("input", () => {
    $("consent-patient").removeAttribute("aria-invalid");
  });

  return { load, paint, tick, forget };
}
