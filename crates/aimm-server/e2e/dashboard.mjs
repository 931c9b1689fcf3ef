// End to end in Chromium: node dashboard.mjs BASE TOKENS.json ARTIFACTS_DIR
//
// TOKENS.json: {"assessor": "...", "operator": "...", "engineer": "...", "admin": "..."}.
// The store behind BASE holds a demo cell, a pending proposal of the learning loop, and a
// machine `live-1` being simulated in real time. For every role: log in through the login
// page, open every page, and check that the plots draw real data (points, not only elements);
// the assessor is refused an approval, the engineer approves; the live machine's plot follows
// with less than 1 s delay. Every page's screenshot is kept in ARTIFACTS_DIR. Every request the
// browser makes must be a route of the OpenAPI document. Exits 1 naming every failure.
import { readFileSync, mkdirSync } from "node:fs";
import { launchBrowser } from "./browser.mjs";

const [base, tokensFile, artifacts] = process.argv.slice(2);
const tokens = JSON.parse(readFileSync(tokensFile, "utf8"));
mkdirSync(artifacts, { recursive: true });
const failures = [];
const fail = (what) => { failures.push(what); console.error("FAIL " + what); };
const note = (what) => console.log(what);

const spec = await (await fetch(base + "/api/openapi.json")).json();
const routes = Object.keys(spec.paths).map((p) => new RegExp("^" + p.replace(/\{[^}]+\}/g, "[^/]+") + "$"));
const seen = new Set();

const browser = await launchBrowser();

async function session(role) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => fail(`${role}: script error on ${page.url()}: ${e.message}`));
  page.on("request", (r) => { const u = new URL(r.url()); if (u.origin === new URL(base).origin) seen.add(u.pathname); });
  // Log in as a person does: the login page, the token, the button.
  await page.goto(base + "/proposals");
  if (!page.url().includes("/login")) fail(`${role}: a page without a session did not go to /login (${page.url()})`);
  await page.fill("#token", tokens[role]);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/login"), { timeout: 15000 }), page.click("button[type=submit]")]);
  if (!page.url().endsWith("/proposals")) fail(`${role}: after login not back on /proposals (${page.url()})`);
  const who = await page.textContent("header .role");
  if (who !== role) fail(`${role}: the header shows role ${who}`);
  return { context, page };
}

const api = (page, path) => page.evaluate(async (p) => { const r = await fetch(p); return r.ok ? r.json() : null; }, path);

// Points drawn in plot `id`: the number of non-null values of its data series.
const points = (page, id) => page.evaluate((id) => {
  const p = (window.AIMM_PLOTS || {})[id];
  if (!p || !p.data) return -1;
  return p.data.slice(1).reduce((n, s) => n + (s || []).filter((v) => v != null && !Number.isNaN(v)).length, 0)
    + (p.data.length === 1 ? p.data[0].length : 0);
}, id);

async function openPage(role, page, path, plots, check) {
  await page.goto(base + path, { waitUntil: "load" });
  for (const id of plots) {
    try {
      await page.waitForFunction((id) => { const p = (window.AIMM_PLOTS || {})[id]; return p && p.data && p.data[0] && p.data[0].length > 0; }, id, { timeout: 20000 });
    } catch { /* reported below */ }
    const n = await points(page, id);
    if (n <= 0) fail(`${role}: ${path}: plot '${id}' draws no points (${n})`);
    else note(`${role}: ${path}: plot '${id}' ${n} points`);
  }
  if (check) await check();
  const err = await page.$("#page-error");
  if (err) fail(`${role}: ${path}: ${await err.textContent()}`);
  const name = `${role}-${path.replace(/[^a-z0-9]+/gi, "_").replace(/^_|_$/g, "") || "overview"}.png`;
  await page.screenshot({ path: `${artifacts}/${name}`, fullPage: true });
}

// Every page, for every role.
for (const role of ["assessor", "operator", "engineer", "admin"]) {
  const { context, page } = await session(role);
  const programs = (await api(page, "/api/programs")) || [];
  const learned = programs.find((p) => p.versions.length > 1) || programs[0];
  const leaf = ((await api(page, "/api/ledger?type=control_action&limit=1")) || { records: [{ leaf: 0 }] }).records[0].leaf;
  const mill4 = await api(page, "/api/machines/mill-4");
  const tool = mill4 && mill4.tools.length ? mill4.tools[0].number : 1;
  await openPage(role, page, "/", ["oee"], async () => {
    const rows = await page.$$eval("#machines tbody tr", (t) => t.length);
    if (rows < 4) fail(`${role}: overview lists ${rows} machines`);
  });
  await openPage(role, page, "/machines/mill-1", ["load", "state", "cycle"]);
  await openPage(role, page, `/machines/mill-4/tools/${tool}`, ["wear", "offsets"]);
  await openPage(role, page, "/programs", [], async () => {
    const n = await page.$$eval("#programs table tr", (t) => t.length);
    if (n < 2) fail(`${role}: /programs lists no versions`);
  });
  if (learned) {
    await openPage(role, page, "/programs/" + encodeURIComponent(learned.name), [], async () => {
      await page.waitForSelector("#diff .add, #diff .del", { timeout: 15000 }).catch(() => fail(`${role}: no diff lines for ${learned.name}`));
    });
  } else fail(`${role}: no program in /api/programs`);
  await openPage(role, page, "/schedule", ["gantt", "power"]);
  await openPage(role, page, "/ledger", [], async () => {
    const n = await page.$$eval("#ledger-records tbody tr", (t) => t.length);
    if (n < 10) fail(`${role}: /ledger lists ${n} records`);
  });
  await openPage(role, page, `/ledger/${leaf}`, ["lineage"]);
  await openPage(role, page, "/assessment", [], async () => {
    if (role === "operator") return; // refused: checked by the authorisation matrix
    await page.waitForFunction(() => document.querySelectorAll("#assessment-criteria tbody tr").length > 5, null, { timeout: 60000 })
      .catch(() => fail(`${role}: the assessment shows no criteria`));
  });
  await context.close();
}

// Proposals: the assessor is refused, the engineer approves.
for (const role of ["assessor", "engineer"]) {
  const { context, page } = await session(role);
  await page.waitForSelector("button.approve[data-leaf]", { timeout: 15000 }).catch(() => {});
  const button = await page.$("button.approve[data-leaf]");
  if (!button) { fail(`${role}: no pending proposal to approve`); await context.close(); continue; }
  const leaf = await button.getAttribute("data-leaf");
  await button.click();
  await page.waitForSelector("#proposal-result p", { timeout: 15000 });
  const cls = await page.getAttribute("#proposal-result p", "class");
  const text = await page.textContent("#proposal-result p");
  await page.screenshot({ path: `${artifacts}/${role}-approve.png`, fullPage: true });
  if (role === "assessor" && !(cls === "error" && text.includes("may not"))) fail(`assessor approving ${leaf}: ${cls}: ${text}`);
  if (role === "engineer") {
    if (cls !== "ok" || !text.includes("released")) fail(`engineer approving ${leaf}: ${cls}: ${text}`);
    const record = (text.match(/#(\d+)/) || [])[1];
    const r = record && (await api(page, "/api/ledger/" + record));
    const ev = r && r.record;
    if (!ev || ev.type !== "control_action" || !JSON.stringify(ev.inputs).includes("engineer")) fail(`the release ${record} does not name the engineer: ${JSON.stringify(ev)}`);
    else note(`engineer approved proposal ${leaf}: release record ${record}`);
  }
  await context.close();
}

// Live: the load plot of the machine being simulated follows it within a second.
{
  const { context, page } = await session("operator");
  await page.goto(base + "/machines/live-1", { waitUntil: "load" });
  await page.waitForFunction(() => { const p = (window.AIMM_PLOTS || {}).load; return p && p.data[0].length > 0; }, null, { timeout: 30000 })
    .catch(() => fail("live-1: the load plot never drew"));
  const n0 = await points(page, "load");
  const delays = [];
  for (let i = 0; i < 8; i++) {
    await page.waitForTimeout(700);
    // The newest point drawn (x in s since the epoch) against the wall clock, read together.
    const d = await page.evaluate(() => { const x = window.AIMM_PLOTS.load.data[0]; return Date.now() - x[x.length - 1] * 1000; });
    delays.push(d);
  }
  const n1 = await points(page, "load");
  await page.screenshot({ path: `${artifacts}/live-1.png`, fullPage: true });
  const worst = Math.max(...delays);
  note(`live-1: ${n0} → ${n1} points; delay ${delays.map((d) => d.toFixed(0)).join(", ")} ms`);
  if (!(n1 > n0)) fail(`live-1: the plot did not grow (${n0} → ${n1})`);
  if (!(delays.length >= 5 && worst < 1000)) fail(`live-1: delays ${delays.join(", ")} ms (need < 1000)`);
  await context.close();
}

await browser.close();
const unlisted = [...seen].filter((p) => !routes.some((r) => r.test(p)));
if (unlisted.length) fail(`requests to routes not in the OpenAPI document: ${unlisted.join(", ")}`);
note(`${seen.size} distinct paths requested, all in the OpenAPI document`);
if (failures.length) { console.error(`${failures.length} failure(s)`); process.exit(1); }
note("ok");
