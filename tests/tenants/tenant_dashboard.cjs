// The dashboard of a shared `pinpipe up` ([[tenants]]) in headless Chromium
// (Debian's, through playwright-core): without a key the page asks for one;
// with alice's key (entered once, kept in sessionStorage, sent as x-api-key)
// every view shows alice's names and none of bob's; the admin key sees both.
// Usage: node tenant_dashboard.cjs <base-url> <alice key> <admin key>
"use strict";
const { chromium } = require("playwright-core");  // resolved through NODE_PATH (tests/peers)

const [base, aliceKey, adminKey] = process.argv.slice(2);
const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };
const VIEWS = ["overview", "topics", "tables", "runs", "results"];

async function textOfEveryView(page) {
  let all = "";
  for (const view of VIEWS) {
    await page.goto(base + "/ui/#" + view);
    await page.waitForTimeout(view === "overview" ? 1500 : 800);
    all += await page.evaluate(() => document.querySelector("main").innerText + " " +
      Array.from(document.querySelectorAll("select option")).map((o) => o.value).join(" "));
  }
  return all;
}

async function useKey(page, key) {
  await page.waitForSelector("#key-form:not([hidden])", { timeout: 15000 });
  await page.fill("#api-key", key);
  await Promise.all([page.waitForNavigation(), page.click("#key-form button[type=submit]")]);
  await page.waitForFunction(() => document.querySelector("#conn").textContent === "live", null, { timeout: 15000 });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    current = page;
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const keysSent = new Set();
    page.on("request", (r) => { if (r.url().includes("/api/")) keysSent.add(r.headers()["x-api-key"] || "(none)"); });

    // No key: the status API refuses and the page asks for a key.
    await page.goto(base + "/ui/#overview");
    await useKey(page, aliceKey);
    if (await page.evaluate(() => sessionStorage.getItem("pinpipe.apiKey")) !== aliceKey) fail("key not kept in sessionStorage");
    if (await page.evaluate(() => localStorage.length) !== 0) fail("something was written to localStorage");
    // alice's names are shown short under her prefix ("pin" for alice.pin).
    await page.waitForFunction(() => document.querySelector("#prefix").textContent === "alice" &&
      document.querySelector("#topics tbody").innerText.includes("pin"), null, { timeout: 15000 });
    const alice = await textOfEveryView(page);
    for (const want of ["batch-alice"]) {
      if (!alice.includes(want)) fail(`alice's view lacks ${want}`);
    }
    for (const bad of ["bob.", "streaming-bob", "bob_", "batch-bob"]) {
      if (alice.includes(bad)) fail(`alice's view shows ${bad}: ` + alice.slice(alice.indexOf(bad) - 80, alice.indexOf(bad) + 40));
    }
    if (!keysSent.has(aliceKey)) fail("the page did not send x-api-key");

    // Forget, then the admin: every tenant's names.
    await Promise.all([page.waitForNavigation(), page.click("#key-forget")]);
    await useKey(page, adminKey);
    await page.waitForFunction(() => document.querySelector("#topics tbody").innerText.includes("bob.pin"), null, { timeout: 15000 });
    const admin = await textOfEveryView(page);
    for (const want of ["alice.pin", "bob.pin", "streaming-alice-pin", "streaming-bob-pin", "batch-alice", "batch-bob"]) {
      if (!admin.includes(want)) fail(`the admin's view lacks ${want}`);
    }

    // A new tab (a new session) starts without a key.
    const other = await context.newPage();
    await other.goto(base + "/ui/#overview");
    await other.waitForSelector("#key-form:not([hidden])", { timeout: 15000 });
    if (errors.length) fail("page errors: " + errors.join(" | "));
    console.log("tenant dashboard ok");
  } finally {
    await browser.close();
  }
}
let current = null;  // the page, for the failure message
main().catch(async (e) => {
  let state = "";
  try {
    state = await current.evaluate(() => `conn=${document.querySelector("#conn").textContent} form hidden=${document.querySelector("#key-form").hidden} key=${sessionStorage.getItem("pinpipe.apiKey") ? "set" : "unset"} topics=${document.querySelector("#topics tbody").innerText.slice(0, 200)}`);
  } catch (ignored) { /* the page is gone */ }
  fail((e.stack || String(e)) + "\npage: " + state);
});
