// The telemedicine panel (issue 23): a clinician whose patient is on a video call gives the station a
// picture of the patient's code (pasted, dropped or chosen), lets it read the code live off the shared
// call window (capture.js), or asks the patient for consent in the app (consents.js). All three open the
// visit in the setting chosen here. The verdict itself comes through the event stream, as for the camera.
//
// Nothing of a picture is kept: its bytes go to the station in one request and are let go; the thumbnail
// is a canvas on screen only (never an object URL, never storage), gone with Clear or the next picture.
import { text } from "/web/text.js";
import { isTextField } from "/web/keyscan.js";
import { createCapture } from "/web/capture.js";
import { createConsents } from "/web/consents.js";

const settings = ["telemedicine", "video_consultation"];
const thumbnailSide = 320;          // the thumbnail's longer side, CSS pixels
const largestUpload = 25165824;     // the station's limit (docs/openapi.yaml); it answers image_too_large
const busyTries = 5;                // a picture the station is too busy for is sent again, 400 ms apart
const colors = { valid: "#0b6b2f", refused: "#b3261e" };

// A picture's media type for the station: the browser's (Debian's chromium names a .heic file image/heif),
// or from the name where the browser gives none (a HEIC file often has no type elsewhere).
function mediaType(file) {
  if (file.type) return file.type;
  const name = (file.name || "").toLowerCase();
  if (name.endsWith(".heic")) return "image/heic";
  if (name.endsWith(".heif")) return "image/heif";
  if (name.endsWith(".png")) return "image/png";
  if (/\.jpe?g$/.test(name)) return "image/jpeg";
  return "application/octet-stream";
}

export const isValidScan = (scan) => scan?.accepted === true || scan?.code === "valid";

// A file dragged over the page of a signed-in desk (the sign-in panel takes no picture).
const hasFiles = (event) => !document.getElementById("desk").hidden
  && [...(event.dataTransfer?.types ?? [])].includes("Files");

// `page`: $, t, element, api, stationNow, timeText, named (words for a setting or a source) and
// language() from app.js.
export function installTelemedicine(page) {
  const { $, t, element } = page;
  const saved = localStorage.getItem("vhc.setting");
  let setting = settings.includes(saved) ? saved : "telemedicine";
  let shown = null;           // the answer on screen: { answer, kind, problem }
  let reading = false;        // a picture is on its way to the station
  let queued = null;          // the picture given meanwhile: the latest one waits, earlier ones go
  let dragDepth = 0;

  // Progress and outcomes, heard politely; the verdict is heard through the verdict's own region.
  function say(words) {
    const region = $("telemed-status");
    // The same words twice (a second picture with the same outcome) are heard again.
    region.textContent = region.textContent === words ? `${words}\u00a0` : words;
  }

  // A station's refusal in words, with its code for whoever they call.
  function problemWords(error) {
    const key = `problem.${error?.code}`;
    const words = error?.code && text.en[key] !== undefined ? t(key) : (error?.message || t("common.failed"));
    return `${words} (${error?.code ?? `HTTP ${error?.status ?? "?"}`})`;
  }

  // ---- the setting ----

  function paintSetting() {
    for (const input of document.querySelectorAll("input[name='telemed-setting']")) input.checked = input.value === setting;
    $("telemed").dataset.setting = setting;
  }

  for (const input of document.querySelectorAll("input[name='telemed-setting']")) {
    input.addEventListener("change", () => {
      if (!input.checked) return;
      setting = input.value;
      localStorage.setItem("vhc.setting", setting);
      paintSetting();
      say(t("telemed.settingChosen", { setting: page.named("setting", setting) }));
    });
  }

  // ---- a picture in: paste, drop, or a file ----

  function take(file) {
    if (!file) return;
    if (reading) { queued = file; return; }
    reading = true;
    readPicture(file).catch((error) => showProblem(error, "picture")).finally(() => {
      reading = false;
      const next = queued;
      queued = null;
      if (next) take(next);
    });
  }

  async function post(path, body, type) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await page.api(path, { method: "POST", raw: body, type });
      } catch (error) {
        if (error?.code === "image_busy" && attempt < busyTries) {
          await new Promise((done) => setTimeout(done, 400));
          continue;
        }
        // A station that refuses a body too large may close the connection before the browser has sent
        // it all: the browser then reports no answer at all.
        if (error instanceof TypeError && body.size > largestUpload) {
          throw Object.assign(new Error(error.message), { code: "image_too_large", status: 413 });
        }
        throw error;
      }
    }
  }

  async function readPicture(file) {
    say(t("picture.reading"));
    const thumbnail = drawThumbnail(file);
    const answer = await post(`/v1/scans/image?source=image&setting=${encodeURIComponent(setting)}`, file, mediaType(file));
    showAnswer(answer, "picture", await thumbnail);
  }

  // The picture as displayed (its EXIF orientation applied), fitted into thumbnailSide; null where the
  // browser cannot draw it (HEIC in Chromium): the list then stands alone.
  async function drawThumbnail(source) {
    let bitmap;
    try {
      bitmap = await createImageBitmap(source, { imageOrientation: "from-image" });
    } catch {
      return null;
    }
    const scale = Math.min(1, thumbnailSide / Math.max(bitmap.width, bitmap.height));
    const canvas = element("canvas", { class: "picture-thumbnail", role: "img" });
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return canvas;
  }

  // Each code's outline on the thumbnail, from its corners in the picture as displayed (`size`), coloured
  // by its verdict and numbered like the list, so the colour is not the only signal.
  function drawOutlines(canvas, answer) {
    const [width, height] = answer.size ?? [canvas.width, canvas.height];
    const scaleX = canvas.width / width;
    const scaleY = canvas.height / height;
    const context = canvas.getContext("2d");
    context.lineWidth = 3;
    context.font = "bold 14px sans-serif";
    context.textBaseline = "middle";
    context.textAlign = "center";
    answer.codes.forEach((code, index) => {
      const corners = (code.corners ?? []).map(([x, y]) => [x * scaleX, y * scaleY]);
      if (corners.length < 2) return;
      const color = colors[isValidScan(code.scan) ? "valid" : "refused"];
      context.strokeStyle = color;
      context.beginPath();
      corners.forEach(([x, y], corner) => (corner ? context.lineTo(x, y) : context.moveTo(x, y)));
      context.closePath();
      context.stroke();
      const [x, y] = corners[0];
      context.fillStyle = color;
      context.fillRect(x - 10, y - 10, 20, 20);
      context.fillStyle = "#fff";
      context.fillText(String(index + 1), x, y + 1);
    });
  }

  // How many answers were shown: the browser test waits for the next one.
  function counted() {
    const result = $("picture-result");
    result.dataset.answers = String(Number(result.dataset.answers ?? 0) + 1);
  }

  function showAnswer(answer, kind, canvas) {
    shown = { answer, kind };
    const preview = $("picture-preview");
    if (canvas) {
      drawOutlines(canvas, answer);
      preview.replaceChildren(canvas);
    } else {
      preview.replaceChildren(element("p", { class: "picture-no-preview", "data-text": "picture.noPreview", text: t("picture.noPreview") }));
    }
    paintAnswer();
    counted();
    say(t(kind === "capture" ? "capture.found" : "picture.read", { summary: $("picture-summary").textContent }));
  }

  function showProblem(error, kind) {
    if (error?.status === 401) return;
    shown = { problem: error, kind };
    $("picture-preview").replaceChildren();
    paintAnswer();
    counted();
    say($("picture-summary").textContent);
  }

  // The answer on screen, in the page's language (painted again on a language switch).
  function paintAnswer() {
    const result = $("picture-result");
    result.hidden = shown === null;
    if (!shown) return;
    const summary = $("picture-summary");
    if (shown.problem) {
      result.dataset.state = "error";
      result.dataset.code = shown.problem.code ?? "";
      summary.textContent = t(shown.kind === "capture" ? "capture.failed" : "picture.failed", { problem: problemWords(shown.problem) });
      $("picture-codes").replaceChildren();
      return;
    }
    const { answer } = shown;
    result.dataset.state = answer.codes.length ? "codes" : "none";
    delete result.dataset.code;
    result.dataset.size = (answer.size ?? []).join("x");
    result.dataset.kind = shown.kind;
    const parts = [answer.codes.length ? t("picture.found", { n: answer.codes.length }) : t("picture.none")];
    if (answer.ignored > 0) parts.push(t("picture.ignored", { n: answer.ignored }));
    if (answer.complete === false) parts.push(t("picture.partial"));
    summary.textContent = parts.join(" ");
    const items = answer.codes.map((code, index) => {
      const valid = isValidScan(code.scan);
      const scan = code.scan ?? {};
      const reason = scan.reason ? (page.language() === "en" ? scan.reason.en : scan.reason.zhHant) : "";
      const verdict = valid
        ? t(scan.session?.state === "awaiting_id_check" ? "verdict.idCheck" : "verdict.valid")
        : t("picture.refused", { reason, code: scan.code ?? "" });
      const details = [scan.holder, code.repeat ? t("capture.repeat") : ""].filter(Boolean).join(" · ");
      return element("li", { "data-verdict": valid ? "valid" : "refused", "data-code": scan.code ?? "",
        "data-repeat": String(Boolean(code.repeat)), "data-corners": JSON.stringify(code.corners ?? []) },
        element("span", { class: "code-number", text: String(index + 1) }), " ",
        element("strong", { text: verdict }),
        details ? element("span", { text: ` · ${details}` }) : null);
    });
    $("picture-codes").replaceChildren(...items);
    const canvas = $("picture-preview").querySelector("canvas");
    if (canvas) {
      const counts = { valid: items.filter((item) => item.dataset.verdict === "valid").length };
      canvas.setAttribute("aria-label", t("picture.thumbnail", { n: answer.codes.length, valid: counts.valid }));
    }
  }

  function clear() {
    shown = null;
    $("picture-preview").replaceChildren();
    $("picture-codes").replaceChildren();
    paintAnswer();
    $("picture-choose").focus();
  }

  // Ctrl+V of a screenshot anywhere on the page; text pasted into a text field is the field's.
  document.addEventListener("paste", (event) => {
    const data = event.clipboardData;
    if (!data || $("desk").hidden) return;
    if (isTextField(event.target) && [...data.types].includes("text/plain")) return;
    const item = [...data.items].find((entry) => entry.kind === "file" && entry.type.startsWith("image/"));
    const file = item?.getAsFile() ?? [...data.files].find((entry) => entry.type.startsWith("image/"));
    if (!file) return;
    event.preventDefault();
    take(file);
  });

  // Dropped anywhere on the page: while a file is dragged over it, the page says where it goes.
  function dropping(on) {
    document.body.dataset.dropping = String(on);
    $("drop-overlay").hidden = !on;
  }
  document.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth++;
    dropping(true);
  });
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (event) => {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) dropping(false);
  });
  document.addEventListener("drop", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dropping(false);
    take(event.dataTransfer.files[0]);
  });

  $("picture-choose").addEventListener("click", () => $("picture-file").click());
  $("picture-file").addEventListener("change", () => {
    const input = $("picture-file");
    const file = input.files[0];
    input.value = ""; // the same file chosen again is read again
    take(file);
  });
  $("picture-clear").addEventListener("click", clear);

  const capture = createCapture({
    ...page, say, problemWords, isValidScan,
    setting: () => setting,
    // A frame's codes are shown like a picture's, drawn from the frame that was sent.
    found: (answer, frame) => drawThumbnail(frame).then((canvas) => showAnswer(answer, "capture", canvas)),
    failed: (error) => showProblem(error, "capture"),
  });
  const consents = createConsents({ ...page, say, problemWords, setting: () => setting });

  paintSetting();
  return {
    paint() {
      paintAnswer();
      capture.paint();
      consents.paint();
    },
    tick() {
      capture.paint();
      consents.tick();
    },
    loadConsents: consents.load,
    signedOut() {
      capture.stop("signedOut");
      shown = null;
      paintAnswer();
      consents.forget();
    },
  };
}
