/* emovox web page: record (Web Audio -> 16-bit WAV, so the server needs no ffmpeg) or upload audio, show the
   emotion, its probabilities and a timeline; run picture-reaction sessions. Plain JavaScript, no build. */
"use strict";

const COLOURS = {
  neutral: "#7f8c9a", calm: "#00a8a8", happy: "#f0a500", sad: "#3d7dd8", angry: "#e0413c",
  fearful: "#8e5bd0", disgust: "#4f9a3a", surprised: "#f06d2f", boredom: "#a1887f",
};
const MAX_RECORD_SECONDS = 30;
const $ = (id) => document.getElementById(id);
const colour = (label) => COLOURS[label] || "#6c5ce7";
const pct = (p) => `${Math.round(100 * p)} %`;
let MODEL = null;

/* ------------------------------------------------------------------ helpers */
const errors = {};  // each panel's last error: shown while that panel is, and again when it comes back

function currentPanel() {
  const open = document.querySelector(".panel:not([hidden])");
  return open ? open.dataset.panel : "analyse";
}

function showError(message, panel = currentPanel()) {
  errors[panel] = message;
  if (panel !== currentPanel()) return;  // an upload that fails while another tab is open: kept for its own
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") Object.assign(node.style, v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function pill(label) {
  if (!label) return el("span", { class: "pill none" }, "no speech");
  return el("span", { class: "pill", style: { background: colour(label) } }, label);
}

function postAudio(path, blob, filename, { signal, onUpload } = {}, tries = 4) {
  /* sendAudio, sent again (after half a second, up to 4 tries) when the server answers 429: this address's
     upload just cancelled or replaced is still letting go of its place there. */
  return sendAudio(path, blob, filename, { signal, onUpload }).catch(async (err) => {
    if (err.status !== 429 || tries <= 1 || (signal && signal.aborted)) throw err;
    await new Promise((r) => setTimeout(r, 500));
    if (signal && signal.aborted) throw new DOMException("cancelled", "AbortError");
    return postAudio(path, blob, filename, { signal, onUpload }, tries - 1);
  });
}

function sendAudio(path, blob, filename, { signal, onUpload } = {}) {
  /* POST a file as a multipart form; resolves with the JSON answer, rejects with the server's one-line error
     (its HTTP status in .status). XMLHttpRequest, not fetch: only it reports how much of the body has been
     sent (onUpload(sent, total)). signal aborts it (rejects with an AbortError). */
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", blob, filename);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (onUpload) {  // listeners set before send(), or the browser fires no upload events
      xhr.upload.addEventListener("progress", (e) => onUpload(e.loaded, e.lengthComputable ? e.total : 0));
      xhr.upload.addEventListener("load", (e) => onUpload(e.total || e.loaded, e.total || e.loaded));
    }
    xhr.addEventListener("load", () => {
      let body;
      try { body = JSON.parse(xhr.responseText); } catch { body = { error: `server answered ${xhr.status}` }; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(Object.assign(new Error((body && body.error) || `server answered ${xhr.status}`), { status: xhr.status }));
    });
    xhr.addEventListener("error", () => reject(new Error("the request to the server failed (is it still running?)")));
    xhr.addEventListener("timeout", () => reject(new Error("the server did not answer in time")));
    xhr.addEventListener("abort", () => reject(new DOMException("cancelled", "AbortError")));
    if (signal) {
      if (signal.aborted) { reject(new DOMException("cancelled", "AbortError")); return; }
      signal.addEventListener("abort", () => xhr.abort(), { once: true });
    }
    xhr.send(form);
  });
}

function formatBytes(n) {
  /* Sizes as the server counts its limit (--max-upload-mb is MiB). */
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function formBytes(blob, filename) {
  /* What a multipart form around the file adds to its size (the server's limit counts the whole body): the
     boundary lines and the part's headers, as Chromium and Firefox write them. */
  const boundary = 2 + 40 + 2;  // "--" boundary CRLF; browsers' boundaries are 38-40 characters
  const disposition = `Content-Disposition: form-data; name="file"; filename="${filename}"\r\n`;
  const type = `Content-Type: ${blob.type || "application/octet-stream"}\r\n\r\n`;
  return boundary + new TextEncoder().encode(disposition + type).length + 2 + boundary + 2;
}

function tooLarge(blob, filename) {
  /* One line saying why this file is refused before it is sent, or "" when the server will take it (or its
     limit is unknown: then the server's own 413 says it). */
  const limit = MODEL && MODEL.limits && MODEL.limits.max_upload_bytes;
  if (!limit) return "";
  const size = `${filename} is ${formatBytes(blob.size)}`;
  const max = `this server's upload limit of ${formatBytes(limit)}`;
  if (blob.size > limit) return `${size}, larger than ${max}: not sent.`;
  if (blob.size + formBytes(blob, filename) > limit) {
    return `${size}, too close to ${max} to fit with the upload form around it: not sent.`;
  }
  return "";
}

/* ------------------------------------------------------------------ WAV encoding */
function encodeWav(samples, sampleRate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, s) => { for (let i = 0; i < s.length; i++) view.setUint8(offset + i, s.charCodeAt(i)); };
  text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
  text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  text(36, "data"); view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + 2 * i, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([view], { type: "audio/wav" });
}

/* ------------------------------------------------------------------ microphone */
class Recorder {
  /* Raw PCM from the microphone through the Web Audio API; stop() gives a WAV blob. */
  async start(onLevel) {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    this.ctx = new AudioContext();
    if (this.ctx.state === "suspended") await this.ctx.resume();
    this.source = this.ctx.createMediaStreamSource(this.stream);
    this.node = this.ctx.createScriptProcessor(4096, 1, 1);
    this.chunks = [];
    this.node.onaudioprocess = (e) => {
      const data = new Float32Array(e.inputBuffer.getChannelData(0));
      this.chunks.push(data);
      if (onLevel) {
        let sum = 0;
        for (let i = 0; i < data.length; i++) sum += data[i] * data[i];
        onLevel(Math.sqrt(sum / data.length));
      }
    };
    this.source.connect(this.node);
    this.node.connect(this.ctx.destination); // the output buffer stays silent
    this.started = performance.now();
  }

  seconds() { return (performance.now() - this.started) / 1000; }

  async stop() {
    this.node.disconnect(); this.source.disconnect();
    this.stream.getTracks().forEach((t) => t.stop());
    const rate = this.ctx.sampleRate;
    await this.ctx.close();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const all = new Float32Array(n);
    let offset = 0;
    for (const c of this.chunks) { all.set(c, offset); offset += c.length; }
    return encodeWav(all, rate);
  }
}

function micAvailable() {
  return window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
}

/* ------------------------------------------------------------------ model */
function worstEce(h) {
  // the mean hides the corpus the temperature suits least: say which, and how far off it is
  if (!h || !h.per_corpus) return "";
  const [name, worst] = Object.entries(h.per_corpus).reduce((a, b) => ((b[1].ece ?? 0) > (a[1].ece ?? 0) ? b : a));
  return worst.ece != null ? ` (worst: ${name} ${worst.ece.toFixed(3)})` : "";
}

function frontendName(f) {
  // what the features come from, as a person names it: the encoder, not its file
  if (!f) return "its";
  if (f.type === "whisper") return `${f.encoder_source || "Whisper"} encoder${f.quantized ? " (int8)" : ""}`;
  if (f.type === "handcrafted") return "hand-crafted acoustic";
  return f.type || f.name || "its";
}

async function loadModel() {
  try {
    const r = await fetch("/v1/model");
    if (!r.ok) throw new Error(`server answered ${r.status}`);
    MODEL = await r.json();
  } catch (e) {
    $("model-chip").textContent = "model unavailable";
    return;
  }
  setupEmotions();
  const m = MODEL.metrics || {};
  const h = MODEL.headline || null;
  // the headline is the figure on voices, languages and microphones the model never heard
  const ua = h && h.ua != null ? ` · ${pct(h.ua)} UA on unseen corpora (leave one corpus out)`
    : m.ua != null ? ` · ${pct(m.ua)} UA (${m.protocol})` : "";
  $("model-chip").textContent = `${MODEL.name} · ${MODEL.labels.length} emotions${ua}`;
  const t = MODEL.training || {};
  const c = MODEL.calibration || {};
  const perCorpus = h && h.per_corpus ? Object.entries(h.per_corpus).map(([k, v]) => `${k} ${pct(v.ua)}`).join(", ") : "";
  const stats = [
    ["Emotions", MODEL.labels.join(", ")],
    ...(h ? [["Unweighted accuracy on unseen corpora (headline)", `${pct(h.ua)} UA, leave one corpus out (${perCorpus})`]] : []),
    ["Unweighted accuracy (unseen speakers of its training corpora)", m.ua != null ? `${pct(m.ua)} UA (chance ${pct(1 / MODEL.labels.length)})` : "not measured"],
    ["In-domain protocol", m.protocol ? `${m.protocol}${m.speaker_independent ? ", speaker-independent" : ", NOT speaker-independent"}` : "—"],
    ...(MODEL.metrics_channel_adapted ? [["Adapted to a channel (--same-channel, a batch of one microphone or collection)", `${pct(MODEL.metrics_channel_adapted.ua)} UA on unseen corpora, every recording of a corpus scored together`]] : []),
    ...(c.temperature ? [["Calibration", `temperature ${c.temperature.toFixed(2)}${c.ece_loco != null ? `, calibration error ${c.ece_loco.toFixed(3)} on unseen corpora` : ""}${worstEce(h)}`]] : []),
    ["Training data", t.corpora ? `${t.corpora.join(", ")}: ${t.n_utterances} utterances, ${t.n_speakers} speakers` : "—"],
    ["Model", MODEL.recipe ? `${MODEL.recipe.type} on ${frontendName(MODEL.frontend)} features` : MODEL.kind],
    ["Version", `written by emovox ${MODEL.version}, served by ${MODEL.emovox_version}`],
    ...(MODEL.licences ? [["Licence", `${MODEL.licence_note || ""} ${MODEL.licences.join("; ")}`.trim()]] : []),
  ];
  const box = $("model-details");
  box.replaceChildren(...stats.map(([k, v]) => el("div", { class: "stat" }, el("div", { class: "k" }, k),
    el("div", { class: "v" }, String(v)))));
  const recall = MODEL.per_class_recall || {};
  $("recall-block").hidden = !Object.keys(recall).length;
  $("recall").replaceChildren(...MODEL.labels.filter((l) => l in recall).map((l) =>
    el("div", { class: "bar-row", role: "listitem" }, el("span", { class: "bar-label" }, l),
      el("div", { class: "bar-track" }, el("div", { class: "bar", style: { width: `${100 * recall[l]}%`, background: colour(l) } })),
      el("span", { class: "bar-value" }, pct(recall[l])))));
}

/* ------------------------------------------------------------------ emotions to predict over */
// localStorage: the chosen emotions, absent when all are; one choice per set of labels (another model's
// choice is its own, not dropped the first time this one is used)
const emotionsKey = () => `emovox.emotions:${MODEL.labels.join(",")}`;
const FOUR = ["angry", "happy", "neutral", "sad"];

function chosenEmotions() {
  return [...document.querySelectorAll("#emotion-choices input:checked")].map((box) => box.value);
}

function emotionsQuery() {
  /* The prediction's query: "" when every emotion is chosen (the model's own answer), else
     "?emotions=a,b,..." in the model's order, as the API and --emotions take them. */
  if (!MODEL || $("emotions-card").hidden) return "";
  const chosen = chosenEmotions();
  if (chosen.length === MODEL.labels.length) return "";
  return `?emotions=${chosen.map(encodeURIComponent).join(",")}`;
}

function emotionsRefused(tail = ".") {
  /* One line saying why nothing can be predicted (fewer than two emotions chosen), or "". */
  if (!MODEL || $("emotions-card").hidden || chosenEmotions().length >= 2) return "";
  return `Choose at least two emotions to predict over${tail}`;
}

function showEmotionsError(message) {
  $("emotions-error").textContent = message;
  $("emotions-error").hidden = !message;
}

function emotionsChanged() {
  /* Keep the choice (across reloads), say how many are chosen, and say at once when too few are. */
  const chosen = chosenEmotions(), n = MODEL.labels.length;
  try {
    if (chosen.length === n) localStorage.removeItem(emotionsKey());
    else localStorage.setItem(emotionsKey(), JSON.stringify(chosen));
  } catch { /* storage refused (a private window's settings): the choice lasts as long as the page */ }
  $("emotions-count").textContent = chosen.length === n ? `(all ${n})` : `(${chosen.length} of ${n})`;
  showEmotionsError(emotionsRefused());
  describeSessionEmotions();
}

function lockEmotions() {
  /* The choice a recording or a picture session was started with is the one its audio is sent with. */
  $("emotions").disabled = Boolean(recorder) || sessionRunning;
}

function storedEmotions(labels) {
  /* The choice kept from an earlier visit, or every label (none kept, or one naming what this model lacks). */
  let kept = null;
  try { kept = JSON.parse(localStorage.getItem(emotionsKey())); } catch { kept = null; }
  const valid = Array.isArray(kept) && kept.every((e) => labels.includes(e));
  return valid ? kept : labels;
}

function setupEmotions() {
  /* A labelled checkbox per emotion of the model, all by default; nothing to choose with two or fewer. */
  const labels = MODEL.labels;
  $("emotions-card").hidden = labels.length < 3;
  if (labels.length < 3) return;
  const chosen = storedEmotions(labels);
  $("emotion-choices").replaceChildren(...labels.map((label) => {
    const box = el("input", { type: "checkbox", name: "emotion", value: label });
    box.checked = chosen.includes(label);
    box.addEventListener("change", emotionsChanged);
    return el("label", { class: "emotion-choice", "data-label": label }, box,
      el("span", { class: "swatch", style: { background: colour(label) }, "aria-hidden": "true" }), label);
  }));
  const choose = (wanted) => {
    for (const box of document.querySelectorAll("#emotion-choices input")) box.checked = wanted.includes(box.value);
    emotionsChanged();
  };
  $("emotions-all").onclick = () => choose(labels);
  // the shortcut only where it chooses something other than all of them
  $("emotions-four").hidden = !(FOUR.every((e) => labels.includes(e)) && labels.length > FOUR.length);
  $("emotions-four").onclick = () => choose(FOUR);
  emotionsChanged();
}

/* ------------------------------------------------------------------ results */
function renderResult(res, audioBlob) {
  const speech = res.speech !== false;
  $("emotion").hidden = !speech;
  $("no-speech").hidden = speech;
  $("uncertain").hidden = !(speech && res.uncertain);
  // why: a confidence under the model's line, or (whatever the confidence) under a second of speech
  const below = (MODEL && MODEL.calibration && MODEL.calibration.uncertain_below) || 0;
  $("uncertain").textContent = speech && res.uncertain && res.confidence >= below
    ? "uncertain: under a second of speech, too little to tell; treat this as a guess"
    : "uncertain: the model's confidence is low, treat this as a guess";
  $("bars-block").hidden = !speech;
  $("confidence").parentElement.hidden = !speech;
  // an uncertain answer's number is shown as a guess's: beside "treat this as a guess", 94 % must not shout
  $("confidence").classList.toggle("guess", Boolean(speech && res.uncertain));
  if (speech) {
    $("emotion").textContent = res.emotion;
    $("emotion").style.background = colour(res.emotion);
    $("confidence").textContent = pct(res.confidence);
  } else {
    $("no-speech").replaceChildren("No speech heard", el("span", { class: "why" },
      `${res.reason || "nothing that sounds like a voice"}: no emotion is given for sound that is not speech.`));
  }
  $("result-source").textContent = `${res.source} · ${res.duration.toFixed(1)} s · ${Math.round(res.elapsed_ms)} ms`;
  // an answer restricted to some of the model's emotions says so: its probabilities are theirs only
  const all = MODEL && MODEL.labels ? MODEL.labels.length : 0;
  const over = speech && Array.isArray(res.labels) && all > 0 && res.labels.length < all;
  $("restricted").hidden = !over;
  // and where the model's own first choice is one of those left out, which one: the answer is then the
  // best of what was asked for, not what the recording sounds most like
  const choice = over && res.first_left_out;
  const first = choice
    ? `; the model's first choice, ${choice.emotion} (${pct(choice.probability)}), is not among them` : "";
  $("restricted").textContent = over ? `over ${res.labels.length} of ${all} emotions (${res.labels.join(", ")})${first}` : "";

  const bars = $("bars");
  bars.replaceChildren();
  for (const label of speech ? res.labels : []) {
    const p = res.probabilities[label];
    const row = el("div", { class: `bar-row${label === res.emotion ? " top" : ""}`, role: "listitem",
      "data-label": label },
      el("span", { class: "bar-label" }, label),
      el("div", { class: "bar-track" }, el("div", { class: "bar", style: { width: "0%", background: colour(label) } })),
      el("span", { class: "bar-value" }, pct(p)));
    bars.append(row);
    requestAnimationFrame(() => { row.querySelector(".bar").style.width = `${(100 * p).toFixed(1)}%`; });
  }

  const block = $("timeline-block");
  block.hidden = !(res.timeline && res.timeline.length);

  const player = $("player");
  if (audioBlob) {
    if (player.src) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(audioBlob);
    player.hidden = false;
  } else player.hidden = true;
  $("raw").textContent = JSON.stringify(res, null, 2);
  $("result").hidden = false;
  // drawn once shown: hidden, the line has no width, and its time labels were spaced for 600 px
  if (!block.hidden) renderTimeline(res.timeline, res.duration);
  document.body.dataset.state = "result";
}

function renderTimeline(segments, duration) {
  const line = $("timeline");
  line.replaceChildren();
  $("segment-detail").textContent = "";  // (a bar clicked on the last recording is not one of this one's)
  for (const s of segments) {
    const left = (100 * s.start) / duration, width = (100 * (s.end - s.start)) / duration;
    const when = `${s.start.toFixed(1)}–${s.end.toFixed(1)} s`;
    const seg = s.speech === false
      ? el("div", { class: "seg nospeech", title: `${when}: no speech`, style: { left: `${left}%`, width: `${width}%` } })
      : el("div", { class: `seg${s.uncertain ? " uncertain" : ""}`, title: `${when}: ${s.emotion} (${pct(s.confidence)}${s.uncertain ? ", uncertain" : ""})`,
        style: { left: `${left}%`, width: `${width}%`, backgroundColor: colour(s.emotion), opacity: 0.45 + 0.55 * s.confidence } },
      width > 4 ? el("span", { class: "seg-label" }, s.emotion) : "");
    // a keyboard reaches each bar too, and hears what a pointer's hover shows
    seg.setAttribute("tabindex", "0");
    seg.setAttribute("aria-label", seg.title);
    const detail = () => { $("segment-detail").textContent = seg.title; };
    seg.addEventListener("click", detail);
    seg.addEventListener("focus", detail);
    line.append(seg);
  }
  const shown = [...new Set(segments.filter((s) => s.speech !== false && s.emotion).map((s) => s.emotion))];
  $("timeline-legend").replaceChildren(
    ...shown.map((e) => el("span", { class: "legend-item" }, el("span", { class: "swatch", style: { background: colour(e) } }), e)),
    ...(segments.some((s) => s.speech === false)
      ? [el("span", { class: "legend-item" }, el("span", { class: "swatch nospeech" }), "no speech")] : []),
    ...(segments.some((s) => s.speech !== false && s.uncertain)
      ? [el("span", { class: "legend-item" }, el("span", { class: "swatch uncertain" }), "uncertain")] : []));
  const axis = $("timeline-axis");
  axis.replaceChildren();
  // a label every `step` seconds, as many as the line's width holds (about 48 px a label, "570s" included);
  // a label that would touch the one before it is left out (the last one kept: it says how long it is)
  const width = line.clientWidth || 600;
  const fits = Math.max(2, Math.floor(width / 48));
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find((s) => duration / s <= fits) || 3600;
  const placed = [];  // [element, left px, right px]
  for (let t = 0; t <= duration; t += step) {
    const at = (100 * t) / duration;  // the edge ticks' labels stay inside the line, not half cut off
    const shift = t === 0 ? 0 : at > 95 ? -1 : -0.5;
    const w = 7 * `${t}s`.length + 6, x = (at * width) / 100 + shift * w;
    const span = el("span", { style: { left: `${at}%`, transform: `translateX(${shift * 100}%)` } }, `${t}s`);
    const last = placed[placed.length - 1];
    if (last && x < last[2] + 4) {
      if (at <= 95) continue;
      placed.pop().at(0).remove();
    }
    axis.append(span);
    placed.push([span, x, x + w]);
  }
}

let pending = null;  // the upload whose answer the page waits for: a newer one, or Cancel, aborts it

function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}

function showProgress(filename, sent, total) {
  /* The busy card: the share of the file's bytes sent, then "analysing" once all of it has arrived. */
  const bar = $("upload-progress");
  const done = total > 0 && sent >= total;
  const percent = total > 0 ? Math.min(100, Math.floor((100 * sent) / total)) : 0;
  bar.value = percent;
  bar.setAttribute("aria-valuetext", done ? "sent, analysing" : `${percent} % sent`);
  $("upload-percent").textContent = `${percent} %`;
  $("busy").dataset.phase = done ? "analysing" : "sending";
  const label = done ? `Analysing ${filename}…` : `Sending ${filename}…`;
  if ($("busy-label").textContent !== label) $("busy-label").textContent = label;  // announced once a phase
}

function cancelAnalysis() {
  /* Cancel: abort the upload (or stop waiting for its answer) and leave the panel ready for the next one. */
  if (!pending) return;
  const mine = pending;
  pending = null;  // before abort(): its rejection is then known as this cancel, not shown as an error
  const hadFocus = $("busy").contains(document.activeElement);
  mine.abort();
  $("busy").hidden = true;
  document.body.dataset.state = "ready";
  showNotice(`Cancelled: ${mine.filename} was not analysed.`);
  // the Cancel button is gone: focus goes back to where the recording came from
  if (hadFocus) (mine.filename === "recording.wav" && !$("record").disabled ? $("record") : $("file")).focus();
}

async function analyse(blob, filename) {
  if (pending) pending.abort();  // an older, slower answer must never replace this one's
  pending = null;
  showNotice("");
  $("result").hidden = true;  // never show the previous recording's answer under the spinner or an error
  const tooFew = emotionsRefused(`: ${filename} was not sent.`);
  if (tooFew) {  // the server would refuse it (422): said beside the choice, nothing sent
    $("busy").hidden = true;
    showError("", "analyse");
    showEmotionsError(tooFew);
    document.body.dataset.state = "error";
    return;
  }
  const refused = tooLarge(blob, filename);
  if (refused) {  // refused here at once: sending it would only take time to get a 413
    $("busy").hidden = true;
    showError(refused, "analyse");
    document.body.dataset.state = "error";
    return;
  }
  const mine = pending = new AbortController();
  mine.filename = filename;
  showError("", "analyse");
  showProgress(filename, 0, blob.size);
  $("busy").hidden = false;
  document.body.dataset.state = "busy";
  try {
    const body = await postAudio(`/v1/predict${emotionsQuery()}`, blob, filename, {
      signal: mine.signal,
      onUpload: (sent, total) => { if (mine === pending) showProgress(filename, sent, total); },
    });
    if (mine === pending) renderResult(body, blob);
  } catch (e) {
    if (mine !== pending) return;  // cancelled, by the Cancel button or by a newer upload
    showError(e.message, "analyse");
    document.body.dataset.state = "error";
  } finally {
    if (mine === pending) {
      pending = null;
      $("busy").hidden = true;
    }
  }
}

/* ------------------------------------------------------------------ record and upload */
let recorder = null, tick = null;

async function toggleRecording() {
  const button = $("record");
  if (recorder) {
    clearInterval(tick);
    const r = recorder;
    recorder = null;
    button.classList.remove("recording");
    button.setAttribute("aria-label", "Start recording");
    $("record-label").textContent = "Ready";
    $("level").style.width = "0";
    const blob = await r.stop();
    lockEmotions();
    await analyse(blob, "recording.wav");
    return;
  }
  showError("");
  showNotice("");
  const tooFew = emotionsRefused(": nothing recorded.");
  if (tooFew) { showEmotionsError(tooFew); return; }  // a recording that could not be sent is not started
  recorder = new Recorder();
  try {
    await recorder.start((rms) => { $("level").style.width = `${Math.min(100, 300 * rms)}%`; });
  } catch (e) {
    recorder = null;
    showError(`Could not open the microphone: ${e.message}`);
    return;
  }
  lockEmotions();  // the choice the recording was started with is the one it is sent with
  button.classList.add("recording");
  button.setAttribute("aria-label", "Stop recording");
  $("record-label").textContent = "Recording… press to stop";
  document.body.dataset.state = "recording";
  tick = setInterval(() => {
    const s = recorder ? recorder.seconds() : 0;
    $("timer").textContent = `${s.toFixed(1)} s`;
    if (s >= MAX_RECORD_SECONDS) toggleRecording();
  }, 100);
}

function setupInputs() {
  if (!micAvailable()) {
    $("record").disabled = true;
    $("mic-note").hidden = false;
    $("mic-note").textContent = "The microphone needs a secure page: open it as http://localhost or over https.";
  }
  $("record").addEventListener("click", toggleRecording);
  $("cancel").addEventListener("click", cancelAnalysis);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && pending && currentPanel() === "analyse") cancelAnalysis();
  });
  // inside its label (the drop zone) the file input opens on Space only: Enter, as a button would, too
  $("file").addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); e.target.click(); }
  });
  $("file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    if (f) analyse(f, f.name);
    e.target.value = "";
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) analyse(f, f.name);
  });
}

/* ------------------------------------------------------------------ tabs */
function setupTabs() {
  const tabs = [...document.querySelectorAll(".tab")];
  const select = (tab) => {
    for (const t of tabs) {
      t.classList.toggle("active", t === tab);
      t.setAttribute("aria-selected", String(t === tab));
      t.tabIndex = t === tab ? 0 : -1;  // one tab stop for the list; arrows move within it
    }
    for (const p of document.querySelectorAll(".panel")) p.hidden = p.dataset.panel !== tab.dataset.tab;
    showError(errors[tab.dataset.tab] || "");  // an upload's error belongs to the panel it came from
  };
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      const to = step ? tabs[(i + step + tabs.length) % tabs.length]
        : e.key === "Home" ? tabs[0] : e.key === "End" ? tabs[tabs.length - 1] : null;
      if (!to) return;
      e.preventDefault();
      select(to);
      to.focus();
    });
  }
}

/* ------------------------------------------------------------------ picture session */
let demoPictures = [], folderPictures = [], stopRequested = false, sessionRunning = false;

function expectedFromPath(path) {
  /* The picture's sub-folder names its expected emotion (pictures/happy/beach.jpg), as in `emovox session`. */
  const labels = MODEL ? MODEL.labels : Object.keys(COLOURS);
  const parts = path.toLowerCase().split("/");
  for (let i = parts.length - 2; i >= 0; i--) if (labels.includes(parts[i])) return parts[i];
  const stem = parts[parts.length - 1].split(/[^a-z]+/)[0];
  return labels.includes(stem) ? stem : null;
}

function sessionEmotions() {
  /* The emotions reactions are scored over: those chosen under Analyse a recording (all where there is no
     choice to make). */
  if (!MODEL) return null;
  return $("emotions-card").hidden ? MODEL.labels : chosenEmotions();
}

function sessionPictures(pictures) {
  /* The pictures a session shows: those expected to evoke one of the chosen emotions, and those that name
     no expected emotion; one expected to evoke another could never match what is heard, and is skipped. */
  const chosen = sessionEmotions();
  return chosen ? pictures.filter((p) => !p.expected || chosen.includes(p.expected)) : pictures;
}

function describeSessionEmotions() {
  /* The session panel's note on the Emotions choice: nothing while every emotion is chosen. */
  const note = $("session-emotions");
  const tooFew = emotionsRefused(" (Emotions, under Analyse a recording).");
  // a session refused for too few emotions is not refused any more once there are two
  if (!tooFew && (errors.pictures || "").startsWith("Choose at least two emotions")) showError("", "pictures");
  note.hidden = !tooFew && !emotionsQuery();
  if (tooFew || note.hidden) { note.textContent = tooFew; return; }
  const shown = (pics, what) => `${sessionPictures(pics).length} of ${pics.length} ${what}`;
  const sets = [shown(demoPictures, "demo pictures"), ...(folderPictures.length ? [shown(folderPictures, "in your folder")] : [])];
  note.textContent = `Reactions are scored over ${sessionEmotions().join(", ")}, the emotions chosen under Analyse a `
    + `recording; a picture expected to evoke another emotion is skipped (${sets.join(", ")} are shown).`;
}

async function setupSession() {
  try {
    demoPictures = (await (await fetch("/v1/pictures")).json()).pictures;
    $("demo-count").textContent = `${demoPictures.length} pictures generated by the server`;
  } catch { demoPictures = []; }
  describeSessionEmotions();
  // a click (or Space) on the folder choice opens the picker, again after it was cancelled: a change alone
  // fired once, and the choice was then stuck without a folder
  const chooseFolder = () => { $("folder").click(); };
  for (const radio of document.querySelectorAll("input[name=set]")) {
    radio.addEventListener("click", () => { if (radio.value === "folder") chooseFolder(); });
  }
  $("choose-folder").addEventListener("click", () => {
    document.querySelector("input[name=set][value=folder]").checked = true;
    chooseFolder();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("stage").hidden) stopRequested = true;
  });
  $("folder").addEventListener("change", (e) => {
    folderPictures = [...e.target.files].filter((f) => f.type.startsWith("image/"))
      .sort((a, b) => (a.webkitRelativePath || a.name).localeCompare(b.webkitRelativePath || b.name))
      .map((f) => ({ title: f.name, url: URL.createObjectURL(f), expected: expectedFromPath(f.webkitRelativePath || f.name),
        prompt: "Say out loud what this picture makes you feel." }));
    const known = folderPictures.filter((p) => p.expected).length;
    $("folder-note").textContent = `${folderPictures.length} pictures chosen, ${known} with an expected emotion.`;
    describeSessionEmotions();
  });
  $("start-session").addEventListener("click", runSession);
  $("stop-session").addEventListener("click", () => { stopRequested = true; });
  $("again").addEventListener("click", () => { $("summary").hidden = true; $("session-setup").hidden = false; });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runSession() {
  const useFolder = document.querySelector("input[name=set]:checked").value === "folder";
  const all = useFolder ? folderPictures : demoPictures;
  if (!all.length) { showError(useFolder ? "Choose a folder of pictures first (Choose a folder…)." : "No demo pictures available."); return; }
  const tooFew = emotionsRefused(" (Emotions, under Analyse a recording): the session was not started.");
  if (tooFew) { showError(tooFew); return; }
  const pictures = sessionPictures(all);
  if (!pictures.length) {
    showError(`None of the pictures is expected to evoke ${sessionEmotions().join(", ")}, the emotions chosen under Analyse a recording.`);
    return;
  }
  if (!micAvailable()) { showError("The microphone needs a secure page: open it as http://localhost or over https."); return; }
  const seconds = Number($("seconds").value);
  if (!(seconds >= 1 && seconds <= 30)) { showError("Seconds per picture: a number from 1 to 30."); return; }
  showError("");
  stopRequested = false;
  const query = emotionsQuery();  // every reaction is scored over the choice the session started with
  sessionRunning = true;
  lockEmotions();
  try { await showSession(pictures, seconds, query, query ? sessionEmotions() : null); } finally {
    sessionRunning = false;
    lockEmotions();
  }
}

async function showSession(pictures, seconds, query, over) {
  $("session-setup").hidden = true;
  $("stage").hidden = false;
  $("stage").focus();  // keyboard and screen-reader users stay where the session is
  document.body.dataset.state = "session";
  const trials = [];
  for (let i = 0; i < pictures.length && !stopRequested; i++) {
    const pic = pictures[i];
    $("stage-count").textContent = `${i + 1} / ${pictures.length}`;
    $("stage-title").textContent = pic.title;
    $("stage-img").src = pic.url;
    $("stage-img").alt = pic.title;
    $("stage-prompt").textContent = pic.prompt || "";
    const rec = new Recorder();
    try { await rec.start(); } catch (e) { showError(`Could not open the microphone: ${e.message}`); break; }
    const t0 = performance.now();
    while (!stopRequested && performance.now() - t0 < seconds * 1000) {
      $("stage-progress").style.width = `${(100 * (performance.now() - t0)) / (seconds * 1000)}%`;
      await sleep(50);
    }
    const blob = await rec.stop();
    // Classify in the background while the next picture is shown.
    trials.push({ pic, result: postAudio(`/v1/react${query}`, blob, `reaction-${i + 1}.wav`).catch((e) => ({ error: e.message })) });
  }
  const results = await Promise.all(trials.map((t) => t.result));
  $("stage").hidden = true;
  if (!trials.length) {  // the microphone failed before the first picture: no empty report, back to the start
    $("session-setup").hidden = false;
    document.body.dataset.state = "error";
    return;
  }
  renderSummary(trials.map((t, i) => ({ ...t, result: results[i] })), over);
}

function renderSummary(trials, over = null) {
  const rows = $("summary-rows");
  rows.replaceChildren();
  let judged = 0, matched = 0;
  for (const { pic, result } of trials) {
    const detected = result.error ? null : result.emotion;
    const match = pic.expected && detected ? pic.expected === detected : null;
    if (match !== null) { judged++; if (match) matched++; }
    rows.append(el("tr", { "data-expected": pic.expected || "", "data-detected": detected || "" },
      el("td", {}, el("img", { src: pic.url, alt: "" }), pic.title),
      el("td", {}, pic.expected ? pill(pic.expected) : el("span", { class: "muted" }, "—")),
      el("td", {}, result.error ? el("span", { class: "muted", title: result.error }, "error") : pill(detected)),
      el("td", {}, detected ? `${pct(result.confidence)}${result.uncertain ? " (uncertain)" : ""}` : ""),
      el("td", {}, match === null ? "" : el("span", { class: `match ${match ? "yes" : "no"}` }, match ? "✓" : "✗"))));
  }
  $("summary-score").textContent = judged
    ? `${matched} of ${judged} reactions matched the expected emotion (${pct(matched / judged)}).`
    : "No reaction could be compared with an expected emotion.";
  // a session over some of the model's emotions says so, as an answer over them does
  if (over) $("summary-score").textContent += ` Scored over ${over.length} of ${MODEL.labels.length} emotions (${over.join(", ")}).`;
  $("summary").hidden = false;
  $("summary-title").focus();
  document.body.dataset.state = "summary";
}

/* ------------------------------------------------------------------ start */
setupTabs();
setupInputs();
loadModel().then(setupSession);
