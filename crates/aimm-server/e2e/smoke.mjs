// Proves the end-to-end set-up works: a tiny page served on 127.0.0.1, opened in Debian's
// Chromium through launchBrowser(), a button clicked that changes a text, a screenshot saved.
// Usage: node smoke.mjs SCREENSHOT_DIR (exits 0 only if the text changed).

import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from './browser.mjs';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>aimm e2e smoke</title></head>
<body style="font: 24px sans-serif; margin: 2em">
  <p id="status">waiting</p>
  <button id="go" onclick="document.getElementById('status').textContent = 'clicked'">Go</button>
</body></html>`;

async function main() {
  const shots = process.argv[2];
  if (!shots) {
    console.error('usage: node smoke.mjs SCREENSHOT_DIR');
    return 2;
  }
  mkdirSync(shots, { recursive: true });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  // Port 0: the OS picks a free port, so parallel runs never collide.
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    const before = await page.textContent('#status');
    await page.click('#go');
    await page.waitForFunction(() => document.getElementById('status').textContent !== 'waiting', null, {
      timeout: 5000,
    });
    const after = await page.textContent('#status');
    const shot = join(shots, 'smoke.png');
    await page.screenshot({ path: shot });
    const ok = before === 'waiting' && after === 'clicked';
    console.log(`${ok ? 'ok' : 'FAILED'}: text "${before}" -> "${after}" at ${url}; screenshot ${shot}`);
    return ok ? 0 : 1;
  } finally {
    await browser.close();
    server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
