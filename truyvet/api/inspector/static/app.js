// truyvet's inspector's page: a district inspection team's campaign queue (the venues not yet
// inspected and most at risk first), an inspection recorded from the queue or the venue search,
// campaigns created, and the report to the Department of Information and Communications with
// its CSV and printable HTML. On /pages/page.js: no framework, no external resources, API
// text set with textContent.
"use strict";

state.section = "inspector";
Object.assign(state, { districts: [], district: localStorage.getItem("truyvet.district") || "",
                       campaigns: [], campaignId: localStorage.getItem("truyvet.campaign") || "",
                       queue: null, report: null, pick: null, me: null, file: null });
const enc = encodeURIComponent;
const HOSPITALITY = ["cafe", "restaurant", "bar"];  // the directive's inspection week
const DAY_MS = 86400000;
const localNow = (shift_ms = 0) => new Date(Date.now() + shift_ms + 7 * 3600000).toISOString();
const word = (table, k) => (state.words && state.words[table] && state.words[table][k]) || k;
const nextDay = (day) => new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
const dayOf = (rfc3339) => new Intl.DateTimeFormat(locale(), { timeZone: TZ, day: "2-digit",
  month: "2-digit", year: "numeric" }).format(new Date(rfc3339));
const campaign = () => state.campaigns.find((c) => c.campaign_id === state.campaignId) || null;
const districtQuery = () => (state.district ? `district=${enc(state.district)}` : "");

// --- the scope: district and campaign -------------------------------------------------------
async function loadScope() {
  const [byDistrict, campaigns] = await Promise.all([
    api("/api/v1/compliance?by=district"), api("/api/v1/campaigns")]);
  state.districts = byDistrict.rows.map((r) => r.district);
  state.campaigns = campaigns.campaigns.sort((a, b) => (a.from < b.from ? 1 : -1));
  if (state.district && !state.districts.includes(state.district)) state.district = "";
  if (!campaign()) state.campaignId = state.campaigns.length ? state.campaigns[0].campaign_id : "";
  drawScope();
}

function drawScope() {
  $("#district").replaceChildren(el("option", { value: "" }, ui("whole_province")),
    ...state.districts.map((d) => el("option", { value: d }, d)));
  $("#district").value = state.district;
  $("#campaign").replaceChildren(...(state.campaigns.length
    ? state.campaigns.map((c) => el("option", { value: c.campaign_id }, c.name))
    : [el("option", { value: "" }, ui("no_campaign"))]));
  $("#campaign").value = state.campaignId;
  const c = campaign();
  $("#campaign-period").textContent = c
    ? `${dayOf(c.from)} – ${dayOf(new Date(Date.parse(c.to) - 1).toISOString())} · `
      + c.categories.map((k) => word("categories", k)).join(", ")
      + (c.districts ? ` · ${c.districts.join(", ")}` : "")
    : "";
}

// --- the queue --------------------------------------------------------------------------------
async function refreshQueue() {
  const head = ["#", "venue", "category", "risk", "reasons", "status", ""].map((k) =>
    el("th", { class: k === "risk" ? "n" : "" }, k && k !== "#" ? ui(k) : k));
  $("#queue thead").replaceChildren(el("tr", {}, ...head));
  if (!state.campaignId) {
    state.queue = null;
    $("#queue-count").textContent = "";
    $("#queue tbody").replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "muted" }, ui("no_campaign"))));
    return;
  }
  const q = await api(`/api/v1/campaigns/${enc(state.campaignId)}/queue?limit=200&${districtQuery()}`);
  state.queue = q;
  $("#queue-count").textContent = fill(ui("queue_count"), { inspected: num(q.inspected), total: num(q.total) });
  if (!q.venues.length) {
    $("#queue tbody").replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "muted" }, ui("no_venues"))));
    return;
  }
  $("#queue tbody").replaceChildren(...q.venues.map((r, i) => {
    const v = r.venue;
    return el("tr", { "data-venue": v.venue_id, "data-inspected": String(r.inspected),
                      class: r.inspected ? "done" : "" },
      el("td", { class: "n" }, i + 1),
      el("td", {}, el("b", {}, v.name || v.venue_id), el("div", { class: "muted" },
         [v.ward, v.district].filter(Boolean).join(", "))),
      el("td", {}, word("categories", v.category)),
      el("td", { class: "n" }, num(r.risk, 1)),
      el("td", {}, r.reasons.map((k) => word("reasons", k)).join("; ")),
      el("td", { class: r.inspected ? "resolved" : "open" }, ui(r.inspected ? "inspected" : "not_inspected")),
      el("td", {}, el("button", { type: "button", class: "record", onclick: () => startInspection(v) },
         ui("record"))));
  }));
}

// --- an inspection ------------------------------------------------------------------------------
function startInspection(v) {
  state.pick(v);
  $("#insp-from").value = localNow(-30 * 60000).slice(0, 16);
  $("#insp-to").value = localNow().slice(0, 16);
  $("#insp-points").value = v.scanning_points ?? "";
  $("#inspection-form").scrollIntoView({ block: "nearest" });
  $("#insp-counted").focus();
}

async function recordInspection(e) {
  e.preventDefault();
  const status = $("#insp-status");
  const venueId = $("#insp-venue .venue-id").value;
  try {
    if (!venueId) throw new Error(ui("pick_venue"));
    const body = {
      venue_id: venueId, inspector: $("#insp-inspector").value.trim(),
      observed_from: vnTime($("#insp-from").value), observed_to: vnTime($("#insp-to").value),
      scanning_points_observed: Number($("#insp-points").value),
      people_counted: Number($("#insp-counted").value),
      people_scanned: Number($("#insp-scanned").value),
      outcome: $("#insp-outcome").value, notes: $("#insp-notes").value };
    if (state.campaignId) body.campaign_id = state.campaignId;
    const saved = await api("/api/v1/inspections", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    status.className = "resolved";
    status.dataset.status = "recorded";
    status.dataset.inspection = saved.inspection_id;
    status.textContent = fill(ui("recorded"), { venue: $("#insp-venue .venue-q").value });
    for (const id of ["#insp-counted", "#insp-scanned", "#insp-notes"]) $(id).value = "";
    await Promise.all([tick(refreshQueue), tick(refreshReport)]);
  } catch (err) {
    status.className = "open";
    status.dataset.status = "refused";
    status.textContent = err.message;
  }
}

// --- a campaign ---------------------------------------------------------------------------------
function resetCampaignForm() {
  const today = localNow().slice(0, 10);
  $("#campaign-id").value = `tuan-cao-diem-${today}`;
  $("#campaign-name").value = ui("default_campaign");
  $("#campaign-from").value = today;
  $("#campaign-to").value = localNow(6 * DAY_MS).slice(0, 10);
  drawCategories(HOSPITALITY);
}

function drawCategories(checked) {
  const cats = Object.keys((state.words && state.words.categories) || {});
  $("#campaign-categories").replaceChildren(...cats.map((k) => el("label", { class: "check" },
    Object.assign(el("input", { type: "checkbox", value: k }), { checked: checked.includes(k) }),
    ` ${word("categories", k)}`)));
}

async function createCampaign(e) {
  e.preventDefault();
  const status = $("#campaign-status");
  try {
    const categories = [...document.querySelectorAll("#campaign-categories input:checked")].map((x) => x.value);
    const body = { campaign_id: $("#campaign-id").value.trim(), name: $("#campaign-name").value.trim(),
                   from: vnDay($("#campaign-from").value),
                   to: vnDay(nextDay($("#campaign-to").value)),
                   categories };
    if ($("#campaign-only-district").checked && state.district) body.districts = [state.district];
    const made = await api("/api/v1/campaigns", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    status.className = "resolved";
    status.dataset.status = "created";
    status.textContent = fill(ui("created"), { name: made.name });
    state.campaignId = made.campaign_id;
    localStorage.setItem("truyvet.campaign", state.campaignId);
    await refreshAll();
  } catch (err) {
    status.className = "open";
    status.dataset.status = "refused";
    status.textContent = err.message;
  }
}

// --- the report -----------------------------------------------------------------------------------
function reportQuery(extra = "") {
  const c = campaign();
  const parts = [districtQuery(), extra];
  if (c) parts.push(`from=${enc(c.from)}`, `to=${enc(c.to)}`);
  return parts.filter(Boolean).join("&");
}

const REPORT_COLUMNS = ["venues", "venues_inspected", "inspections", "compliant", "reminded",
                        "suspended", "fined", "coverage", "venue_qr_share", "silent_entrances",
                        "exit_share"];
const SHARES = ["coverage", "venue_qr_share", "exit_share"];  // fractions, shown in percent

async function refreshReport() {
  const r = await api(`/api/v1/report?${reportQuery()}`);
  state.report = r;
  $("#report thead").replaceChildren(el("tr", {}, el("th", {}, ui("district")),
    ...REPORT_COLUMNS.map((k) => el("th", { class: "n" }, ["compliant", "reminded", "suspended", "fined"].includes(k)
      ? word("outcomes", k) : ui(k)))));
  const row = (name, f, cls = "") => el("tr", { "data-district": name, class: cls },
    el("td", {}, name), ...REPORT_COLUMNS.map((k) => el("td", { class: "n", "data-figure": k },
      SHARES.includes(k) ? pct(f[k])
        : num(k in f ? f[k] : (f.outcomes[k] || 0)))));
  $("#report tbody").replaceChildren(...r.districts.map((d) => row(d.district, d.figures)),
                                     row(ui("total"), r.total, "total"));
}

async function reportFile(fmt) {
  const res = await apiCall(`/api/v1/report?${reportQuery(`format=${fmt}&lang=${state.lang}`)}`);
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  if (state.file) URL.revokeObjectURL(state.file);
  state.file = URL.createObjectURL(await res.blob());
  const link = $("#report-link");
  link.href = state.file;
  link.dataset.format = fmt;
  link.textContent = named ? named[1] : `bao-cao.${fmt}`;
  if (fmt === "csv") { link.download = link.textContent; link.click(); }
  else { link.removeAttribute("download"); link.target = "_blank"; window.open(state.file, "_blank"); }
}

// --- the page -------------------------------------------------------------------------------------
async function refreshAll() {
  await loadScope();
  await Promise.all([tick(refreshQueue), tick(refreshReport)]);
}

async function whoami() {
  const me = await api("/api/v1/whoami");
  state.me = me;
  $("#whoami").textContent = `${me.name} (${me.roles.join(", ")})`;
  if (!$("#insp-inspector").value) $("#insp-inspector").value = me.name;
}

function drawOutcomes() {
  const keep = $("#insp-outcome").value;
  $("#insp-outcome").replaceChildren(...Object.keys(state.words.outcomes).map((k) =>
    el("option", { value: k }, word("outcomes", k))));
  if (keep) $("#insp-outcome").value = keep;
}

startPage(() => {
  state.pick = venueSearch($("#insp-venue"));
  drawOutcomes();
  resetCampaignForm();
  tick(whoami);
  every(15000, refreshAll);
}, async () => {
  drawOutcomes();
  drawCategories([...document.querySelectorAll("#campaign-categories input:checked")].map((x) => x.value));
  drawScope();
  await Promise.all([tick(refreshQueue), tick(refreshReport)]);
});

document.addEventListener("DOMContentLoaded", () => {
  $("#district").addEventListener("change", () => {
    state.district = $("#district").value;
    localStorage.setItem("truyvet.district", state.district);
    tick(refreshAll);
  });
  $("#campaign").addEventListener("change", () => {
    state.campaignId = $("#campaign").value;
    localStorage.setItem("truyvet.campaign", state.campaignId);
    tick(refreshAll);
  });
  $("#inspection-form").addEventListener("submit", recordInspection);
  $("#campaign-form").addEventListener("submit", createCampaign);
  $("#report-csv").onclick = () => tick(() => reportFile("csv"));
  $("#report-html").onclick = () => tick(() => reportFile("html"));
});
