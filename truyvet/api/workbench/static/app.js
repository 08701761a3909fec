// truyvet's tracer workbench: a tracer's cases, a new case's itinerary entered with a venue
// search, the answer as a timeline of stops (verified or gap), the case's F1 list, live
// revisions over the case's event stream with what changed, the F1 list as CSV, printing.
// On /pages/page.js: no framework, no external resources, API text set with textContent.
"use strict";

state.section = "workbench";
Object.assign(state, { cases: [], caseId: null, answer: null, f1: null, changes: [],
                       venues: {}, stream: null, live: false, csv: null, followups: {} });
const enc = encodeURIComponent;
const minutes = (s) => num(s / 60, s % 60 ? 1 : 0);
const dateAndTime = (from, to) => `${when(from, true)} – ${clock(to)}`;

// --- venues: the registry's names, and the search as a tracer types -----------------------
async function venueOf(id) {
  if (!state.venues[id]) {
    try {
      const found = (await api(`/api/v1/venues?q=${enc(id)}&limit=5`)).venues;
      const v = found.find((x) => x.venue_id === id);
      if (v) state.venues[id] = v;
    } catch (_) { /* shown by its id */ }
  }
  return state.venues[id] || { venue_id: id, name: id };
}

function addStop() {
  const li = $("#stop-template").content.firstElementChild.cloneNode(true);
  translate(li);
  venueSearch(li.querySelector(".venue-pick"), (v) => {
    state.venues[v.venue_id] = v;
    li.dataset.venue = v.venue_id;
  });
  li.querySelector(".remove").onclick = () => { li.remove(); };
  $("#stops").append(li);
  return li;
}

// --- a new case ---------------------------------------------------------------------------
function formBody() {
  const stops = [...document.querySelectorAll("#stops > li")].map((li, i) => {
    const venue = li.querySelector(".venue-id").value;
    if (!venue) throw new Error(`${fill(ui("stop_n"), { n: i + 1 })}: ${ui("pick_venue")}`);
    return { venue_id: venue, from: vnTime(li.querySelector(".from").value),
             to: vnTime(li.querySelector(".to").value) };
  });
  const body = { case_id: $("#case-id").value.trim(), classification: $("#classification").value,
                 stops };
  const card = $("#card-id").value.trim();
  if (card) body.card_id = card;
  return body;
}

async function submitCase(e) {
  e.preventDefault();
  const status = $("#form-status");
  status.className = "muted";
  try {
    const body = formBody();
    const res = await apiCall("/api/v1/itineraries", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const answer = await res.json();
    status.dataset.t = res.status === 202 ? "waiting" : "sent";  // (translated with the page)
    status.textContent = ui(status.dataset.t);
    await tick(refreshCases);
    await openCase(body.case_id, res.status === 202 ? null : answer);
  } catch (err) {
    status.className = "open";
    delete status.dataset.t;
    status.textContent = err.message;
  }
}

// --- the tracer's cases -------------------------------------------------------------------
async function refreshCases() {
  const body = await api("/api/v1/itineraries?limit=200");
  state.cases = body.cases;
  $("#cases thead").replaceChildren(el("tr", {}, ...["case_id", "classification", "submitted",
    "stops", "gap", "contacts", "close"].map((k) => el("th", {}, ui(k)))));
  if (!body.cases.length) {
    $("#cases tbody").replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "muted" }, ui("no_cases"))));
    return;
  }
  $("#cases tbody").replaceChildren(...body.cases.map((c) => {
    const n = c.counts;
    const tr = el("tr", { "data-case": c.case_id, class: c.case_id === state.caseId ? "on" : "",
                          onclick: () => tick(() => openCase(c.case_id)) },
      el("td", {}, c.case_id), el("td", {}, c.classification), el("td", {}, when(c.submitted_at)),
      el("td", { class: "n" }, num(n.stops)),
      el("td", { class: n.gaps ? "n open" : "n", "data-figure": "gaps" },
         c.revision === null ? ui("not_answered") : num(n.gaps)),
      el("td", { class: "n" }, num(n.contacts)), el("td", { class: "n" }, num(n.close_contacts)));
    return tr;
  }));
}

// Clusters (ổ dịch) with the tracer's cases: the venue, when, how many F0 cases; the
// tracer's own cases open on a click, the others are only counted.
async function refreshClusters() {
  const body = await api("/api/v1/clusters?limit=100");
  const mine = body.clusters.filter((c) => c.members.length);
  if (!mine.length) {
    $("#clusters").replaceChildren(el("li", { class: "muted" }, ui("no_clusters")));
    return;
  }
  $("#clusters").replaceChildren(...await Promise.all(mine.map(async (c) => {
    const v = c.venue.name ? c.venue : await venueOf(c.venue.venue_id);
    const cases = [...new Set(c.members.map((m) => m.case_id))];
    return el("li", { "data-cluster": c.cluster_id, "data-cases": c.cases },
      el("b", {}, fill(ui("f0_cases"), { n: num(c.cases) })), " · ", v.name || v.venue_id, " ",
      el("span", { class: "muted" }, place(v)),
      el("div", { class: "muted" }, `${when(c.from, true)} – ${when(c.to, true)}`),
      el("div", {}, ...cases.map((id) => el("button", { type: "button", class: "case-link",
        "data-case": id, onclick: () => tick(() => openCase(id)) }, id)),
        c.hidden_cases ? el("span", { class: "muted" },
          ` + ${fill(ui("others_cases"), { n: num(c.hidden_cases) })}`) : ""));
  })));
}

// --- one case: the answer, its changes, its F1 list, live --------------------------------
async function openCase(caseId, answer = null) {
  if (state.stream) state.stream.abort();
  Object.assign(state, { caseId, answer: null, f1: null, changes: [], stream: null, csv: null });
  for (const tr of document.querySelectorAll("#cases tbody tr")) {
    tr.classList.toggle("on", tr.dataset.case === caseId);
  }
  try {
    await show(answer || await api(`/api/v1/itineraries/${enc(caseId)}`));
  } catch (err) {
    if (err.status !== 404) throw err;  // 404: recorded, not answered yet; the stream brings it
  }
  watch(caseId);
}

let showing = Promise.resolve();
function show(answer) {  // one at a time, in the order they came
  showing = showing.then(() => showNow(answer)).catch(showError);
  return showing;
}

async function showNow(answer) {
  if (answer.case_id !== state.caseId) return;
  const old = state.answer;
  if (old && answer.revision <= old.revision) return;
  if (old) state.changes.unshift({ revision: answer.revision, items: changesBetween(old, answer) });
  state.answer = answer;
  await Promise.all(answer.stops.map((s) => venueOf(s.venue_id)));
  const [f1, fu] = await Promise.all([api(`/api/v1/itineraries/${enc(answer.case_id)}/f1`),
                                      api(`/api/v1/itineraries/${enc(answer.case_id)}/followups`)]);
  state.f1 = f1;
  state.followups = Object.fromEntries(fu.followups.map((f) => [f.card_id, f]));
  drawCase();
  if (old) tick(refreshCases);  // its counts in the list change with it
}

function changesBetween(old, now) {
  const items = [];
  now.stops.forEach((s, i) => {
    const o = old.stops[i];
    if (!o || o.venue_id !== s.venue_id) return;
    if (o.gap && !s.gap) items.push({ kind: "change_resolved", n: i + 1 });
    if (!o.gap && s.gap) items.push({ kind: "change_gap", n: i + 1 });
    if (o.counts.contacts !== s.counts.contacts) {
      items.push({ kind: "change_contacts", n: i + 1, from: o.counts.contacts, to: s.counts.contacts });
    }
    if (o.counts.close_contacts !== s.counts.close_contacts) {
      items.push({ kind: "change_close", n: i + 1, from: o.counts.close_contacts, to: s.counts.close_contacts });
    }
  });
  return items;
}

function drawCase() {
  const a = state.answer;
  if (!a) return;
  const name = (id) => (state.venues[id] && state.venues[id].name) || id;
  const stops = a.stops.map((s, i) => {
    const badge = s.verified === null ? "" : el("span", { class: `badge ${s.gap ? "gap" : "verified"}` },
                                               ui(s.gap ? "gap" : "verified"));
    const li = el("li", { class: s.gap ? "gap" : "verified", "data-stop": i,
                          "data-state": s.gap ? "gap" : (s.verified ? "verified" : "unknown") },
      el("div", {}, el("b", {}, `${fill(ui("stop_n"), { n: i + 1 })} · ${name(s.venue_id)}`), " ",
         el("span", { class: "muted" }, `${dateAndTime(s.from, s.to)}`), " ", badge));
    if (s.gap) {
      li.append(el("p", { class: "should" }, fill(ui("gap_should"), {
        venue: name(s.venue_id), card: a.card_id || ui("the_card"),
        from: when(s.from, true), to: clock(s.to) })));
    }
    li.append(el("div", { class: "muted" },
      `${ui("contacts")}: ${num(s.counts.contacts)} · ${ui("close")}: ${num(s.counts.close_contacts)}`));
    const rows = el("tbody", {}, ...s.contacts.map(contactRow));
    if (s.contacts.length) li.append(el("table", { class: "contacts" }, rows));
    if (s.next) {
      let next = s.next;
      const more = el("button", { type: "button", class: "more" }, ui("more"));
      more.onclick = () => tick(async () => {
        const page = await api(next);
        if (!s.contacts.length) li.append(el("table", { class: "contacts" }, rows));
        rows.append(...page.contacts.filter((c) => !c.close_contact).map(contactRow));
        next = page.next;
        if (!next) more.remove();
      });
      li.append(more);
    }
    return li;
  });
  const changes = state.changes.map((c) => el("li", { "data-revision": c.revision },
    `${ui("revision")} ${c.revision}: `, c.items.length
      ? c.items.map((x) => fill(ui(x.kind), x)).join("; ") : ui("no_change")));
  const f1 = state.f1 ? state.f1.f1 : [];
  const f1rows = f1.map((c, i) => el("tr", { "data-card": c.card_id },
    el("td", { class: "n" }, i + 1), el("td", {}, c.card_id),
    el("td", { class: c.close_contact ? "close" : "" }, c.close_contact ? "F1" : ""),
    el("td", { class: "n" }, minutes(c.overlap_s)),
    el("td", {}, c.stops.map((m) => `${fill(ui("stop_n"), { n: m.stop + 1 })} · ${name(m.venue_id)} (${minutes(m.overlap_s)} ${ui("minutes")})`).join("; ")),
    followupCell(a.case_id, c.card_id)));
  const live = el("span", { id: "live", class: state.live ? "live" : "live off" },
                  state.live ? `● ${ui("live")}` : `○ ${ui("reconnecting")}`);
  const csv = el("a", { id: "csv-link" });
  if (state.csv) { csv.href = state.csv.url; csv.download = state.csv.name; csv.textContent = state.csv.name; }
  $("#case").replaceChildren(
    el("h2", { id: "case-title" }, `${a.case_id} · ${a.classification}${a.card_id ? ` · ${a.card_id}` : ""}`),
    el("div", { class: "muted" }, `${ui("revision")} `, el("b", { id: "revision" }, a.revision),
       ` · ${when(a.computed_at, true)} · `, live),
    el("div", { class: "actions" },
       el("button", { type: "button", id: "export-csv", onclick: () => tick(exportCsv) }, ui("export_csv")),
       el("button", { type: "button", id: "print", onclick: () => window.print() }, ui("print")), csv),
    el("ul", { class: "changes", id: "changes" }, ...changes),
    el("ol", { class: "timeline", id: "timeline" }, ...stops),
    el("h3", {}, ui("f1_list"), " ", el("small", { class: "muted" },
       fill(ui("f1_count"), { n: num(state.f1 ? state.f1.counts.close_contacts : 0) }))),
    el("table", { id: "f1" }, el("thead", {}, el("tr", {}, ...["#", ui("card_id"), ui("close"),
       ui("minutes"), ui("met_at"), ui("followup")].map((h) => el("th", {}, h)))),
       el("tbody", {}, ...f1rows)));
}

// Where the tracers are with one F1 (chưa liên hệ … cách ly): chosen here, recorded at once,
// with who and when shown beside it.
const FOLLOWUPS = ["not_contacted", "contacted", "tested", "isolated"];
function followupCell(caseId, card) {
  const f = (state.followups || {})[card] || { status: "not_contacted", by: null, at: null };
  const select = el("select", { class: "followup", "data-card": card },
    ...FOLLOWUPS.map((k) => { const o = el("option", { value: k }, ui(`fu_${k}`));
                              if (k === f.status) o.selected = true; return o; }));
  const said = el("small", { class: "muted", "data-followup-by": f.by || "" },
                  f.by ? ` ${f.by} · ${when(f.at)}` : "");
  select.onchange = () => tick(async () => {
    const done = await api(`/api/v1/itineraries/${enc(caseId)}/followups/${enc(card)}`, {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ status: select.value }) });
    state.followups[card] = done;
    said.dataset.followupBy = done.by;
    said.textContent = ` ${done.by} · ${when(done.at)}`;
  });
  return el("td", {}, select, said);
}

function contactRow(c) {
  return el("tr", { "data-card": c.card_id }, el("td", {}, c.card_id),
            el("td", { class: "n" }, `${minutes(c.overlap_s)} ${ui("minutes")}`),
            el("td", { class: c.close_contact ? "close" : "" }, c.close_contact ? "F1" : ""));
}

async function exportCsv() {
  const a = state.answer;
  const res = await apiCall(`/api/v1/itineraries/${enc(a.case_id)}/f1?format=csv&lang=${state.lang}`);
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  if (state.csv) URL.revokeObjectURL(state.csv.url);
  state.csv = { url: URL.createObjectURL(await res.blob()), name: named ? named[1] : "f1.csv" };
  drawCase();
  $("#csv-link").click();
}

// The case's event stream, read with fetch (an EventSource cannot send the token): every new
// revision is shown; a dropped stream is opened again with the last revision seen.
function watch(caseId) {
  const ctl = new AbortController();
  state.stream = ctl;
  const setLive = (on) => { if (state.caseId === caseId && state.live !== on) { state.live = on; drawCase(); } };
  (async () => {
    while (!ctl.signal.aborted) {
      try {
        const headers = { Accept: "text/event-stream" };
        if (state.answer) headers["Last-Event-ID"] = String(state.answer.revision);
        const res = await apiCall(`/api/v1/itineraries/${enc(caseId)}/events`, { headers, signal: ctl.signal });
        setLive(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            const data = block.split("\n").filter((l) => l.startsWith("data:"))
              .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
            if (data) await show(JSON.parse(data));
          }
        }
      } catch (err) {
        if (ctl.signal.aborted) return;
      }
      setLive(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
}

// --- a spreadsheet of cases: every row checked, all or nothing --------------------------
async function importSheet(e) {
  e.preventDefault();
  const file = $("#import-file").files[0];
  if (!file) return;
  const res = await fetch("/api/v1/imports/itineraries", {
    method: "POST", body: await file.arrayBuffer(),
    headers: { Authorization: `Bearer ${state.token}`, "Content-Type": "text/csv" } });
  if (res.status === 401) { showLogin(); return; }
  const body = await res.json();
  const box = $("#import-result");
  if (res.ok) {
    box.replaceChildren(el("p", { class: "resolved", id: "import-status", "data-status": "imported" },
      fill(ui("import_done"), { n: body.imported.length })),
      el("table", {}, el("tbody", {}, ...body.imported.map((c) => el("tr", { "data-case": c.case_id },
        el("td", {}, c.case_id), el("td", {}, ui(`outcome_${c.outcome}`)),
        el("td", { class: "n" }, c.counts ? `${num(c.counts.gaps)} ${ui("gap").toLowerCase()}` : ""))))));
    await tick(refreshCases);
    return;
  }
  const rows = body.rows || [];
  box.replaceChildren(el("p", { class: "open", id: "import-status", "data-status": "refused" },
    rows.length ? fill(ui("import_refused"), { n: rows.length }) : body.error.detail),
    el("table", {}, el("thead", {}, el("tr", {}, ...[ui("row"), ui("column"), ui("problem")]
      .map((h) => el("th", {}, h)))), el("tbody", {}, ...rows.map((r) => el("tr", { "data-row": r.row },
      el("td", { class: "n" }, r.row), el("td", {}, r.column || ""), el("td", {}, r.detail))))));
}

// --- the page ------------------------------------------------------------------------------
async function whoami() {
  const me = await api("/api/v1/whoami");
  $("#whoami").textContent = `${me.name} (${me.roles.join(", ")})`;
}

startPage(() => {
  addStop();
  tick(whoami);
  every(10000, refreshCases);
  every(10000, refreshClusters);
}, async () => {
  await Promise.all([tick(refreshCases), tick(refreshClusters)]);
  drawCase();
});

document.addEventListener("DOMContentLoaded", () => {
  $("#add-stop").onclick = () => addStop();
  $("#case-form").addEventListener("submit", submitCase);
  $("#import-form").addEventListener("submit", (e) => tick(() => importSheet(e)));
});
