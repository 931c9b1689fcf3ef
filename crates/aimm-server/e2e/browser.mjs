// launchBrowser(): Debian's Chromium driven by playwright-core, set up for this project's test
// machines. playwright-core ships no browser, so it is pointed at the system chromium that
// scripts/services/chromium.sh installs (scripts/services/playwright.sh exports its path as
// AIMM_CHROMIUM).

import { chromium } from 'playwright-core';

// Why each flag:
// --no-sandbox: the tests run as root (CI does), where Chromium's sandbox refuses to start.
// --disable-gpu: there is no GPU and no display.
// --disable-quic, --disable-background-networking, --disable-component-update, --disable-sync:
//   the machines have no network beyond loopback; without these Chromium keeps reaching out
//   for updates, sync and field trials, and the closed network refuses those connections.
// --no-first-run: no first-run UI or import on a fresh profile.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium. `chromium.launch` gives it a fresh temporary user-data dir of its
 * own and removes it on `browser.close()`, so runs never share a profile.
 * @param {import('playwright-core').LaunchOptions} [options] merged over the defaults
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchBrowser(options = {}) {
  return chromium.launch({
    executablePath: process.env.AIMM_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    ...options,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}
