// pinpipe dashboard: polls the JSON status API (docs/status-api.md) and draws
// the live view and the latest batch results. No external libraries: charts
// are plain SVG.
"use strict";

const $ = (sel) => document.querySelector(sel);
const fmt = new Intl.NumberFormat("en-US");
const num = (v) => (v === null || v === undefined ? "–" : fmt.format(Math.round(v)));
const rate = (v) => (v === null || v === undefined ? "–" : v >= 100 ? fmt.format(Math.round(v)) : v.toFixed(1));
function bytes(v) {
  if (v === null || v === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(1)) + " " + units[i];
}
function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function when(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–"; }
function fillTable(sel, rows) {
  $(sel + " tbody").innerHTML = rows.length
    ? rows.map((r) => "<tr>" + r.map((c, i) => `<td class="${i > 0 && typeof c !== "string" ? "num" : ""}">${typeof c === "string" && c.startsWith("<") ? c : esc(typeof c === "number" ? fmt.format(c) : c)}</td>`).join("") + "</tr>").join("")
    : `<tr><td colspan="9" class="muted">none yet</td></tr>`;
}

// Rates come from successive snapshots of the counters.
let previous = null;
function perSecond(now, prev, pick) {
  if (!prev) return null;
  const dt = (now.time_ms - prev.time_ms) / 1000;
  if (dt <= 0) return null;
  return Math.max(0, (pick(now) - pick(prev)) / dt);
}
function byName(list) { const m = new Map(); (list || []).forEach((x) => m.set(x.name, x)); return m; }

function renderStatus(s) {
  $("#prefix").textContent = "prefix " + s.prefix;
  const prev = previous;
  const reqRate = perSecond(s, prev, (x) => x.api.requests);
  const recRate = perSecond(s, prev, (x) => x.api.records);
  $("#req-rate").textContent = rate(reqRate);
  $("#rec-rate").textContent = rate(recRate);
  $("#sink-lag").textContent = s.sink.enabled ? num(s.sink.lag) : "off";
  const lags = (s.stream_job.tables || []).map((t) => t.lag_ms || 0);
  $("#stream-lag").textContent = s.stream_job.enabled ? num(lags.length ? Math.max(...lags) : 0) : "off";
  $("#lake-objects").textContent = num(s.lake.objects);
  $("#lake-bytes").textContent = bytes(s.lake.bytes);

  const logRows = (list, prevList) => {
    const before = byName(prevList);
    return (list || []).map((t) => {
      const p = before.get(t.name);
      const r = p && prev ? perSecond({ time_ms: s.time_ms, v: t.records }, { time_ms: prev.time_ms, v: p.records }, (x) => x.v) : null;
      return [t.name, t.partitions, t.records, rate(r), bytes(t.bytes)];
    });
  };
  fillTable("#topics", logRows(s.topics, prev && prev.topics));
  fillTable("#streams", logRows(s.streams, prev && prev.streams));
  fillTable("#sink", (s.sink.partitions || []).map((p) => [`${p.topic}[${p.partition}]`, p.committed_offset, p.lag, p.objects, bytes(p.bytes)]));
  fillTable("#tables", (s.stream_job.tables || []).map((t) => [t.name, t.version, t.rows, t.files, t.lag_ms]));
  $("#dags").textContent = (s.scheduler.dags || []).map((d) => `${d.name}: ${d.schedule || "manual"}, next ${when(d.next_fire_ms)}`).join(" · ");
  fillTable("#runs", (s.scheduler.runs || []).map((r) => [
    String(r.id), r.dag, r.trigger, `<span class="state-${esc(r.state)}">${esc(r.state)}</span>`, when(r.start_ms),
    r.end_ms && r.start_ms ? ((r.end_ms - r.start_ms) / 1000).toFixed(1) + " s" : "–"]));
  $("#errors").innerHTML = (s.errors || []).length
    ? s.errors.slice().reverse().map((e) => `<li><span class="muted">${when(e.time_ms)} ${esc(e.component)}</span> ${esc(e.message)}</li>`).join("")
    : `<li class="muted">none</li>`;
  previous = s;
}

async function pollStatus() {
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    renderStatus(await r.json());
    $("#conn").textContent = "live";
    $("#conn").className = "pill ok";
  } catch (e) {
    $("#conn").textContent = "disconnected";
    $("#conn").className = "pill bad";
  }
}

// A horizontal bar chart of one question's result.
function barChart(q) {
  const cols = q.columns;
  const valueCol = cols.length - 1;
  const rows = q.rows.slice(0, 25);
  const labelOf = (r) => r.slice(0, valueCol).filter((_, i) => cols[i] !== "category" || valueCol === 1).join(" · ");
  const suffixOf = (r) => (cols.includes("category") && valueCol > 1 ? " (" + r[cols.indexOf("category")] + ")" : "");
  const max = Math.max(1, ...rows.map((r) => Number(r[valueCol]) || 0));
  const barH = 16, gap = 4, labelW = 170, width = 520, h = rows.length * (barH + gap) + 4;
  const bars = rows.map((r, i) => {
    const v = Number(r[valueCol]) || 0;
    const w = Math.max(1, ((width - labelW - 70) * v) / max);
    const y = i * (barH + gap);
    const label = (labelOf(r) + suffixOf(r)).slice(0, 34);
    return `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${esc(label)}</text>` +
      `<rect class="bar" x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}"><title>${esc(labelOf(r))}: ${esc(v)}</title></rect>` +
      `<text x="${labelW + w + 4}" y="${y + 12}">${esc(fmt.format(v))}</text>`;
  }).join("");
  return `<svg viewBox="0 0 ${width} ${Math.max(h, 20)}" role="img" aria-label="${esc(q.title)}">${bars}</svg>`;
}

function renderResults(res) {
  if (!res || !res.questions) return;
  $("#results-meta").textContent = `Batch run ${res.run_id} finished ${when(res.finished_ms)}; results in ${res.location}`;
  $("#charts").innerHTML = res.questions.map((q) => {
    const table = `<table><thead><tr>${q.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>` +
      (q.rows.length ? q.rows.slice(0, 50).map((r) => "<tr>" + r.map((c) => `<td>${esc(c === null ? "" : c)}</td>`).join("") + "</tr>").join("")
        : `<tr><td colspan="${q.columns.length}" class="muted">empty result</td></tr>`) + "</tbody></table>";
    return `<div class="chart" id="chart-${esc(q.id)}"><h3>${esc(q.id)}</h3><div class="q">${esc(q.title)}</div>` +
      `<div class="chart-body"><div>${q.rows.length ? barChart(q) : ""}</div><div>${table}</div></div></div>`;
  }).join("");
}

async function pollResults() {
  try {
    const r = await fetch("/api/results/latest", { cache: "no-store" });
    if (r.ok) renderResults(await r.json());
  } catch (e) { /* the live view shows the connection state */ }
}

function showView(name) {
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("hidden", v.id !== "view-" + name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === name));
  if (name === "results") pollResults();
}
window.addEventListener("hashchange", () => showView(location.hash === "#results" ? "results" : "live"));
$("#trigger-batch").addEventListener("click", async () => {
  await fetch("/api/runs/batch", { method: "POST" });
  pollStatus();
});

showView(location.hash === "#results" ? "results" : "live");
pollStatus();
pollResults();
setInterval(pollStatus, 1000);
setInterval(pollResults, 5000);
