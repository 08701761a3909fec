// truyvet's operations-room dashboard: polls the API and draws what it answers (on
// /pages/page.js: no framework, no external resources, API text set with textContent).
"use strict";

Object.assign(state, { campaign: null, venue: null });  // page.js: the token, words, numbers

// An alert's detail in the page's language, from its facts; the job's English otherwise.
function alertDetail(a) {
  const template = state.words.alert_details[a.kind];
  if (!template || !a.facts || !Object.keys(a.facts).length) return a.detail || "";
  const facts = { ...a.facts };
  if (facts.counted) facts.pct = num((100 * facts.scanned) / facts.counted, 0);
  return template.replace(/\{(\w+)\}/g, (_, k) => {
    const v = facts[k];
    if (v === undefined) return "";
    return typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? when(v) : num(v);
  });
}

function venueLink(v) {
  return el("a", { class: "venue-link", "data-venue": v.venue_id,
                   onclick: () => { state.venue = v.venue_id; refreshVenue(); } },
            v.name || v.venue_id);
}

// --- panels -------------------------------------------------------------------------------
function spark(svg, values) {
  svg.replaceChildren();
  if (values.length < 2) return;
  const max = Math.max(1, ...values);
  const pts = values.map((v, i) => `${(i / (values.length - 1)) * 200},${40 - (v / max) * 38}`);
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts.join(" "));
  svg.append(line);
}

async function refreshOps() {
  const o = await api("/api/v1/ops");
  const t = o.totals || {}, r = o.rates || {};
  $("#scans-rate").textContent = num(r.checkins, 1);
  $("#scans-total").textContent = num(t.scans ?? t.checkins);  // distinct: re-sent ones once
  $("#lag-total").textContent = num(o.lag_total);
  $("#drain").textContent = o.drain_s === null || o.drain_s === undefined
    ? (o.lag_total ? "–" : "0") : `${num(o.drain_s, 1)} ${ui("seconds")}`;
  $("#dlq-total").textContent = num(t.deadletter);
  $("#itineraries-total").textContent = num(t.itineraries);
  $("#gaps-total").textContent = num(t.gaps);
  $("#alerts-total").textContent = num(t.compliance_alerts ?? t.alerts);  // clusters aside
  spark($("#spark-scans"), (o.series || []).map((p) => p.scans_per_s || 0));
  spark($("#spark-lag"), (o.series || []).map((p) => p.lag || 0));
  $("#groups tbody").replaceChildren(...Object.entries(o.lag || {}).map(([g, n]) =>
    el("tr", {}, el("td", {}, g), el("td", { class: "n" }, num(n)))));
}

async function refreshDistricts() {
  const body = await api("/api/v1/compliance?by=district");
  const c = state.words.columns;
  const heads = [state.words.text.district, c.venues, c.venues_scanning, c.coverage,
                 c.gaps_flagged, c.alerts, c.venues_inspected];
  $("#districts thead").replaceChildren(el("tr", {}, ...heads.map((h) => el("th", {}, h))));
  $("#districts tbody").replaceChildren(...body.rows.map((row) => {
    const f = row.figures;
    const bar = el("span", { class: f.coverage !== null && f.coverage < 0.8 ? "bar low" : "bar",
                             style: `width:${Math.round((f.coverage || 0) * 60)}px` });
    return el("tr", { "data-district": row.district }, el("td", {}, row.district),
      el("td", { class: "n" }, num(f.venues)), el("td", { class: "n" }, num(f.venues_scanning)),
      el("td", { class: "n", "data-figure": "coverage" }, pct(f.coverage), bar),
      el("td", { class: "n" }, num(f.gaps_flagged)), el("td", { class: "n" }, num(f.alerts)),
      el("td", { class: "n" }, num(f.venues_inspected)));
  }));
}

async function refreshFeeds() {
  const [alerts, gaps] = await Promise.all([api("/api/v1/alerts"), api("/api/v1/gaps?limit=30")]);
  const kinds = state.words.alert_kinds;
  const rows = (alerts.alerts || []).slice(0, 30);
  $("#alerts").replaceChildren(...(rows.length ? rows.map((a) => el("li", { "data-kind": a.kind },
    el("span", { class: "kind" }, kinds[a.kind] || a.kind), " · ", venueLink(a.venue),
    el("div", { class: "when" }, `${when(a.raised_at)} — ${alertDetail(a)}`)))
    : [el("li", { class: "muted" }, ui("nothing"))]));
  $("#gaps").replaceChildren(...(gaps.gaps.length ? gaps.gaps.map((g) => el("li", {},
    el("span", { class: g.status === "open" ? "open" : "resolved" }, ui(g.status)), " · ",
    venueLink(g.venue),
    el("div", { class: "when" },
       `${ui("declared")}: ${when(g.from)}–${when(g.to).slice(-5)} · ${ui("flagged")}: ${when(g.flagged_at)}`)))
    : [el("li", { class: "muted" }, ui("nothing"))]));
}

async function refreshClusters() {
  const body = await api("/api/v1/clusters?limit=30");
  $("#clusters").replaceChildren(...(body.clusters.length ? body.clusters.map((c) =>
    el("li", { "data-cluster": c.cluster_id, "data-cases": c.cases },
      el("span", { class: "kind" }, fill(ui("f0_cases"), { n: num(c.cases) })), " · ",
      venueLink(c.venue), el("div", { class: "when" }, `${when(c.from)} – ${when(c.to)}`)))
    : [el("li", { class: "muted" }, ui("nothing"))]));
}

async function refreshQueue() {
  const list = (await api("/api/v1/campaigns")).campaigns || [];
  const select = $("#campaign");
  if (!list.length) {
    select.replaceChildren(el("option", {}, ui("no_campaign")));
    $("#queue tbody").replaceChildren();
    return;
  }
  if (!state.campaign || !list.some((c) => c.campaign_id === state.campaign)) {
    state.campaign = list[list.length - 1].campaign_id;
  }
  select.replaceChildren(...list.map((c) => {
    const o = el("option", { value: c.campaign_id }, c.name);
    if (c.campaign_id === state.campaign) o.selected = true;
    return o;
  }));
  const q = await api(`/api/v1/campaigns/${encodeURIComponent(state.campaign)}/queue?limit=15`);
  const t = state.words.text, c = state.words.columns, reasons = state.words.reasons;
  $("#queue thead").replaceChildren(el("tr", {}, ...[t.venue, t.district, t.risk, c.coverage,
    t.reasons, ui("inspected")].map((h) => el("th", {}, h))));
  $("#queue tbody").replaceChildren(...q.venues.map((r) => el("tr", { "data-venue": r.venue.venue_id },
    el("td", {}, venueLink(r.venue)), el("td", {}, r.venue.district || ""),
    el("td", { class: "n" }, num(r.risk, 1)), el("td", { class: "n" }, pct(r.figures.coverage)),
    el("td", { class: "reasons" }, r.reasons.map((x) => reasons[x] || x).join("; ")),
    el("td", { class: r.inspected ? "done" : "" }, r.inspected ? "✓" : ""))));
}

async function refreshVenue() {
  if (!state.venue) return;
  const v = await api(`/api/v1/compliance/venues/${encodeURIComponent(state.venue)}`);
  const f = v.figures, c = state.words.columns, t = state.words.text;
  const cat = state.words.categories[v.venue.category] || v.venue.category || "";
  const facts = [[t.venue_id, v.venue.venue_id], [t.district, `${v.venue.district || ""} · ${v.venue.ward || ""}`],
    [t.category, cat], [c.coverage, pct(f.coverage)], [ui("scans_in"), num(f.scans_in)],
    [ui("scans_out"), num(f.scans_out)], [ui("exit_share"), pct(f.exit_share)],
    [ui("method_mix"), `${num(f.card)} / ${num(f.app)} / ${num(f.venue_qr)}`],
    [ui("silent_share"), pct(f.silent_share)],
    [c.silent_entrances, `${num(f.silent_entrances)} / ${num(v.venue.scanning_points)}`],
    [c.gaps_flagged, num(f.gaps_flagged)],
    [c.gaps_resolved, num(f.gaps_resolved)], [c.alerts, num(f.alerts)], [t.risk, num(v.risk, 1)]];
  const dl = el("dl", {});
  for (const [k, val] of facts) dl.append(el("dt", {}, k), el("dd", {}, val));
  const reasons = v.reasons.map((x) => state.words.reasons[x] || x).join("; ");
  const insp = v.inspections.map((i) => el("li", {}, `${when(i.inspected_at)} · ${
    state.words.outcomes[i.outcome] || i.outcome} · ${i.inspector} · ${i.people_scanned}/${i.people_counted}`));
  $("#venue").replaceChildren(el("h3", { id: "venue-name" }, v.venue.name || v.venue.venue_id), dl,
    el("p", { class: "reasons" }, reasons),
    el("h4", {}, ui("inspections")), el("ul", {}, ...(insp.length ? insp : [el("li", { class: "muted" }, ui("nothing"))])));
}

// --- the loop -----------------------------------------------------------------------------
const PANELS = [refreshOps, refreshDistricts, refreshFeeds, refreshClusters, refreshQueue,
                refreshVenue];

startPage(() => {
  every(2000, refreshOps);
  every(5000, refreshDistricts);
  every(3000, refreshFeeds);
  every(5000, refreshClusters);
  every(10000, refreshQueue);
  every(10000, refreshVenue);
}, () => Promise.all(PANELS.map(tick)));

document.addEventListener("DOMContentLoaded", () => {
  $("#campaign").addEventListener("change", (e) => { state.campaign = e.target.value; tick(refreshQueue); });
});
