// What truyvet's pages share: the token, the API call, the words of the page's language,
// numbers and times (Vietnam time), elements. No framework and no external resources; every
// text from the API is set with textContent. A page sets `state.section` (its table of words
// in /api/v1/labels) and calls `startPage(run)`.
"use strict";

const state = { lang: localStorage.getItem("truyvet.lang") || "vi", words: null, token: null,
                section: "ui", running: false };
const TZ = "Asia/Ho_Chi_Minh";
const $ = (sel) => document.querySelector(sel);

function takeToken() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("truyvet.token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname);  // keep it out of the address bar
  }
  return sessionStorage.getItem("truyvet.token");
}

// The API's answer; an Error carrying the API's own reason and detail otherwise.
async function apiCall(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) };
  const res = await fetch(path, { ...options, headers });
  if (res.status === 401) { showLogin(); throw new Error("unauthorized"); }
  if (!res.ok) {
    let detail = `${res.status} ${path}`;
    try { const e = (await res.json()).error; if (e) detail = `${e.status} ${e.reason}: ${e.detail}`; }
    catch (_) { /* not JSON */ }
    const err = new Error(detail); err.status = res.status; throw err;
  }
  return res;
}
const api = async (path, options) => (await apiCall(path, options)).json();

// --- words, numbers and times --------------------------------------------------------
const ui = (k) => (state.words && state.words[state.section] && state.words[state.section][k])
  || (state.words && state.words.ui[k]) || k;
const fill = (template, facts) => template.replace(/\{(\w+)\}/g, (_, k) => String(facts[k] ?? ""));
const locale = () => (state.lang === "vi" ? "vi-VN" : "en-GB");
function num(x, digits = 0) {
  if (x === null || x === undefined) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits,
                                            minimumFractionDigits: digits }).format(x);
}
const pct = (x) => (x === null || x === undefined ? "–" : num(x * 100, 1));
function when(rfc3339, withYear = false) {
  if (!rfc3339) return "–";
  const parts = { timeZone: TZ, day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
  if (withYear) parts.year = "numeric";
  return new Intl.DateTimeFormat(locale(), parts).format(new Date(rfc3339));
}
// What a datetime-local field holds (Vietnam time) as RFC 3339.
const vnTime = (local) => `${local.length === 16 ? `${local}:00` : local}+07:00`;
// A date field's day (YYYY-MM-DD) as the RFC 3339 instant of its local midnight.
const vnDay = (day) => `${day}T00:00:00+07:00`;
function clock(rfc3339) {
  if (!rfc3339) return "–";
  return new Intl.DateTimeFormat(locale(), { timeZone: TZ, hour: "2-digit", minute: "2-digit" })
    .format(new Date(rfc3339));
}
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v; else if (k === "onclick") e.onclick = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// Every element of `root` marked with a word (data-t) or a placeholder (data-t-placeholder).
function translate(root) {
  for (const e of root.querySelectorAll("[data-t]")) e.textContent = ui(e.dataset.t);
  for (const e of root.querySelectorAll("[data-t-placeholder]")) e.placeholder = ui(e.dataset.tPlaceholder);
}

async function loadWords() {
  state.words = await api(`/api/v1/labels?lang=${state.lang}`);
  document.documentElement.lang = state.lang;
  document.title = ui("title");
  translate(document);
  for (const b of document.querySelectorAll("[data-lang]")) {
    b.classList.toggle("on", b.dataset.lang === state.lang);
  }
}

// --- the venue search: the registry looked up as one types, diacritics optional ------------
const place = (v) => [v.address, v.ward, v.district].filter(Boolean).join(", ");

// `box` holds an input.venue-q, an input.venue-id (hidden) and a ul.venue-results; the
// venue chosen is kept in the hidden input, its name shown in the box; `onPick(v)` after.
function venueSearch(box, onPick = () => {}) {
  const q = box.querySelector(".venue-q"), results = box.querySelector(".venue-results");
  const id = box.querySelector(".venue-id");
  let seq = 0, timer = null;
  const pick = (v) => {
    q.value = v.name || v.venue_id;
    q.classList.add("picked");
    id.value = v.venue_id;
    results.replaceChildren();
    onPick(v);
  };
  q.addEventListener("input", () => {
    id.value = "";
    q.classList.remove("picked");
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq, text = q.value.trim();
      if (!text) { results.replaceChildren(); return; }
      try {
        const found = (await api(`/api/v1/venues?q=${encodeURIComponent(text)}&limit=8`)).venues;
        if (mine !== seq) return;
        results.replaceChildren(...(found.length ? found.map((v) => el("li", {
          "data-venue": v.venue_id, onclick: () => pick(v) },
          el("b", {}, v.name || v.venue_id), " ", el("span", { class: "muted" }, place(v))))
          : [el("li", { class: "muted" }, ui("no_venue"))]));
      } catch (err) { showError(err); }
    }, 200);
  });
  return pick;
}

// --- the page's loop ---------------------------------------------------------------------
function showLogin() { $("#login").hidden = false; }
function showError(err) {
  const box = $("#error");
  if (err) { box.textContent = `${ui("error")}: ${err.message}`; box.hidden = false; }
  else box.hidden = true;
}

async function tick(fn) {
  try { await fn(); showError(null);
        const at = $("#updated");
        if (at) at.textContent = new Date().toLocaleTimeString(state.lang, { timeZone: TZ }); }
  catch (err) { showError(err); }
}

function every(ms, fn) { tick(fn); setInterval(() => tick(fn), ms); }

// `run()` once the token and the words are there; `redraw()` again after a language switch.
function startPage(run, redraw) {
  async function start() {
    state.token = takeToken();
    if (!state.token) { showLogin(); return; }
    $("#login").hidden = true;
    try { await loadWords(); } catch (err) { showError(err); return; }
    if (state.running) return;
    state.running = true;
    run();
  }
  document.addEventListener("DOMContentLoaded", () => {
    $("#login").addEventListener("submit", (e) => {
      e.preventDefault();
      sessionStorage.setItem("truyvet.token", $("#token").value.trim());
      start();
    });
    for (const b of document.querySelectorAll("[data-lang]")) {
      b.addEventListener("click", async () => {
        state.lang = b.dataset.lang;
        localStorage.setItem("truyvet.lang", state.lang);
        await tick(loadWords);
        await redraw();
      });
    }
    start();
  });
}
