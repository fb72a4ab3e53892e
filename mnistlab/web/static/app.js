// mnistlab digit reader: three ways in (draw, upload, webcam), one way out (the JSON API).
"use strict";

const LIVE_INTERVAL_MS = 500; // webcam live mode: one frame at most every half second
const CAMERA_CROP = 0.56; // the dashed guide square, as a fraction of the frame's shorter side
const PEN_WIDTH = 20;
const STEP_LABELS = {
  original: "original",
  grey: "grey",
  background: "lighting (background)",
  ink: "ink, lighting removed",
  mask: "ink mask",
  digit_mask: "the digit (specks dropped)",
  cropped: "cropped",
  stroke: "stroke width fixed",
  resized: "20×20 box",
  centred: "28×28, centred: model input",
};

const $ = (id) => document.getElementById(id);

// ----------------------------------------------------------------------------- talking to the server

function endpoint() {
  return $("number-mode").checked ? "/api/number" : "/api/predict?steps=true";
}

async function send(blob, filename, source) {
  const form = new FormData();
  form.append("file", blob, filename);
  let response;
  try {
    response = await fetch(endpoint(), { method: "POST", body: form });
  } catch (error) {
    showError(`Could not reach the server (${error.message}). Is "python -m mnistlab serve" still running?`, source);
    return;
  }
  let body;
  try {
    body = await response.json();
  } catch {
    showError(`The server answered ${response.status} without a readable message.`, source);
    return;
  }
  if (!response.ok) {
    showError(body.error || body.detail || `The server answered ${response.status}.`, source);
    return;
  }
  if ("number" in body) showNumber(body, source);
  else showDigit(body, source);
}

async function checkHealth() {
  try {
    const response = await fetch("/healthz");
    const health = await response.json();
    $("health").textContent = `server ok · model ${health.model} (${health.runtime})`;
    $("size-limit").textContent = `${Math.round(health.max_upload_bytes / 2 ** 20)} MB`;
  } catch {
    $("health").textContent = "the server does not answer: start it with python -m mnistlab serve";
    $("health").classList.add("down");
  }
}

// ----------------------------------------------------------------------------- showing answers

const STATUS_TEXT = { ok: "ok", unsure: "unsure", "not-a-digit": "not a digit", error: "error" };

function setStatus(status) {
  const badge = $("status");
  badge.className = `status ${status}`;
  badge.textContent = STATUS_TEXT[status] || status;
}

function finish(source, state) {
  const result = $("result");
  result.dataset.state = state;
  result.dataset.source = source;
  result.dataset.seq = String(Number(result.dataset.seq) + 1);
}

function barRow(digit, probability) {
  const row = document.createElement("div");
  row.className = "bar-row";
  const label = document.createElement("span");
  label.className = "digit";
  label.textContent = String(digit);
  const track = document.createElement("span");
  track.className = "track";
  const fill = document.createElement("span");
  fill.className = "fill";
  fill.style.display = "block";
  fill.style.width = `${(probability * 100).toFixed(1)}%`;
  track.append(fill);
  const percent = document.createElement("span");
  percent.className = "percent";
  percent.textContent = `${(probability * 100).toFixed(1)} %`;
  row.append(label, track, percent);
  return row;
}

function showSteps(steps) {
  const list = $("steps");
  list.replaceChildren();
  for (const step of steps || []) {
    const item = document.createElement("li");
    const picture = document.createElement("img");
    picture.src = step.image;
    picture.alt = STEP_LABELS[step.name] || step.name;
    item.append(picture, document.createTextNode(STEP_LABELS[step.name] || step.name));
    list.append(item);
  }
  $("steps-box").hidden = !steps || steps.length === 0;
}

function clearPanels() {
  $("error").hidden = true;
  $("error").textContent = "";
  $("top3").replaceChildren();
  $("number-digits").replaceChildren();
  showSteps([]);
}

function showDigit(answer, source) {
  clearPanels();
  // "not a digit" shows no digit at all; "unsure" a question mark (the top-3 say which ones fit)
  $("answer").textContent = answer.digit !== null ? String(answer.digit) : answer.status === "not-a-digit" ? "–" : "?";
  setStatus(answer.status);
  $("message").textContent = answer.message || (answer.status === "ok"
    ? `${(answer.confidence * 100).toFixed(1)} % sure` : "");
  for (const { digit, probability } of answer.top3) $("top3").append(barRow(digit, probability));
  showSteps(answer.steps);
  finish(source, "done");
}

function showNumber(answer, source) {
  clearPanels();
  $("answer").textContent = answer.number || (answer.status === "not-a-digit" ? "–" : "?");
  setStatus(answer.status);
  const kept = answer.digits.filter((digit) => digit.status !== "not-a-digit").length;
  const read = kept ? `${kept} digit(s), all right with probability ${(answer.confidence * 100).toFixed(1)} %` : "";
  $("message").textContent = [read, answer.message].filter(Boolean).join(" · ");
  for (const digit of answer.digits) {
    const card = document.createElement("div");
    card.className = digit.status === "not-a-digit" ? "digit-card skipped" : "digit-card";
    card.title = digit.message || "";
    const big = document.createElement("strong");
    big.textContent = digit.digit !== null ? String(digit.digit) : digit.status === "not-a-digit" ? "–" : "?";
    card.append(big, document.createTextNode(
      digit.top3.map((t) => `${t.digit}: ${(t.probability * 100).toFixed(0)} %`).join(" · ")));
    $("number-digits").append(card);
  }
  finish(source, "done");
}

function showError(text, source) {
  clearPanels();
  $("answer").textContent = "–";
  setStatus("error");
  $("message").textContent = "";
  $("error").textContent = text;
  $("error").hidden = false;
  finish(source, "error");
}

// ----------------------------------------------------------------------------- tabs

function selectTab(name) {
  for (const tab of ["draw", "upload", "webcam"]) {
    const chosen = tab === name;
    $(`tab-${tab}`).setAttribute("aria-selected", String(chosen));
    $(`panel-${tab}`).hidden = !chosen;
  }
  if (name !== "webcam") stopCamera();
}

// ----------------------------------------------------------------------------- drawing

const canvas = $("draw-canvas");
const pen = canvas.getContext("2d");
let drawing = false;
let drawn = false;
let readTimer = null;

function clearCanvas() {
  pen.fillStyle = "#ffffff";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  drawn = false;
}

function canvasPoint(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
}

function readDrawing() {
  if (!drawn) {
    showError("Draw a digit first: the canvas is empty.", "draw");
    return;
  }
  canvas.toBlob((blob) => send(blob, "drawing.png", "draw"), "image/png");
}

canvas.addEventListener("pointerdown", (event) => {
  drawing = true;
  clearTimeout(readTimer);
  canvas.setPointerCapture(event.pointerId);
  const [x, y] = canvasPoint(event);
  pen.beginPath();
  pen.moveTo(x, y);
  pen.lineTo(x + 0.01, y); // a tap leaves a dot
  pen.stroke();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const [x, y] = canvasPoint(event);
  pen.lineTo(x, y);
  pen.stroke();
  drawn = true;
});
function endStroke() {
  if (!drawing) return;
  drawing = false;
  drawn = true;
  clearTimeout(readTimer);
  readTimer = setTimeout(readDrawing, 350); // wait a moment: a 4 or a 7 often takes two strokes
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);

// ----------------------------------------------------------------------------- upload and drop

function sendFile(file) {
  if (!file) return;
  const preview = $("upload-preview");
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  send(file, file.name, "upload");
}

const dropZone = $("drop-zone");
$("file-input").addEventListener("change", (event) => sendFile(event.target.files[0]));
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  sendFile(event.dataTransfer.files[0]);
});
$("upload-preview").addEventListener("error", () => { $("upload-preview").hidden = true; });

// ----------------------------------------------------------------------------- webcam

const video = $("camera-video");
let stream = null;
let liveTimer = null;
let frameInFlight = false;

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showError("This browser gives no camera access here (it needs https, or http://localhost).", "webcam");
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (error) {
    showError(`The camera could not be opened (${error.name}: ${error.message}). Allow camera access and try again.`, "webcam");
    return;
  }
  video.srcObject = stream;
  await video.play().catch(() => {});
  for (const id of ["camera-stop", "camera-snap", "camera-live"]) $(id).disabled = false;
  $("camera-start").disabled = true;
}

function stopCamera() {
  $("camera-live").checked = false;
  clearInterval(liveTimer);
  liveTimer = null;
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  video.srcObject = null;
  for (const id of ["camera-stop", "camera-snap", "camera-live"]) $(id).disabled = true;
  $("camera-start").disabled = false;
}

function snapFrame() {
  if (!stream || frameInFlight || video.videoWidth === 0) return;
  const side = Math.round(Math.min(video.videoWidth, video.videoHeight) * CAMERA_CROP);
  const frame = $("camera-frame");
  frame.width = side;
  frame.height = side;
  const left = (video.videoWidth - side) / 2;
  const top = (video.videoHeight - side) / 2;
  frame.getContext("2d").drawImage(video, left, top, side, side, 0, 0, side, side);
  frameInFlight = true; // live mode never queues frames behind a slow answer
  frame.toBlob(async (blob) => {
    try {
      await send(blob, "webcam.jpg", "webcam");
    } finally {
      frameInFlight = false;
    }
  }, "image/jpeg", 0.92);
}

$("camera-start").addEventListener("click", startCamera);
$("camera-stop").addEventListener("click", stopCamera);
$("camera-snap").addEventListener("click", snapFrame);
$("camera-live").addEventListener("change", (event) => {
  clearInterval(liveTimer);
  liveTimer = event.target.checked ? setInterval(snapFrame, LIVE_INTERVAL_MS) : null;
});

// ----------------------------------------------------------------------------- start

for (const tab of ["draw", "upload", "webcam"]) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
$("draw-clear").addEventListener("click", clearCanvas);
$("draw-read").addEventListener("click", readDrawing);
$("live-interval").textContent = String(LIVE_INTERVAL_MS);
pen.lineWidth = PEN_WIDTH;
pen.lineCap = "round";
pen.lineJoin = "round";
pen.strokeStyle = "#111111";
clearCanvas();
checkHealth();
