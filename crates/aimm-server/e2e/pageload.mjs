// Page load times for `aimm bench web`: node pageload.mjs BASE TOKEN PATH... prints JSON
// {path: ms} — from navigation to every plot on the page holding data (or, for /login, to the
// load event), best of three loads each, plus /login as the baseline.
import { launchBrowser } from "./browser.mjs";

const [base, token, ...paths] = process.argv.slice(2);
const browser = await launchBrowser();
const context = await browser.newContext();
await context.addCookies([{ name: "aimm_session", value: token, url: base }]);
const page = await context.newPage();
const out = {};
for (const path of ["/login", ...paths]) {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await page.goto(base + path, { waitUntil: "load" });
    if (path !== "/login") {
      await page.waitForFunction(() => {
        const plots = Object.values(window.AIMM_PLOTS || {});
        return plots.length > 0 && plots.every((p) => p.data && p.data[0] && p.data[0].length > 0);
      }, null, { timeout: 30000 });
    }
    best = Math.min(best, Date.now() - t0);
  }
  out[path] = best;
}
await browser.close();
console.log(JSON.stringify(out));
