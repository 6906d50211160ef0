// The live answers panel: the eight questions from GET /api/answers/live
// (the streaming job's answers, kept exact as rows arrive), redrawn in place
// once a second. Self-contained: it adds its own panel to the live view (or
// to <main>) and reads nothing but that endpoint, the contract it shares with
// `pinpipe answers --live`.
(function () {
  "use strict";
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const host = document.getElementById("view-overview") || document.querySelector("main") || document.body;
  const panel = document.createElement("div");
  panel.className = "panel live-answers";
  panel.id = "live-answers";
  panel.innerHTML = '<h2>Live answers</h2><p class="muted" id="live-answers-meta">waiting for the streaming job…</p><div id="live-answers-body"></div>';
  host.appendChild(panel);
  const meta = panel.querySelector("#live-answers-meta");
  const body = panel.querySelector("#live-answers-body");
  const shown = new Map();  // question id -> rendered rows, to touch only what changed

  function render(doc) {
    const asOf = Object.entries(doc.as_of || {})
      .map(([k, v]) => `${k} v${v.delta_version} (${v.rows} rows)`).join(", ");
    const fresh = typeof doc.freshness_ms === "number" ? `; fresh to ${doc.freshness_ms} ms` : "";
    meta.textContent = `as of ${asOf}${fresh}`;
    for (const q of doc.questions || []) {
      let box = body.querySelector(`[data-q="${q.id}"]`);
      if (!box) {
        box = document.createElement("div");
        box.dataset.q = q.id;
        box.innerHTML = `<h3>${esc(q.id)}: ${esc(q.title)}</h3><div class="table-wrap"><table><thead><tr>${q.columns.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody></tbody></table></div>`;
        body.appendChild(box);
      }
      const html = q.rows.map((r) => `<tr>${r.map((v) => `<td>${v === null ? "" : esc(v)}</td>`).join("")}</tr>`).join("");
      if (shown.get(q.id) !== html) {
        box.querySelector("tbody").innerHTML = html;
        shown.set(q.id, html);
      }
    }
  }

  async function poll() {
    try {
      const r = await (window.authFetch || fetch)("/api/answers/live", { cache: "no-store" });
      const doc = await r.json();
      if (r.ok) render(doc); else meta.textContent = doc.message || `HTTP ${r.status}`;
    } catch (e) {
      meta.textContent = `unreachable: ${e}`;
    }
  }
  poll();
  setInterval(poll, 1000);
})();
