/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Reviews in the dashboard, in a real Chromium (Debian's /usr/bin/chromium
 * via playwright-core) against a real broker with JWT on, started by
 * tests/integration/test_dashboard_review.sh; the worker is played by
 * mosquitto_pub and mosquitto_sub. A viewer answers a review with a button
 * (keyboard only), the answer reaches the worker with the comment, the box
 * shows the decision with the token's subject; a review without offered
 * actions takes a typed answer; an observer's page shows the question and
 * the decision but offers no answer and no Cancel. Prints "ok - " / "FAIL - " lines; exits non-zero
 * on any failure.
 *
 * Env: JW_PORT, JW_WS_PORT, VIEWER (sub alice), OBSERVER, WORKER, ADMIN,
 * SCREENSHOT.
 */
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync, spawn } = require('child_process');

const env = process.env;
const port = env.JW_PORT;
const base = `http://127.0.0.1:${env.JW_WS_PORT}/`;
let fails = 0;
let passes = 0;

function ok(cond, what) {
  if (cond) { passes++; console.log(`ok - ${what}`); } else { fails++; console.log(`FAIL - ${what}`); }
}

function pub(token, topic, body) {
  execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-q', '1', '-u', 'w', '-P', token,
    '-t', topic, '-m', JSON.stringify(body)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/* The worker's side: the first control message on the job's topic. */
function firstControl(job) {
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-q', '1', '-u', 'w', '-P', env.WORKER,
    '-t', `jobs/s1/${job}/control`, '-C', '1', '-W', '20']);
  let out = '';
  sub.stdout.on('data', (d) => { out += d; });
  const done = new Promise((resolve) => sub.on('close', () => resolve(out.trim())));
  return { done, ready: new Promise((r) => setTimeout(r, 700)) };
}

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

const live = () => document.getElementById('conn').dataset.state === 'live';

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}#session=s1&token=${env.VIEWER}`);
  await waitFor(page, live, null, 'viewer page is live');

  // --- A question with actions: buttons and a comment field.
  pub(env.WORKER, 'jobs/s1/r1/started', { name: 'Z-stack 7' });
  const worker = firstControl('r1');
  await worker.ready;
  pub(env.WORKER, 'jobs/s1/r1/validation-required', {
    reason: 'Segmentation confidence below threshold', confidence: 0.41, threshold: 0.8,
    actions: ['approve', 'reject', 'rerun'],
  });
  await waitFor(page, () => {
    const b = document.getElementById('alert-r1');
    return b && /Segmentation confidence below threshold/.test(b.innerText) && /41%/.test(b.innerText) &&
      b.querySelectorAll('button[data-choice]').length === 3;
  }, null, 'the review box shows the reason, the confidence and one button per offered action');
  ok(await page.$eval('#alert-r1 [role="alert"]', (a) => /Review needed: Z-stack 7/.test(a.innerText)),
    'the question is announced (role="alert")');
  ok(await page.$eval('#alert-r1', (b) => {
    const c = b.querySelector('input.comment');
    const l = b.querySelector(`label[for="${c.id}"]`);
    return !!l && /Comment/.test(l.textContent) && b.querySelector('[role="group"]').getAttribute('aria-label') === 'Choices';
  }), 'the comment field has a label and the buttons are a labelled group');
  ok(await page.$eval('#alert-r1 button[data-choice="reject"]', (b) => b.getAttribute('aria-label') === 'reject: answer the review of Z-stack 7'),
    'each button says what it answers');

  // Keyboard only: focus the comment, type, tab to "reject", press Enter.
  await page.focus('#alert-r1 input.comment');
  await page.keyboard.type('membrane edge is blurred');
  await page.keyboard.press('Tab'); // approve
  await page.keyboard.press('Tab'); // reject
  ok(await page.evaluate(() => document.activeElement && document.activeElement.dataset.choice === 'reject'),
    'Tab reaches the choice buttons in order');
  await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
  await page.keyboard.press('Enter');
  const got = await worker.done;
  let msg = {};
  try { msg = JSON.parse(got); } catch (e) { /* checked below */ }
  ok(msg.action === 'review' && msg.choice === 'reject' && msg.comment === 'membrane edge is blurred',
    `the worker receives the review with choice and comment (${got})`);
  await waitFor(page, () => {
    const d = document.querySelector('#alert-r1 .decision');
    return d && !d.hidden && /Answered: reject by alice/.test(d.innerText) && /membrane edge is blurred/.test(d.innerText);
  }, null, 'the box shows the decision with the token subject and the comment');
  ok(await page.$eval('#alert-r1', (b) => [...b.querySelectorAll('button[data-choice]')].every((x) => x.disabled) &&
    b.querySelector('form').hidden), 'once answered, the buttons are gone');
  ok(await page.evaluate(() => document.activeElement === document.querySelector('#alert-r1 .decision')),
    'keyboard focus stays in the box, on the decision');
  ok(await page.$eval('[data-job="r1"]', (c) => /Review\s+reject by alice/.test(c.innerText)), 'the job card shows the decision');

  // The worker goes on: the box goes, the decision stays on the card.
  pub(env.WORKER, 'jobs/s1/r1/progress', { progress: 60 });
  await waitFor(page, () => !document.getElementById('alert-r1'), null, 'progress after the review removes the box');
  ok(await page.$eval('[data-job="r1"]', (c) => /Review\s+reject by alice/.test(c.innerText)), 'the card keeps the decision');

  // --- No actions offered: a typed answer.
  pub(env.WORKER, 'jobs/s1/r2/validation-required', { reason: 'Anything odd?', confidence: 0.5 });
  await waitFor(page, () => !!document.querySelector('#alert-r2 input.answer'), null, 'no actions offered: a labelled answer field');
  await page.fill('#alert-r2 input.answer', 'looks fine');
  await page.press('#alert-r2 input.answer', 'Enter');
  await waitFor(page, () => /Answered: looks fine by alice/.test(document.getElementById('alert-r2')?.innerText || ''), null,
    'a typed answer is sent and shown');

  // --- An observer (a wall display) sees the question, offers no answer
  // and no Cancel; the broker would refuse them anyway (test_review.sh).
  const obs = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await obs.goto(`${base}#session=s1&token=${env.OBSERVER}`);
  await waitFor(obs, live, null, 'observer page is live');
  pub(env.WORKER, 'jobs/s1/r3/validation-required', { reason: 'Check me', confidence: 0.3, actions: ['approve'] });
  await waitFor(obs, () => /Check me/.test(document.getElementById('alert-r3')?.innerText || ''), null, 'observer: sees the question');
  ok(await obs.$eval('#alert-r3', (b) => b.querySelector('form').hidden && /Read-only display/.test(b.innerText)),
    'observer: no answer controls, a read-only note instead');
  ok(await obs.$eval('[data-job="r3"] .actions', (a) => a.hidden), 'observer: no Cancel button');
  // The viewer's page still answers it.
  await waitFor(page, () => !!document.querySelector('#alert-r3 button[data-choice="approve"]'), null, 'viewer: sees the same question with its button');
  await page.click('#alert-r3 button[data-choice="approve"]');
  await waitFor(obs, () => /Answered: approve by alice/.test(document.getElementById('alert-r3')?.innerText || ''), null,
    "observer: shows the viewer's decision");
  const st = execFileSync('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-u', 'a', '-P', env.ADMIN,
    '-t', 'jobs/s1/r3/state', '-C', '1', '-W', '3']).toString();
  ok(JSON.parse(st).review?.by === 'alice', 'the state names the viewer, not the observer');
  await obs.close();

  ok(errors.length === 0, `no page errors (${errors.join('; ')})`);
  await browser.close();
  console.log(`${passes} passed, ${fails} failed`);
  process.exit(fails ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL - ${e.stack || e}`); process.exit(1); });
