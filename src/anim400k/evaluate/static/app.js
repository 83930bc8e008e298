// MUSHRA listening page: Web Audio playback with a shared playhead, loop region, ratings.
"use strict";

const $ = (id) => document.getElementById(id);
const LABELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const FADE = 0.008; // seconds of gain ramp when switching, to avoid clicks

const S = {
  ctx: null, state: null, trial: null, buffers: new Map(), duration: 0,
  current: null, source: null, gain: null, playing: false, startedAt: 0, offset: 0,
  // loop region of the playing source, as it started (position() reads it, not the controls being moved)
  loopOn: false, loopA: 0, loopB: 0,
  // times: ms each stimulus was heard (its rating_time); playingId/playSince: the one playing and since when
  played: new Set(), ratings: new Map(), times: new Map(), playingId: null, playSince: 0, wasTraining: false,
};

function show(view) {
  for (const el of document.querySelectorAll(".view")) el.hidden = el.id !== view;
}

function error(msg) {
  const el = $("error");
  el.textContent = msg || "";
  el.hidden = !msg;
}

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: "same-origin" }, options));
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  return { ok: r.ok, status: r.status, body };
}

function audioCtx() {
  if (!S.ctx) S.ctx = new (window.AudioContext || window.webkitAudioContext)();
  return S.ctx;
}

// ---- state -------------------------------------------------------------------------------

async function refresh() {
  const r = await api("/api/state");
  if (!r.ok) { error((r.body && r.body.error) || "Could not load the test."); return; }
  S.state = r.body;
  const total = r.body.n_training + r.body.n_trials;
  $("progress-fill").className = "progress-fill w" + Math.round((20 * r.body.done) / Math.max(1, total)) * 5;
  $("test-name").textContent = r.body.test;
  $("instructions").textContent = r.body.instructions;
  $("training-note").hidden = r.body.n_training === 0;
  $("start").textContent = r.body.n_training ? "Start training" : "Start the test";
  if (r.body.finished) { stop(); $("where").textContent = "Finished"; show("view-finished"); return; }
  const t = r.body.trial;
  if (r.body.done === 0 && !localStorage.getItem("mushra:" + t.nonce) && !S.started) {
    $("where").textContent = "Instructions";
    show("view-instructions");
    return;
  }
  if (S.wasTraining && !t.training) { S.wasTraining = false; $("where").textContent = "Training complete"; show("view-break"); return; }
  await loadTrial(t);
}

async function loadTrial(t) {
  stop();
  S.trial = t; S.wasTraining = t.training;
  S.buffers.clear(); S.peak = undefined; S.played = new Set(); S.ratings = new Map(); S.times = new Map(); S.offset = 0;
  const label = t.training ? `Training ${t.number} of ${t.of}` : `Trial ${t.number} of ${t.of}`;
  $("trial-title").textContent = label;
  $("where").textContent = label;
  show("view-loading");
  const ctx = audioCtx();
  const all = [{ id: "ref", url: t.reference }, ...t.stimuli];
  await Promise.all(all.map(async (s) => {
    const r = await fetch(s.url, { credentials: "same-origin" });
    if (!r.ok) throw new Error("could not load a stimulus");
    S.buffers.set(s.id, await ctx.decodeAudioData(await r.arrayBuffer()));
  }));
  S.duration = Math.max(...[...S.buffers.values()].map((b) => b.duration));
  restoreDraft();
  buildColumns(t);
  const video = $("video");
  if (t.video) { video.src = t.video; video.hidden = false; $("no-video").hidden = true; }
  else { video.removeAttribute("src"); video.hidden = true; $("no-video").hidden = false; }
  $("loop-start").value = 0; $("loop-end").value = 1000; $("loop").checked = false;
  S.current = "ref";
  show("view-trial");
  drawTimeline();
  updateSubmit();
}

function buildColumns(t) {
  const cols = $("columns");
  cols.replaceChildren();
  const ref = document.createElement("div");
  ref.className = "column ref";
  const rb = document.createElement("button");
  rb.className = "stim"; rb.id = "btn-ref"; rb.textContent = "Reference"; rb.dataset.stim = "ref";
  rb.addEventListener("click", () => select("ref"));
  const note = document.createElement("p");
  note.className = "muted small"; note.textContent = "Listen first";
  ref.append(rb, note);
  cols.append(ref);
  t.stimuli.forEach((s, i) => {
    const col = document.createElement("div");
    col.className = "column";
    const b = document.createElement("button");
    b.className = "stim"; b.textContent = LABELS[i]; b.dataset.stim = s.id; b.dataset.index = i;
    b.addEventListener("click", () => select(s.id));
    const slider = document.createElement("input");
    slider.type = "range"; slider.min = "0"; slider.max = "100"; slider.step = "1";
    slider.className = "rating-slider"; slider.dataset.stim = s.id;
    slider.setAttribute("aria-label", "Rating of " + LABELS[i]);
    const value = document.createElement("output");
    value.className = "value";
    if (S.ratings.has(s.id)) { slider.value = S.ratings.get(s.id); value.textContent = S.ratings.get(s.id); }
    else { slider.value = "0"; value.textContent = "–"; slider.classList.add("unrated"); }
    const take = () => {
      S.ratings.set(s.id, parseInt(slider.value, 10));
      slider.classList.remove("unrated");
      value.textContent = slider.value;
      saveDraft(); updateSubmit();
    };
    slider.addEventListener("input", take);
    slider.addEventListener("change", take);
    // an unrated slider sits at 0: a click or key that leaves it there fires no input event, yet rates it 0
    slider.addEventListener("pointerup", take);
    slider.addEventListener("keyup", (ev) => {
      if (["ArrowDown", "ArrowLeft", "ArrowUp", "ArrowRight", "Home", "End", "PageDown", "PageUp"].includes(ev.key)) take();
    });
    col.append(b, slider, value);
    cols.append(col);
  });
  markButtons();
}

function markButtons() {
  for (const b of document.querySelectorAll("button.stim")) {
    b.classList.toggle("active", b.dataset.stim === S.current);
    b.classList.toggle("played", S.played.has(b.dataset.stim));
  }
}

function saveDraft() {
  if (!S.trial) return;
  localStorage.setItem("mushra:" + S.trial.nonce, JSON.stringify({
    ratings: [...S.ratings], played: [...S.played], times: [...heardTimes()],
  }));
}

function restoreDraft() {
  const raw = localStorage.getItem("mushra:" + S.trial.nonce);
  if (!raw) return;
  try {
    const d = JSON.parse(raw);
    S.ratings = new Map(d.ratings); S.played = new Set(d.played); S.times = new Map(d.times || []);
  } catch (e) { /* ignore a corrupt draft */ }
}

function missing() {
  const ids = S.trial.stimuli.map((s) => s.id);
  return {
    unplayed: ids.filter((id) => !S.played.has(id)).length,
    unrated: ids.filter((id) => !S.ratings.has(id)).length,
  };
}

function updateSubmit() {
  const m = missing();
  const ok = m.unplayed === 0 && m.unrated === 0;
  $("submit").disabled = !ok;
  const parts = [];
  if (m.unplayed) parts.push(`play ${m.unplayed} more condition${m.unplayed > 1 ? "s" : ""}`);
  if (m.unrated) parts.push(`rate ${m.unrated} more`);
  $("hint").textContent = ok ? "All conditions played and rated." : "To submit: " + parts.join(" and ") + ".";
}

// ---- playback ----------------------------------------------------------------------------

// The ms each stimulus was heard so far, the one playing now included.
function heardTimes() {
  const out = new Map(S.times);
  if (S.playingId !== null) out.set(S.playingId, (out.get(S.playingId) || 0) + (performance.now() - S.playSince));
  return out;
}

// The stimulus playing stops being heard: add its time.
function stopHearing() {
  if (S.playingId === null) return;
  S.times = heardTimes();
  S.playingId = null;
}

function loopRegion() {
  const a = (parseInt($("loop-start").value, 10) / 1000) * S.duration;
  const b = (parseInt($("loop-end").value, 10) / 1000) * S.duration;
  return b - a > 0.05 ? [a, b] : [0, S.duration];
}

function position() {
  if (!S.playing) return S.offset;
  let p = S.offset + (S.ctx.currentTime - S.startedAt);
  if (S.loopOn) {
    const a = S.loopA, b = S.loopB;
    if (p >= b) p = a + ((p - b) % (b - a));
  }
  return Math.min(p, S.duration);
}

function startSource(id, at) {
  const ctx = audioCtx();
  if (ctx.state === "suspended") ctx.resume();
  const src = ctx.createBufferSource();
  src.buffer = S.buffers.get(id);
  const gain = ctx.createGain();
  gain.gain.setValueAtTime(0, ctx.currentTime);
  gain.gain.linearRampToValueAtTime(1, ctx.currentTime + FADE);
  src.connect(gain).connect(ctx.destination);
  let offset = at;
  S.loopOn = $("loop").checked;
  if (S.loopOn) {
    const [a, b] = loopRegion();
    S.loopA = a; S.loopB = b;
    src.loop = true; src.loopStart = a; src.loopEnd = b;
    if (offset < a || offset >= b) offset = a;
  } else if (offset >= S.duration - 0.01) {
    offset = 0;
  }
  src.onended = () => {
    if (S.source === src) {
      stopHearing();
      S.playing = false; S.offset = 0; S.source = null; $("video").pause();
      $("now-playing").textContent = "";  // played to its end: nothing is playing now
      for (const b of document.querySelectorAll("button.stim")) b.classList.remove("active");
    }
  };
  src.start(0, offset);
  stopHearing();
  S.source = src; S.gain = gain; S.playing = true; S.startedAt = ctx.currentTime; S.offset = offset;
  S.playingId = id; S.playSince = performance.now();
  if (id !== "ref") { S.played.add(id); saveDraft(); }
  const video = $("video");
  if (!video.hidden && video.src) {
    try { video.currentTime = offset; video.play().catch(() => {}); } catch (e) { /* no video */ }
  }
  requestAnimationFrame(tick);
}

function stopSource() {
  stopHearing();
  if (!S.source) return;
  const src = S.source, gain = S.gain, ctx = S.ctx;
  S.source = null;
  gain.gain.setValueAtTime(gain.gain.value, ctx.currentTime);
  gain.gain.linearRampToValueAtTime(0, ctx.currentTime + FADE);
  src.onended = null;
  src.stop(ctx.currentTime + FADE);
}

function select(id) {
  const at = position();
  S.current = id;
  if (S.playing) { stopSource(); startSource(id, at); }
  else { startSource(id, at); }
  markButtons(); updateSubmit();
  const b = document.querySelector(`button.stim[data-stim="${CSS.escape(id)}"]`);
  $("now-playing").textContent = "Playing: " + (b ? b.textContent : "");
}

function play() { if (!S.playing) { startSource(S.current, S.offset); markButtons(); updateSubmit(); } }

function stop() {
  if (S.playing) { S.offset = position(); }
  S.playing = false;
  stopSource();
  const v = $("video");
  if (v) v.pause();
  $("now-playing").textContent = "";
}

function tick() {
  drawTimeline();
  const v = $("video");
  if (S.playing && !v.hidden && v.src && Math.abs(v.currentTime - position()) > 0.15) {
    try { v.currentTime = position(); } catch (e) { /* not seekable yet */ }
  }
  if (S.playing) requestAnimationFrame(tick);
}

function drawTimeline() {
  const c = $("timeline");
  const g = c.getContext("2d");
  const w = c.width, h = c.height;
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#f4f6fb"; g.fillRect(0, 0, w, h);
  const ref = S.buffers.get("ref");
  if (!ref) return;
  if ($("loop").checked) {
    const [a, b] = loopRegion();
    g.fillStyle = "rgba(60,110,230,0.13)";
    g.fillRect((a / S.duration) * w, 0, ((b - a) / S.duration) * w, h);
  }
  const data = ref.getChannelData(0);
  if (S.peak === undefined) { S.peak = 1e-6; for (let i = 0; i < data.length; i++) S.peak = Math.max(S.peak, Math.abs(data[i])); }
  const scale = (h * 0.45) / S.peak;
  const step = Math.max(1, Math.floor(data.length / w));
  g.fillStyle = "#8a94ad";
  for (let x = 0; x < w; x++) {
    let lo = 0, hi = 0;
    const s0 = x * step;
    for (let i = s0; i < Math.min(data.length, s0 + step); i++) { if (data[i] < lo) lo = data[i]; if (data[i] > hi) hi = data[i]; }
    g.fillRect(x, h / 2 - hi * scale, 1, Math.max(1, (hi - lo) * scale));
  }
  const [a, b] = loopRegion();
  g.fillStyle = "#3c6ee6";
  for (const t of [a, b]) g.fillRect(Math.min(w - 2, (t / S.duration) * w), 0, 2, h);
  const x = (position() / S.duration) * w;
  g.fillStyle = "#d9363e"; g.fillRect(x - 1, 0, 2, h);
  $("clock").textContent = `${position().toFixed(2)} / ${S.duration.toFixed(2)} s`;
}

function seek(ev) {
  const c = $("timeline");
  const rect = c.getBoundingClientRect();
  const t = ((ev.clientX - rect.left) / rect.width) * S.duration;
  const was = S.playing;
  stop(); S.offset = Math.max(0, Math.min(S.duration, t));
  if (was) startSource(S.current, S.offset);
  drawTimeline();
}

// ---- submit ------------------------------------------------------------------------------

async function submit() {
  const m = missing();
  if (m.unplayed || m.unrated) { updateSubmit(); return; }
  $("submit").disabled = true;
  stop();
  const ratings = {}, times = {};
  for (const s of S.trial.stimuli) {
    ratings[s.id] = S.ratings.get(s.id);
    times[s.id] = Math.min(86400000, Math.round(S.times.get(s.id) || 0));
  }
  saveDraft();
  let r;
  try {
    r = await api("/api/submit", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nonce: S.trial.nonce, ratings, times }),
    });
  } catch (e) {  // the server out of reach: the ratings stay in the draft; the listener may press Submit again
    error("Could not reach the server; your ratings are kept. Press Submit again when the connection is back.");
    $("submit").disabled = false;
    return;
  }
  if (!r.ok && r.status !== 409) {
    error((r.body && r.body.error) || `Submission failed (${r.status}).`);
    $("submit").disabled = false;
    return;
  }
  error("");
  localStorage.removeItem("mushra:" + S.trial.nonce);
  await refresh();
}

function init() {
  $("start").addEventListener("click", () => { S.started = true; audioCtx(); refresh().catch((e) => error(String(e))); });
  $("start-test").addEventListener("click", () => { audioCtx(); loadTrial(S.state.trial).catch((e) => error(String(e))); });
  $("play").addEventListener("click", play);
  $("stop").addEventListener("click", () => { stop(); markButtons(); drawTimeline(); });
  $("submit").addEventListener("click", () => submit().catch((e) => error(String(e))));
  $("timeline").addEventListener("click", seek);
  for (const id of ["loop-start", "loop-end", "loop"]) {
    $(id).addEventListener("input", () => {
      const a = $("loop-start"), b = $("loop-end");
      if (parseInt(a.value, 10) > parseInt(b.value, 10) - 10) {
        if (id === "loop-start") a.value = parseInt(b.value, 10) - 10; else b.value = parseInt(a.value, 10) + 10;
      }
      if (S.playing) { const p = position(); stopSource(); startSource(S.current, p); }  // p by the old region
      drawTimeline();
    });
  }
  window.addEventListener("pagehide", saveDraft);  // the time heard since the last save, kept over a reload
  refresh().catch((e) => error(String(e)));
}

document.addEventListener("DOMContentLoaded", init);
