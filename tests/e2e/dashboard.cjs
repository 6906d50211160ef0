// Browser test of the dashboard: headless Chromium (Debian's) driven by
// playwright-core loads /ui/ of a running pipeline, checks that the live
// numbers update and that the results view charts the latest batch run, and
// saves screenshots. Usage: node dashboard.cjs <base-url> <screenshot-dir>
"use strict";
const { chromium } = require("playwright-core");  // resolved through NODE_PATH (tests/peers)

const [base, shots] = process.argv.slice(2);
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };

async function main() {
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/ui/");
  await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 15000 });

  // The topics table lists the three topics with record counts.
  await page.waitForFunction(() => document.querySelectorAll("#topics tbody tr").length >= 3, null, { timeout: 15000 });
  const before = await page.textContent("#topics tbody");
  if (!before.includes(".pin")) fail("topics table does not list the pin topic: " + before);

  // Numbers update: wait until the records-per-second card shows a number.
  await page.waitForFunction(() => /\d/.test(document.querySelector("#rec-rate").textContent), null, { timeout: 15000 });
  const lakeObjects = await page.textContent("#lake-objects");
  if (!/\d/.test(lakeObjects)) fail("lake objects not shown: " + lakeObjects);
  await page.screenshot({ path: shots + "/dashboard-live.png", fullPage: true });

  // The results view renders one chart per question of the latest run.
  await page.click("a[data-view=results]");
  await page.waitForSelector("#chart-q1 svg rect.bar", { timeout: 30000 });
  const charts = await page.$$eval(".chart", (els) => els.map((e) => e.id));
  for (const q of ["q1", "q2", "q3a", "q3b", "q4", "q5", "q6", "q7", "q8"]) {
    if (!charts.includes("chart-" + q)) fail("missing chart for " + q + ": " + charts);
  }
  const bars = await page.$$eval("#chart-q1 rect.bar", (els) => els.length);
  if (bars < 1) fail("q1 chart has no bars");
  await page.screenshot({ path: shots + "/dashboard-results.png", fullPage: true });
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log("dashboard ok: " + charts.length + " charts, " + bars + " bars in q1");
} finally {
  await browser.close();
}
}

main().catch((e) => { console.error("FAIL: " + (e && e.stack || e)); process.exit(1); });
