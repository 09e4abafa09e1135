/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the dashboard's browser tests share: TAP-like "ok - " / "FAIL - "
 * lines (counted by tests/integration/lib_browser.sh), waiting for a
 * condition in the page, Debian's Chromium (never a downloaded browser),
 * and the exit status.
 */
'use strict';
const { chromium } = require('playwright-core');

const env = process.env;
const counts = { passes: 0, fails: 0 };

function ok(cond, what) {
  if (cond) counts.passes++; else counts.fails++;
  console.log(`${cond ? 'ok' : 'FAIL'} - ${what}`);
}

/* Waits (at most timeout ms) for fn(arg) to hold in page; one ok line. */
async function waitFor(page, fn, arg, what, timeout = 8000) {
  try {
    await page.waitForFunction(fn, arg, { timeout });
    ok(true, what);
    return true;
  } catch (e) {
    ok(false, `${what} (timed out)`);
    return false;
  }
}

/* Debian's /usr/bin/chromium, headless. */
function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/* Runs main; exits 1 after any FAIL line or a throw. */
function run(main) {
  main().then(() => process.exit(counts.fails ? 1 : 0), (e) => {
    console.log(`FAIL - ${(e && e.stack) || e}`);
    process.exit(1);
  });
}

module.exports = { env, base: `http://127.0.0.1:${env.JW_WS_PORT}/`, counts, ok, waitFor, launch, run };
