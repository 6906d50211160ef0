// Browser test of the dashboard: headless Chromium (Debian's) driven by
// playwright-core against a running pipeline. Every view renders without a
// console error or "undefined"/"NaN"; the live charts gain points while
// records are posted; the topic browser shows a posted record's exact JSON;
// a run triggered from the Runs view appears with its task log; the Delta
// table and Results views render; nothing is wider than the viewport at 1280
// and 390 px. Screenshots of each view go to <screenshot-dir>.
// Usage: node dashboard.cjs <base-url> <screenshot-dir> <prefix>
"use strict";
const assert = require("node:assert");
const { chromium } = require("playwright-core");  // resolved through NODE_PATH (tests/peers)

const [base, shots, prefix = "0a60b9a8a831"] = process.argv.slice(2);
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const topic = prefix + ".pin";

// Elements that stick out of the viewport and are not inside a scroll box.
async function overflowing(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const bad = [];
    if (document.documentElement.scrollWidth > vw + 1) bad.push("document scrollWidth " + document.documentElement.scrollWidth + " > " + vw);
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= vw + 1) continue;
      let clipped = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const ox = getComputedStyle(a).overflowX;
        if ((ox === "auto" || ox === "scroll" || ox === "hidden") && a.getBoundingClientRect().right <= vw + 1) { clipped = true; break; }
      }
      if (!clipped) bad.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className} right=${Math.round(r.right)}`);
    }
    return bad.slice(0, 5);
  });
}

async function checkText(page, view) {
  const text = await page.evaluate(() => document.querySelector("main").innerText);
  for (const word of ["undefined", "NaN", "[object Object]"]) {
    if (text.includes(word)) fail(`${view} shows "${word}": ` + text.slice(Math.max(0, text.indexOf(word) - 120), text.indexOf(word) + 40));
  }
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      // The optional live-answers endpoint answers 404 when its engine is absent; the page hides its column.
      if (m.type() === "error" && !(m.location().url || "").includes("/api/answers/live")) errors.push(m.text() + " " + (m.location().url || ""));
    });

    // Overview: charts from the server's sample ring; points grow while records arrive.
    await page.goto(base + "/ui/#overview");
    await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 15000 });
    await page.waitForSelector("#chart-in .uplot", { timeout: 15000 });
    const points = () => page.$eval("#chart-in", (e) => Number(e.dataset.points));
    const before = await points();
    const marker = "e2e-" + Date.now();
    const posted = { index: 987654, unique_id: marker, title: "Dashboard \"quote\" test ✓", category: "art", nested: { a: [1, 2.5, null, true] } };
    for (let i = 0; i < 6; i++) {
      const records = [{ value: i === 3 ? posted : { index: 900000 + i, unique_id: "bulk-" + i, title: "t", category: "art" } }];
      const r = await page.evaluate(async ([url, body]) => (await fetch(url, { method: "POST", headers: { "Content-Type": "application/vnd.kafka.json.v2+json" }, body })).status,
        [base + "/topics/" + topic, JSON.stringify({ records })]);
      if (r !== 200) fail("posting a record answered " + r);
      await page.waitForTimeout(500);
    }
    await page.waitForFunction((n) => Number(document.querySelector("#chart-in").dataset.points) >= n + 3, before, { timeout: 15000 });
    const after = await points();
    for (const id of ["chart-in", "chart-out", "chart-sinklag", "chart-streamlag", "chart-produce", "chart-commit"]) {
      const series = await page.$eval("#" + id, (e) => Number(e.dataset.series));
      if (!(series >= 1)) fail(id + " has no series");
    }
    await page.waitForFunction(() => /\d/.test(document.querySelector("#rec-rate").textContent), null, { timeout: 15000 });

    // Live answers: a post from a new country (geo first, its pin a moment later, through the
    // API Gateway Kinesis route) shows up in the overview's live q1 table without a reload.
    await page.waitForSelector('#live-answers [data-q="q1"] tbody tr', { timeout: 30000 });
    const liveQ1 = () => page.$eval('#live-answers [data-q="q1"] tbody', (e) => e.textContent);
    if ((await liveQ1()).includes("Zanzibar")) fail("live q1 shows Zanzibar before it was posted");
    for (const [table, data] of [
      ["geo", { ind: 987001, country: "Zanzibar", timestamp: "2020-01-01 00:00:00", latitude: 1, longitude: 2 }],
      ["pin", { index: 987001, category: "zebras", poster_name: "Z", follower_count: "9M", title: "t" }]]) {
      const stream = "streaming-" + prefix + "-" + table;
      const r = await page.evaluate(async ([url, body]) => (await fetch(url, { method: "PUT", headers: { "Content-Type": "application/json" }, body })).status,
        [base + "/streams/" + stream + "/record", JSON.stringify({ StreamName: stream, Data: data, PartitionKey: "p" })]);
      if (r !== 200) fail("posting a " + table + " record answered " + r);
    }
    await page.waitForFunction(() => (document.querySelector('#live-answers [data-q="q1"] tbody') || {}).textContent.includes("Zanzibar"), null, { timeout: 15000 })
      .catch(() => fail("the live q1 answer did not change after the post"));
    await checkText(page, "overview");
    await page.screenshot({ path: shots + "/overview.png", fullPage: true });

    // Topic browser: open the topic, filter by the marker, read the exact JSON back.
    await page.click("a.tab[data-view=topics]");
    await page.click(`#topic-list a[href="#topics/${encodeURIComponent(topic)}"]`);
    await page.waitForSelector("#partitions tbody tr td", { timeout: 10000 });
    await page.waitForSelector("#records .record", { timeout: 10000 });
    await page.fill("#b-filter", marker);
    await page.click("#browse-form button[type=submit]");
    await page.waitForFunction(() => document.querySelectorAll("#records .record").length === 1 && document.querySelector("#b-range").textContent.includes("match"), null, { timeout: 10000 });
    const shown = await page.textContent("#records .record pre.value");
    assert.deepStrictEqual(JSON.parse(shown), posted, "the browser shows the posted record");
    await checkText(page, "topics");
    await page.fill("#b-filter", "");
    await page.click("#b-newest");
    await page.waitForFunction(() => document.querySelectorAll("#records .record").length > 1, null, { timeout: 10000 });
    // Paging: the older page ends where the newest began.
    await page.selectOption("#b-limit", "20");
    await page.click("#b-newest");
    await page.waitForFunction(() => document.querySelectorAll("#records .record").length === 20, null, { timeout: 10000 });
    const newestLow = await page.$eval("#records .record:last-child", (e) => Number(e.dataset.offset));
    await page.click("#b-older");
    await page.waitForFunction((low) => Number(document.querySelector("#records .record").dataset.offset) === low - 1, newestLow, { timeout: 10000 });
    await page.selectOption("#b-limit", "50");
    await page.click("#b-newest");
    await page.waitForFunction(() => document.querySelectorAll("#records .record").length > 20, null, { timeout: 10000 });
    await page.screenshot({ path: shots + "/topics.png", fullPage: false });

    // Delta tables: versions, schema, newest rows.
    await page.goto(base + `/ui/#tables/${prefix}_pin_table`);
    await page.waitForSelector("#table-history tbody tr td.num", { timeout: 15000 });
    await page.waitForSelector("#table-preview tbody tr td", { timeout: 15000 });
    const files = await page.$$eval("#table-history tbody tr", (rows) => rows.map((r) => r.children[4].textContent));
    if (!files.some((f) => /^\d+$/.test(f))) fail("table history has no files column: " + files);
    await checkText(page, "tables");
    await page.screenshot({ path: shots + "/tables.png", fullPage: true });

    // Runs: trigger, then the new run shows with its task log.
    await page.click("a.tab[data-view=runs]");
    await page.waitForSelector("#run-grid .run-col", { timeout: 10000 });
    const oldRuns = await page.$$eval("#run-grid .run-col", (e) => e.length);
    await page.click("#trigger");
    await page.waitForFunction(() => /^#runs\/\d+$/.test(location.hash), null, { timeout: 10000 });
    const runId = Number((await page.evaluate(() => location.hash)).split("/")[1]);
    await page.waitForFunction((n) => document.querySelectorAll("#run-grid .run-col").length > n, oldRuns, { timeout: 10000 });
    await page.waitForFunction(() => (document.querySelector("#task-check_input pre.log") || {}).textContent?.includes("input present"), null, { timeout: 60000 });
    await page.waitForFunction(() => /success|failed/.test((document.querySelector("#run-detail h2 .badge") || {}).textContent || ""), null, { timeout: 90000 });
    const heading = await page.textContent("#run-detail h2");
    if (!heading.includes("#" + runId)) fail("run detail shows " + heading + ", not run " + runId);
    await checkText(page, "runs");
    await page.screenshot({ path: shots + "/runs.png", fullPage: true });

    // Results: readable bars, top 20 with show all, grouped q8, CSV per question.
    await page.click("a.tab[data-view=results]");
    await page.waitForSelector("#answer-q1 .bar-row", { timeout: 30000 });
    for (const q of ["q1", "q2", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8"]) {
      if (!(await page.$(`#answer-${q} a.csv`))) fail("no CSV link for " + q);
    }
    const q1Rows = await page.$$eval("#answer-q1 [data-kind=daily] .bars > .bar-row", (e) => e.length);
    if (q1Rows < 1 || q1Rows > 20) fail("q1 shows " + q1Rows + " bars, want 1..20");
    if (await page.$("#answer-q1 .toggle-all")) {
      await page.click("#answer-q1 .toggle-all");
      const all = await page.$$eval("#answer-q1 [data-kind=daily] .bars > .bar-row", (e) => e.length);
      if (all <= 20) fail("show all kept " + all + " bars");
      await page.click("#answer-q1 .toggle-all");
    }
    if (!(await page.$("#answer-q8 .group"))) fail("q8 is not a grouped chart");
    const csvHref = await page.getAttribute("#answer-q1 [data-kind=daily] a.csv", "href");
    if (!decodeURIComponent(csvHref).includes("country,category,category_count")) fail("q1 CSV header: " + decodeURIComponent(csvHref).slice(0, 80));
    await checkText(page, "results");
    await page.screenshot({ path: shots + "/results.png", fullPage: true });

    // No element wider than the viewport, at desktop and phone widths, in every view.
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const view of ["overview", `topics/${topic}`, `tables/${prefix}_pin_table`, "runs/" + runId, "results"]) {
        await page.goto(base + "/ui/#" + view);
        await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 15000 });
        await page.waitForTimeout(1200);
        const bad = await overflowing(page);
        if (bad.length) fail(`at ${width} px, #${view} overflows: ${bad.join("; ")}`);
        await checkText(page, view);
        await page.evaluate(() => window.scrollTo(0, 0));
        if (width === 390) await page.screenshot({ path: `${shots}/mobile-${view.split("/")[0]}.png`, fullPage: false });
      }
    }
    // Dark theme follows the browser setting.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: "dark" });
    for (const view of ["overview", "results"]) {
      await page.goto(base + "/ui/#" + view);
      await page.reload();
      await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 15000 });
      await page.waitForTimeout(1200);
      await page.evaluate(() => window.scrollTo(0, 0));
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      if (bg === "rgb(244, 245, 247)") fail("dark scheme kept the light background");
      await page.screenshot({ path: `${shots}/dark-${view}.png`, fullPage: false });
    }
    if (errors.length) fail("console errors: " + errors.join("; "));
    console.log(`dashboard ok: chart points ${before} -> ${after}, record ${marker} found, run ${runId} with log`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error("FAIL: " + (e && e.stack || e)); process.exit(1); });
