// Reading the patient's code live off the video call: the clinician shares the call's window or tab
// (getDisplayMedia, the browser's own picker), and the page sends the station a still of it at most four
// times a second (POST /v1/scans/frame, a JPEG of at most 1280 px a side), never a second one while the
// first is unanswered. It stops by itself at the first valid code, after the station's page.capture_seconds
// (two minutes unless set), when the sharing
// ends (the browser's own "Stop sharing"), and on Stop; every track is stopped then. While it reads, a
// red bar with the time and a Stop button stays on screen wherever the page is scrolled.
//
// Nothing needs a Content-Security-Policy change: the preview is a <video> given the stream itself
// (srcObject, no URL), and each still is drawn on a canvas and sent as the request's body.

const interval = 250;        // ms at least from one still sent to the next: at most 4 a second
const tick = 50;             // ms between two looks at whether the next still may go
const largest = 1280;        // a still's longer side, pixels
const quality = 0.85;        // JPEG
const silent = 5000;         // ms without a picture from the shared window before the page says so
// Skipped, not fatal: the station reading another image, an upload cut short, the daemon restarting.
const skipped = new Set(["image_busy", "image_upload_too_slow"]);

const stopWords = {
  valid: "capture.stoppedValid", timeout: "capture.stoppedTimeout", user: "capture.stopped",
  ended: "capture.stoppedEnded", failed: "capture.stoppedFailed",
};

function clock(milliseconds) {
  const seconds = Math.floor(milliseconds / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// How long a reading lasts, in words: "2 minutes", "90 s".
function limitWords(t, seconds) {
  return seconds % 60 === 0 ? t("capture.minutes", { n: seconds / 60 }) : t("capture.seconds", { n: seconds });
}

export function createCapture({ $, t, api, say, setting, found, failed, isValidScan, captureSeconds }) {
  let run = null;       // { stream, started, limit, timer, canvas, inFlight, due, lastPost, sent, dropped, busy, warned }
  let last = null;      // the last message shown under the button, { key, seconds } (repainted in a new language)

  function words(shown) {
    return t(shown.key, { limit: limitWords(t, shown.seconds) });
  }

  function message(key, seconds = run?.limit ?? captureSeconds()) {
    last = key ? { key, seconds } : null;
    $("capture-message").textContent = last ? words(last) : "";
    if (last) say(words(last));
  }

  async function start() {
    if (run) return;
    if (!navigator.mediaDevices?.getDisplayMedia) { message("capture.unsupported"); return; }
    let stream;
    try {
      // Without an ideal size Chromium delivers a shared tab 800 px wide, whatever its own size: a code
      // on a phone in a video call needs every pixel the window has (a still is still at most `largest`).
      stream = await navigator.mediaDevices.getDisplayMedia({
        video: { frameRate: 5, width: { ideal: 1920 }, height: { ideal: 1080 } }, audio: false,
        selfBrowserSurface: "exclude", surfaceSwitching: "include",
      });
    } catch (error) {
      message(error?.name === "NotAllowedError" ? "capture.refused" : "capture.cannotStart");
      return;
    }
    const current = { stream, started: Date.now(), limit: captureSeconds(), canvas: document.createElement("canvas"), inFlight: false,
      lastPost: -Infinity, sent: 0, dropped: 0, busy: 0 };
    run = current;
    for (const track of stream.getTracks()) {
      track.addEventListener("ended", () => { if (run === current) stop("ended"); });
    }
    const video = $("capture-preview");
    video.srcObject = stream;
    video.play().catch(() => {});
    current.timer = setInterval(() => sample(current), tick);
    $("capture-bar").hidden = false;
    $("capture-start").disabled = true;
    document.body.dataset.capturing = "true";
    paint();
    message("capture.started");
    $("capture-stop").focus();
  }

  function sample(current) {
    if (run !== current) return;
    if (Date.now() - current.started >= current.limit * 1000) { stop("timeout"); return; }
    // Counted from when the last still went (its encoding took a moment): never closer than `interval`.
    if (performance.now() - current.lastPost < interval) return;
    // A still due while the last is unanswered is dropped (counted once); the next goes once it is answered.
    if (current.inFlight) {
      if (!current.due) current.dropped++;
      current.due = true;
      return;
    }
    current.due = false;
    const video = $("capture-preview");
    if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !video.videoWidth) {
      // A minimised or hidden window sends the browser no picture at all: say what to do, once, and go on
      // looking (it reads as soon as the window is shown again).
      if (!current.sent && !current.warned && Date.now() - current.started >= silent) {
        current.warned = true;
        message("capture.noPicture");
      }
      return;
    }
    const scale = Math.min(1, largest / Math.max(video.videoWidth, video.videoHeight));
    const canvas = current.canvas;
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    current.inFlight = true;
    canvas.toBlob((blob) => send(current, blob), "image/jpeg", quality);
  }

  async function send(current, blob) {
    try {
      if (!blob || run !== current) return;
      current.lastPost = performance.now();
      const answer = await api(`/v1/scans/frame?source=capture&setting=${encodeURIComponent(setting())}`,
        { method: "POST", raw: blob, type: "image/jpeg" });
      current.sent++;
      if (current.warned && last?.key === "capture.noPicture") message(null);
      // The frame on the canvas is still the one sent: the next is drawn only once this one is answered.
      if (answer?.codes?.length) await found(answer, current.canvas);
      if (run === current && answer?.codes?.some((code) => isValidScan(code.scan))) stop("valid");
    } catch (error) {
      if (skipped.has(error?.code) || error instanceof TypeError) { current.busy++; return; }
      if (run !== current) return;
      if (error?.status === 401) { stop("signedOut"); return; }
      failed(error);
      stop("failed");
    } finally {
      current.inFlight = false;
      paint();
    }
  }

  function stop(reason) {
    const current = run;
    if (!current) return;
    run = null;
    clearInterval(current.timer);
    for (const track of current.stream.getTracks()) track.stop();
    const video = $("capture-preview");
    video.pause();
    video.srcObject = null;
    const hadFocus = $("capture-bar").contains(document.activeElement);
    $("capture-bar").hidden = true;
    $("capture-start").disabled = false;
    document.body.dataset.capturing = "false";
    Object.assign($("capture-bar").dataset, { sent: String(current.sent), dropped: String(current.dropped), busy: String(current.busy) });
    if (hadFocus) $("capture-start").focus();
    if (stopWords[reason]) message(stopWords[reason], current.limit);
  }

  // The bar's time and count, every second and in a new language; not a live region (it would speak
  // every second): starting and stopping are said once each.
  function paint() {
    if (last) $("capture-message").textContent = words(last);
    $("capture-preview").setAttribute("aria-label", t("capture.preview"));
    if (!run) return;
    $("capture-elapsed").textContent = clock(Date.now() - run.started);
    $("capture-frames").textContent = t("capture.frames", { n: run.sent });
    Object.assign($("capture-bar").dataset, { sent: String(run.sent), dropped: String(run.dropped), busy: String(run.busy) });
  }

  $("capture-start").addEventListener("click", () => { start(); });
  $("capture-stop").addEventListener("click", () => stop("user"));

  return { paint, stop, running: () => run !== null };
}
