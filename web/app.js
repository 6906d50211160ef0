// pinpipe dashboard: a single page over the JSON status API (docs/status-api.md).
// Views: Overview (live charts drawn with uPlot from the server's 15-minute
// sample ring), Topics (read-only browser), Tables (Delta versions, schema,
// newest rows), Runs (grid of runs by task, logs, trigger), Results (the batch
// answers, and the live answers when that engine runs).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const fmt = new Intl.NumberFormat("en-US");
const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v) => (isNum(v) ? fmt.format(Math.round(v)) : "–");
const rate = (v) => (!isNum(v) ? "–" : v >= 100 ? fmt.format(Math.round(v)) : v.toFixed(1));
function bytes(v) {
  if (!isNum(v)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
}
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function when(ms) { return isNum(ms) && ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–"; }
function dur(ms) {
  if (!isNum(ms) || ms < 0) return "–";
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  return Math.floor(ms / 60000) + " m " + Math.round((ms % 60000) / 1000) + " s";
}
// A shared pipeline ([[tenants]]): the tenant's API key, entered once in the
// page and kept for this tab only (sessionStorage), goes with every request as
// x-api-key; the server then answers with that tenant's names only.
const KEY_ITEM = "pinpipe.apiKey";
function apiKey() { try { return sessionStorage.getItem(KEY_ITEM) || ""; } catch (e) { return ""; } }
function authFetch(url, opts = {}) {
  const headers = new Headers(opts.headers || {});
  const key = apiKey();
  if (key) headers.set("x-api-key", key);
  return fetch(url, { ...opts, headers });
}
window.authFetch = authFetch;  // live-answers.js
function askForKey(message) {
  const form = $("#key-form");
  if (!form.hidden) return;
  form.hidden = false;
  $("#key-message").textContent = message;
  $("#api-key").focus();
}
$("#key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const key = $("#api-key").value.trim();
  if (!key) return;
  try { sessionStorage.setItem(KEY_ITEM, key); } catch (e) { /* private mode: this page only */ }
  location.reload();
});
$("#key-forget").addEventListener("click", () => {
  try { sessionStorage.removeItem(KEY_ITEM); } catch (e) { /* nothing kept */ }
  location.reload();
});
if (apiKey()) $("#key-forget").hidden = false;
async function getJson(url) {
  const r = await authFetch(url, { cache: "no-store" });
  const body = await r.json().catch(() => null);
  if (r.status === 401 || r.status === 403) {
    askForKey(apiKey() ? "This key is not accepted here." : "This pipeline is shared: enter your API key.");
  }
  if (!r.ok) throw new Error((body && body.message) || "HTTP " + r.status);
  return body;
}
function cell(v, cls = "") { return `<td class="${cls}">${v}</td>`; }
function emptyRow(cols, text = "none yet") { return `<tr><td colspan="${cols}" class="muted">${esc(text)}</td></tr>`; }

let status = null;          // the newest /api/status
let prefix = "";
// "0a60b9a8a831.pin" -> "pin"; "streaming-0a60b9a8a831-pin" -> "pin"
function shortName(name) {
  if (!prefix) return name;
  if (name.startsWith(prefix + ".")) return name.slice(prefix.length + 1);
  if (name.startsWith("streaming-" + prefix + "-")) return name.slice(("streaming-" + prefix + "-").length);
  if (name.startsWith(prefix + "_")) return name.slice(prefix.length + 1);
  return name;
}

// ---------------------------------------------------------------- live charts
const PALETTE = ["#e60023", "#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777", "#65a30d"];
const history = { time: [], series: {} };  // time in ms; series name -> values
const CHARTS = [
  { id: "chart-in", pick: (n) => n.startsWith("in:"), label: (n) => labelOf(n.slice(3)), unit: "rec/s" },
  { id: "chart-out", pick: (n) => n.startsWith("out:"), label: (n) => labelOf(n.slice(4)), unit: "rec/s" },
  { id: "chart-sinklag", pick: (n) => n === "sink_lag", label: () => "sink lag", unit: "records" },
  { id: "chart-streamlag", pick: (n) => n.startsWith("stream_lag_ms:"), label: (n) => labelOf(n.slice(14)), unit: "ms" },
  { id: "chart-produce", pick: (n) => n.startsWith("produce_"), label: (n) => n.replace("produce_", "").replace("_ms", ""), unit: "ms" },
  { id: "chart-commit", pick: (n) => n.startsWith("commit_"), label: (n) => labelOf(n.slice(n.indexOf(":") + 1)) + " " + n.slice(7, 10), unit: "ms" },
];
function labelOf(name) { return shortName(name) + (name.startsWith("streaming-") ? " (stream)" : ""); }
const plots = {};  // chart id -> {u, names}

function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
function plotWidth(el) { return Math.max(200, el.clientWidth); }

function drawCharts() {
  const t = history.time.map((ms) => ms / 1000);
  for (const c of CHARTS) {
    const fig = document.getElementById(c.id);
    const el = $(".plot", fig);
    const names = Object.keys(history.series).filter(c.pick).sort();
    const data = [t, ...names.map((n) => history.series[n])];
    fig.dataset.points = String(t.length);
    fig.dataset.series = String(names.length);
    const p = plots[c.id];
    if (p && p.names.join("|") === names.join("|")) { p.u.setData(data); continue; }
    if (p) p.u.destroy();
    el.innerHTML = "";
    if (!names.length) { el.innerHTML = `<div class="plot-empty muted">no data yet</div>`; delete plots[c.id]; continue; }
    const grid = { stroke: cssVar("--line"), width: 1 };
    const axis = { stroke: cssVar("--muted"), grid, ticks: grid, font: "11px system-ui, sans-serif" };
    const opts = {
      width: plotWidth(el), height: 180,
      cursor: { drag: { x: false, y: false } },
      legend: { live: false },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [{ ...axis, space: 70, values: (u, vals) => vals.map((v) => new Date(v * 1000).toLocaleTimeString("en-GB", { hour12: false })) }, { ...axis, size: 50, values: (u, vals) => vals.map((v) => (v >= 1000 ? fmt.format(v) : +v.toFixed(2))) }],
      series: [{ label: "time", value: (u, v) => (v == null ? "–" : new Date(v * 1000).toLocaleTimeString()) },
        ...names.map((n, i) => ({
          label: c.label(n), stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false,
          fill: names.length === 1 ? PALETTE[i % PALETTE.length] + "22" : undefined,
          value: (u, v) => (v == null ? "–" : (v >= 100 ? fmt.format(Math.round(v)) : (+v.toFixed(2)).toString()) + " " + c.unit),
        }))],
    };
    plots[c.id] = { u: new uPlot(opts, data, el), names };
  }
}
new ResizeObserver(() => {
  for (const c of CHARTS) {
    const p = plots[c.id];
    if (p) p.u.setSize({ width: plotWidth($(".plot", document.getElementById(c.id))), height: 180 });
  }
}).observe($("#live-charts"));

function mergeHistory(h) {
  const n = h.time_ms.length;
  if (!n) return;
  const before = history.time.length;
  history.time.push(...h.time_ms);
  const names = new Set([...Object.keys(history.series), ...Object.keys(h.series)]);
  for (const name of names) {
    const old = history.series[name] || new Array(before).fill(null);
    const add = h.series[name] || new Array(n).fill(null);
    history.series[name] = old.concat(add);
  }
  const cap = h.capacity || 900;
  const drop = history.time.length - cap;
  if (drop > 0) {
    history.time.splice(0, drop);
    for (const name of Object.keys(history.series)) history.series[name].splice(0, drop);
  }
}
async function pollHistory() {
  try {
    const since = history.time.length ? history.time[history.time.length - 1] : 0;
    mergeHistory(await getJson("/api/status/history?since_ms=" + since));
    if (currentView === "overview") drawCharts();
  } catch (e) { /* the status poll shows the connection state */ }
}

// ---------------------------------------------------------------- overview
let previous = null;
function perSecond(now, prev, pick) {
  if (!prev) return null;
  const dt = (now.time_ms - prev.time_ms) / 1000;
  return dt > 0 ? Math.max(0, (pick(now) - pick(prev)) / dt) : null;
}
function byName(list) { const m = new Map(); (list || []).forEach((x) => m.set(x.name, x)); return m; }
function stateBadge(state) { return `<span class="badge state-${esc(state)}">${esc(state)}</span>`; }

function renderOverview(s) {
  const prev = previous;
  $("#req-rate").textContent = rate(perSecond(s, prev, (x) => x.api?.requests));
  $("#rec-rate").textContent = rate(perSecond(s, prev, (x) => x.api?.records));
  $("#sink-lag").textContent = s.sink.enabled ? num(s.sink.lag) : "off";
  const lags = (s.stream_job.tables || []).map((t) => t.lag_ms || 0);
  $("#stream-lag").textContent = s.stream_job.enabled ? num(lags.length ? Math.max(...lags) : 0) + " ms" : "off";
  $("#lake-objects").textContent = num(s.lake?.objects);  // a tenant's status has no process-wide api/lake
  $("#lake-bytes").textContent = bytes(s.lake?.bytes);
  const logRows = (list, prevList, kind) => {
    const before = byName(prevList);
    const rows = (list || []).map((t) => {
      const p = before.get(t.name);
      const r = p && prev ? perSecond({ time_ms: s.time_ms, v: t.records }, { time_ms: prev.time_ms, v: p.records }, (x) => x.v) : null;
      return "<tr>" + cell(`<a href="#topics/${encodeURIComponent(t.name)}" title="${esc(t.name)}">${esc(t.name)}</a>`, "name") +
        cell(num(t.partitions), "num") + cell(num(t.records), "num") + cell(rate(r), "num") + cell(bytes(t.bytes), "num") + "</tr>";
    });
    return rows.length ? rows.join("") : emptyRow(5, `no ${kind} yet`);
  };
  $("#topics tbody").innerHTML = logRows(s.topics, prev && prev.topics, "topics");
  $("#streams tbody").innerHTML = logRows(s.streams, prev && prev.streams, "streams");
  const sp = s.sink.partitions || [];
  $("#sink tbody").innerHTML = !s.sink.enabled ? emptyRow(5, "sink is off") : sp.length ? sp.map((p) => "<tr>" +
    cell(esc(`${p.topic}[${p.partition}]`) + (p.failed ? ` ${stateBadge("failed")}` : ""), "name") + cell(num(p.committed_offset), "num") +
    cell(num(p.lag), "num") + cell(num(p.objects), "num") + cell(bytes(p.bytes), "num") + "</tr>").join("") : emptyRow(5);
  const tt = s.stream_job.tables || [];
  $("#tables tbody").innerHTML = !s.stream_job.enabled ? emptyRow(5, "stream job is off") : tt.length ? tt.map((t) => "<tr>" +
    cell(`<a href="#tables/${encodeURIComponent(t.name)}">${esc(t.name)}</a>`, "name") + cell(num(t.version), "num") + cell(num(t.rows), "num") +
    cell(num(t.batches), "num") + cell(num(t.lag_ms), "num") + "</tr>").join("") : emptyRow(5);
  $("#dags").textContent = (s.scheduler.dags || []).map((d) => `${d.name}: ${d.schedule || "manual"}, next ${when(d.next_fire_ms)}`).join(" · ");
  const runs = (s.scheduler.runs || []).slice(0, 6);
  $("#runs-mini tbody").innerHTML = runs.length ? runs.map((r) => "<tr>" + cell(`<a href="#runs/${r.id}">#${r.id}</a>`) + cell(esc(r.dag)) +
    cell(stateBadge(r.state)) + cell(when(r.start_ms)) + cell(r.end_ms && r.start_ms ? dur(r.end_ms - r.start_ms) : "–", "num") + "</tr>").join("") : emptyRow(5, "no runs yet");
  $("#errors").innerHTML = (s.errors || []).length
    ? s.errors.slice().reverse().map((e) => `<li><span class="muted">${when(e.time_ms)} ${esc(e.component)}</span> ${esc(e.message)}</li>`).join("")
    : `<li class="muted">none</li>`;
  previous = s;
}

async function pollStatus() {
  try {
    status = await getJson("/api/status");
    prefix = status.prefix || "";
    $("#prefix").textContent = prefix;
    renderOverview(status);
    renderTopicList();
    renderTableList();
    $("#conn").textContent = "live";
    $("#conn").className = "pill ok";
  } catch (e) {
    $("#conn").textContent = "disconnected";
    $("#conn").className = "pill bad";
  }
}

// ---------------------------------------------------------------- topic browser
const browse = { topic: "", partition: 0, start: null, end: null, lso: 0, hwm: 0 };
function renderTopicList() {
  if (!status) return;
  const all = [...(status.topics || []), ...(status.streams || [])];
  const html = all.map((t) => `<li><a href="#topics/${encodeURIComponent(t.name)}" class="${t.name === browse.topic ? "active" : ""}" title="${esc(t.name)}">` +
    `<span class="pick-name">${esc(labelOf(t.name))}</span><span class="muted small">${num(t.records)}</span></a></li>`).join("");
  if ($("#topic-list").innerHTML !== html) $("#topic-list").innerHTML = html || `<li class="muted">no topics</li>`;
}
async function openTopic(name) {
  browse.topic = name;
  renderTopicList();
  $("#topic-title").textContent = name;
  try {
    const d = await getJson("/api/topics/" + encodeURIComponent(name));
    $("#partitions tbody").innerHTML = d.partitions.map((p) => "<tr>" + cell(String(p.partition)) + cell(num(p.log_start_offset), "num") +
      cell(num(p.high_watermark), "num") + cell(num(p.records), "num") + cell(bytes(p.bytes), "num") + cell(when(p.first_timestamp_ms)) +
      cell(when(p.last_timestamp_ms)) + "</tr>").join("") || emptyRow(7);
    $("#b-partition").innerHTML = d.partitions.map((p) => `<option value="${p.partition}">${p.partition}</option>`).join("");
    browse.partition = d.partitions.length ? d.partitions[0].partition : 0;
    await loadRecords({});
  } catch (e) {
    $("#partitions tbody").innerHTML = emptyRow(7, e.message);
    $("#records").innerHTML = "";
  }
}
function prettyValue(v) {
  if (v === null) return `<span class="muted">null</span>`;
  try { return esc(JSON.stringify(JSON.parse(v), null, 2)); } catch (e) { return esc(v); }
}
async function loadRecords(where) {
  const q = new URLSearchParams({ partition: String(browse.partition), limit: $("#b-limit").value });
  if (isNum(where.offset)) q.set("offset", String(where.offset));
  if (isNum(where.time_ms)) q.set("time_ms", String(where.time_ms));
  if (isNum(where.before)) q.set("before", String(where.before));
  const filter = $("#b-filter").value;
  if (filter) q.set("filter", filter);
  let page;
  try {
    page = await getJson(`/api/topics/${encodeURIComponent(browse.topic)}/records?${q}`);
  } catch (e) {
    $("#records").innerHTML = `<p class="bad-text">${esc(e.message)}</p>`;
    return;
  }
  Object.assign(browse, { start: page.start, end: page.end, lso: page.log_start_offset, hwm: page.high_watermark });
  $("#b-range").textContent = page.records.length
    ? `offsets ${fmt.format(page.records[0].offset)}–${fmt.format(page.records[page.records.length - 1].offset)} of ${fmt.format(page.log_start_offset)}–${fmt.format(Math.max(0, page.high_watermark - 1))}` +
      (filter ? ` · ${page.records.length} matches in ${fmt.format(page.scanned)} scanned` : "")
    : filter ? `no match in ${fmt.format(page.scanned)} records scanned` : "no records here";
  $("#b-older").disabled = page.start <= page.log_start_offset;
  $("#b-newer").disabled = page.end >= page.high_watermark;
  const rows = page.records.slice().reverse();  // newest first
  $("#records").innerHTML = rows.length ? rows.map((r) => `<article class="record" data-offset="${r.offset}">` +
    `<div class="record-meta"><span class="offset">#${fmt.format(r.offset)}</span><span>${when(r.timestamp_ms)}</span>` +
    `<span>key <code>${r.key === null ? "null" : esc(r.key)}</code></span>` +
    (r.headers.length ? r.headers.map((h) => `<span class="chip">${esc(h.key)}=${esc(h.value)}</span>`).join("") : "") +
    `</div><pre class="value">${prettyValue(r.value)}</pre></article>`).join("") : `<p class="muted">No records.</p>`;
}
$("#browse-form").addEventListener("submit", (e) => {
  e.preventDefault();
  browse.partition = Number($("#b-partition").value || 0);
  const off = $("#b-offset").value, t = $("#b-time").value;
  if (off !== "") loadRecords({ offset: Number(off) });
  else if (t) loadRecords({ time_ms: new Date(t).getTime() });
  else loadRecords({});
});
$("#b-newest").addEventListener("click", () => { $("#b-offset").value = ""; $("#b-time").value = ""; loadRecords({}); });
$("#b-older").addEventListener("click", () => loadRecords({ before: browse.start }));
$("#b-newer").addEventListener("click", () => loadRecords({ offset: browse.end }));

// ---------------------------------------------------------------- Delta tables
let tableName = "";
function renderTableList() {
  if (!status) return;
  const html = (status.stream_job.tables || []).map((t) => `<li><a href="#tables/${encodeURIComponent(t.name)}" class="${t.name === tableName ? "active" : ""}" title="${esc(t.name)}">` +
    `<span class="pick-name">${esc(shortName(t.name))}</span><span class="muted small">v${num(t.version)}</span></a></li>`).join("");
  if ($("#table-list").innerHTML !== html) $("#table-list").innerHTML = html || `<li class="muted">no tables</li>`;
}
function valueText(v) {
  if (v === null || v === undefined) return `<span class="muted">null</span>`;
  if (typeof v === "object") return esc(JSON.stringify(v));
  return esc(v);
}
async function openTable(name) {
  tableName = name;
  renderTableList();
  const el = $("#table-detail");
  let t;
  try { t = await getJson("/api/tables/" + encodeURIComponent(name)); } catch (e) {
    el.innerHTML = `<div class="panel"><h2>${esc(name)}</h2><p class="muted">${esc(e.message)}</p></div>`;
    return;
  }
  if (tableName !== name) return;
  const cols = t.schema.map((f) => f.name);
  el.innerHTML = `<div class="panel"><h2>${esc(t.name)}</h2><div class="cards compact">` +
    [["version", num(t.version)], ["files", num(t.files)], ["rows", num(t.rows)], ["size", bytes(t.bytes)]]
      .map(([k, v]) => `<div class="card"><div class="label">${k}</div><div class="big">${v}</div></div>`).join("") + `</div></div>` +
    `<div class="two"><div class="panel"><h3>Versions</h3><div class="table-wrap"><table id="table-history"><thead><tr><th class="num">version</th><th>time</th><th>operation</th><th class="num">rows added</th><th class="num">files</th></tr></thead><tbody>` +
    (t.history.map((h) => "<tr>" + cell(num(h.version), "num") + cell(when(h.timestamp)) + cell(esc(h.operation || "–")) +
      cell(num(h.rows_added), "num") + cell(num(h.files_added), "num") + "</tr>").join("") || emptyRow(5)) + `</tbody></table></div></div>` +
    `<div class="panel"><h3>Schema</h3><div class="table-wrap"><table id="table-schema"><thead><tr><th>column</th><th>type</th><th>nullable</th></tr></thead><tbody>` +
    t.schema.map((f) => "<tr>" + cell(`<code>${esc(f.name)}</code>`) + cell(esc(f.type)) + cell(f.nullable ? "yes" : "no") + "</tr>").join("") +
    `</tbody></table></div></div></div>` +
    `<div class="panel"><h3>Newest rows <span class="muted">${t.preview.length} of ${num(t.rows)}</span></h3><div class="table-wrap"><table id="table-preview"><thead><tr>` +
    cols.map((c) => `<th>${esc(c)}</th>`).join("") + `</tr></thead><tbody>` +
    (t.preview.slice().reverse().map((r) => "<tr>" + cols.map((c) => cell(valueText(r[c]), "clip")).join("") + "</tr>").join("") || emptyRow(cols.length || 1, "no rows yet")) +
    `</tbody></table></div></div>`;
}

// ---------------------------------------------------------------- runs
let runs = [];
let selectedRun = null;
async function pollRuns() {
  try { runs = await getJson("/api/runs?limit=30&tasks=1"); } catch (e) { return; }
  renderRunGrid();
  if (selectedRun !== null) renderRunDetail(selectedRun);
}
function renderRunGrid() {
  const dags = status ? (status.scheduler.dags || []).map((d) => d.name) : ["batch"];
  const sel = $("#trigger-dag");
  const opts = dags.map((d) => `<option>${esc(d)}</option>`).join("");
  if (sel.innerHTML !== opts) sel.innerHTML = opts;
  const ordered = runs.slice().reverse();  // oldest left, like Airflow's grid
  const failed = runs.filter((r) => r.state === "failed" || r.state === "upstream_failed").length;
  $("#runs-summary").innerHTML = runs.length ? `${runs.length} newest` + (failed ? ` · <span class="bad-text">${failed} failed</span>` : "") : "";
  if (!ordered.length) { $("#run-grid").innerHTML = `<p class="muted">No runs yet: trigger one.</p>`; return; }
  const now = Date.now();
  const took = (r) => (r.start_ms ? (r.end_ms || now) - r.start_ms : 0);
  const max = Math.max(1, ...ordered.map(took));
  const tasks = [];
  for (const r of ordered) for (const t of r.tasks || []) if (!tasks.includes(t.task)) tasks.push(t.task);
  const col = (r) => `<button type="button" class="run-col ${selectedRun === r.id ? "selected" : ""}" data-run="${r.id}" aria-label="run ${r.id} ${esc(r.state)}, ${dur(took(r))}" title="#${r.id} ${esc(r.dag)} · ${esc(r.state)} · ${dur(took(r))} · ${when(r.start_ms)}">` +
    `<span class="bar state-bg-${esc(r.state)}" style="height:${Math.max(4, Math.round((70 * took(r)) / max))}px"></span></button>`;
  const sq = (r, task) => {
    const t = (r.tasks || []).find((x) => x.task === task);
    const st = t ? t.state : "none";
    return `<span class="sq state-bg-${esc(st)}" title="${esc(task)} · ${esc(st)}${t && t.attempts > 1 ? " · " + t.attempts + " attempts" : ""}${t ? " · " + dur(t.end_ms && t.start_ms ? t.end_ms - t.start_ms : null) : ""}"></span>`;
  };
  $("#run-grid").innerHTML = `<div class="grid-row head"><span class="grid-label muted small">duration<br>max ${dur(max)}</span><div class="grid-cells">${ordered.map(col).join("")}</div></div>` +
    tasks.map((task) => `<div class="grid-row"><span class="grid-label" title="${esc(task)}">${esc(task)}</span><div class="grid-cells">${ordered.map((r) => `<span class="cellwrap">${sq(r, task)}</span>`).join("")}</div></div>`).join("") +
    `<div class="grid-row"><span class="grid-label muted small">run</span><div class="grid-cells">${ordered.map((r) => `<span class="cellwrap small muted">${r.id}</span>`).join("")}</div></div>`;
  $$(".run-col", $("#run-grid")).forEach((b) => b.addEventListener("click", () => { location.hash = "#runs/" + b.dataset.run; }));
}
async function renderRunDetail(id) {
  selectedRun = id;
  let r = runs.find((x) => x.id === id);
  if (!r) { try { r = await getJson("/api/runs/" + id); } catch (e) { $("#run-detail").innerHTML = `<p class="muted">${esc(e.message)}</p>`; return; } }
  $$(".run-col").forEach((b) => b.classList.toggle("selected", Number(b.dataset.run) === id));
  const html = `<h2>Run #${r.id} <span class="muted">${esc(r.dag)}</span> ${stateBadge(r.state)}</h2>` +
    `<dl class="facts"><dt>trigger</dt><dd>${esc(r.trigger)}</dd><dt>logical date</dt><dd>${when(r.logical_date_s * 1000)}</dd>` +
    `<dt>started</dt><dd>${when(r.start_ms)}</dd><dt>took</dt><dd>${r.end_ms && r.start_ms ? dur(r.end_ms - r.start_ms) : "–"}</dd>` +
    (r.results ? `<dt>results</dt><dd><code>${esc(r.results)}</code></dd>` : "") + `</dl>` +
    (r.error ? `<p class="error-box">${esc(r.error)}</p>` : "") +
    ((r.tasks || []).map((t) => `<section class="task" id="task-${esc(t.task)}"><h3>${esc(t.task)} ${stateBadge(t.state)} <span class="muted small">attempt ${t.attempts} · ${t.end_ms && t.start_ms ? dur(t.end_ms - t.start_ms) : "–"}</span></h3>` +
      `<pre class="log">${t.log ? esc(t.log) : '<span class="muted">(no log lines)</span>'}</pre></section>`).join("") || `<p class="muted">No tasks have started yet.</p>`);
  if ($("#run-detail").innerHTML !== html) $("#run-detail").innerHTML = html;
}
$("#trigger").addEventListener("click", async () => {
  const dag = $("#trigger-dag").value || "batch";
  const btn = $("#trigger");
  btn.disabled = true;
  try {
    const r = await authFetch("/api/runs/" + encodeURIComponent(dag), { method: "POST" });
    const body = await r.json();
    if (r.ok) { await pollRuns(); location.hash = "#runs/" + body.run_id; }
  } finally { btn.disabled = false; }
});

// ---------------------------------------------------------------- results
let daily = null, live = null;
const showAll = new Set();
const ORDERED_KEYS = ["post_year", "age_group"];  // keep their natural order
function csv(q) {
  const quote = (v) => { const s = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
  return [q.columns.map(quote).join(","), ...q.rows.map((r) => r.map(quote).join(","))].join("\n") + "\n";
}
function barsHtml(q) {
  const cols = q.columns, vi = cols.length - 1;
  if (!q.rows.length) return `<p class="muted">empty result</p>`;
  if (q.id === "q8" || (cols.length === 3 && ORDERED_KEYS.includes(cols[0]) && ORDERED_KEYS.includes(cols[1]))) return groupedHtml(q);
  let rows = q.rows.slice();
  if (!ORDERED_KEYS.includes(cols[0])) rows.sort((a, b) => (Number(b[vi]) || 0) - (Number(a[vi]) || 0));
  const all = showAll.has(q.id) || rows.length <= 20;
  const shown = all ? rows : rows.slice(0, 20);
  const max = Math.max(1, ...rows.map((r) => Number(r[vi]) || 0));
  const extra = cols.length > 2 ? 1 : -1;  // e.g. category / poster_name beside the label
  return `<div class="bars" role="list">` + shown.map((r) => {
    const v = Number(r[vi]) || 0;
    return `<div class="bar-row${extra > 0 ? " noted" : ""}" role="listitem"><span class="bar-label" title="${esc(r[0])}">${esc(r[0])}</span>` +
      (extra > 0 ? `<span class="bar-note" title="${esc(r[extra])}">${esc(r[extra])}</span>` : "") +
      `<span class="bar-track"><span class="bar-fill" style="width:${((100 * v) / max).toFixed(1)}%"></span></span><span class="bar-value">${esc(fmt.format(v))}</span></div>`;
  }).join("") + `</div>` +
    (rows.length > 20 ? `<button type="button" class="secondary toggle-all" data-q="${esc(q.id)}">${all ? "Show top 20" : `Show all ${rows.length}`}</button>` : "");
}
function groupedHtml(q) {
  const [g, s] = [0, 1], vi = 2;
  const groups = [...new Set(q.rows.map((r) => r[g]))].sort();
  const subs = [...new Set(q.rows.map((r) => r[s]))].sort();
  const max = Math.max(1, ...q.rows.map((r) => Number(r[vi]) || 0));
  const color = (i) => PALETTE[(i + 1) % PALETTE.length];
  return `<div class="legend">${subs.map((x, i) => `<span><i style="background:${color(i)}"></i>${esc(q.columns[s])} ${esc(x)}</span>`).join("")}</div>` +
    `<div class="bars grouped">` + groups.map((gv) => `<div class="group"><span class="bar-label">${esc(gv)}</span><div class="group-bars">` +
      subs.map((sv, i) => {
        const row = q.rows.find((r) => r[g] === gv && r[s] === sv);
        const v = row ? Number(row[vi]) || 0 : null;
        return `<div class="bar-row thin"><span class="bar-track"><span class="bar-fill" style="width:${v === null ? 0 : ((100 * v) / max).toFixed(1)}%;background:${color(i)}"></span></span><span class="bar-value">${v === null ? "–" : esc(fmt.format(v))}</span></div>`;
      }).join("") + `</div></div>`).join("") + `</div>`;
}
function tableHtml(q) {
  return `<div class="table-wrap result-table"><table><thead><tr>${q.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>` +
    (q.rows.length ? q.rows.map((r) => "<tr>" + r.map((c) => cell(c === null ? "" : esc(typeof c === "number" ? fmt.format(c) : c), typeof c === "number" ? "num" : "")).join("") + "</tr>").join("")
      : emptyRow(q.columns.length || 1, "empty result")) + "</tbody></table></div>";
}
function renderResults() {
  if (!daily || !daily.questions) return;
  $("#results-meta").innerHTML = `Daily answers of batch run <a href="#runs/${daily.run_id}">#${daily.run_id}</a>, finished ${when(daily.finished_ms)}` +
    (live ? ` · live answers as of ${when(live.finished_ms || live.time_ms)}` : "");
  const liveById = new Map(((live && live.questions) || []).map((q) => [q.id, q]));
  const open = new Set($$("details.result-details[open]").map((d) => d.dataset.q));
  $("#answers").innerHTML = daily.questions.map((q) => {
    const lq = liveById.get(q.id);
    const side = (label, x, kind) => `<div class="answer-side" data-kind="${kind}"><div class="side-head"><span class="label">${label}</span>` +
      `<a class="csv" download="${esc(x.id)}-${kind}.csv" href="data:text/csv;charset=utf-8,${encodeURIComponent(csv(x))}">CSV</a></div>${barsHtml(x)}</div>`;
    return `<article class="panel answer" id="answer-${esc(q.id)}"><h2><span class="qid">${esc(q.id)}</span> ${esc(q.title)}</h2>` +
      `<div class="answer-body ${lq ? "with-live" : ""}">${side("daily", q, "daily")}${lq ? side("live", lq, "live") : ""}</div>` +
      `<details class="result-details" data-q="${esc(q.id)}" ${open.has(q.id) ? "open" : ""}><summary>Table (${q.rows.length} rows)</summary>${tableHtml(q)}</details></article>`;
  }).join("");
  $$(".toggle-all").forEach((b) => b.addEventListener("click", () => {
    const id = b.dataset.q;
    if (showAll.has(id)) showAll.delete(id); else showAll.add(id);
    renderResults();
  }));
}
async function pollResults() {
  try { daily = await getJson("/api/results/latest"); } catch (e) { daily = null; }
  // The live-answers engine is optional: show its column only while it answers.
  try { live = await getJson("/api/answers/live"); } catch (e) { live = null; }
  renderResults();
}

// ---------------------------------------------------------------- routing
let currentView = "overview";
function route() {
  const [view, ...rest] = (location.hash.slice(1) || "overview").split("/");
  const arg = decodeURIComponent(rest.join("/"));
  currentView = ["overview", "topics", "tables", "runs", "results"].includes(view) ? view : "overview";
  $$(".view").forEach((v) => v.classList.toggle("hidden", v.id !== "view-" + currentView));
  $$(".tab").forEach((t) => {
    const on = t.dataset.view === currentView;
    t.classList.toggle("active", on);
    if (on) t.setAttribute("aria-current", "page"); else t.removeAttribute("aria-current");
  });
  if (currentView === "overview") drawCharts();
  if (currentView === "topics" && arg && arg !== browse.topic) openTopic(arg);
  if (currentView === "topics" && !arg && !browse.topic && status) {
    const first = (status.topics || [])[0];
    if (first) location.replace("#topics/" + encodeURIComponent(first.name));
  }
  if (currentView === "tables" && arg) openTable(arg);
  if (currentView === "tables" && !arg && !tableName && status) {
    const first = (status.stream_job.tables || [])[0];
    if (first) location.replace("#tables/" + encodeURIComponent(first.name));
  }
  if (currentView === "runs") { pollRuns(); if (arg) renderRunDetail(Number(arg)); }
  if (currentView === "results") pollResults();
}
window.addEventListener("hashchange", route);

async function start() {
  await pollStatus();
  await pollHistory();
  route();
  setInterval(pollStatus, 1000);
  setInterval(pollHistory, 1000);
  setInterval(() => { if (currentView === "runs") pollRuns(); }, 2000);
  setInterval(() => { if (currentView === "results") pollResults(); }, 10000);
  setInterval(() => { if (currentView === "tables" && tableName) openTable(tableName); }, 5000);
}
start();
