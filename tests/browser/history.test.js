/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * A job's timeline on the dashboard in a real Chromium (Debian's
 * /usr/bin/chromium via playwright-core) against a real broker with JWT on,
 * started by tests/integration/test_dashboard_history.sh, the worker played
 * by MQTT.js in Node: a page opened after a job ran shows its whole history
 * (started, steps, the failure, the retry, attempt 2, the end); a reloaded
 * page keeps its client id and shows the timeline again; a job seen live
 * grows its timeline; after a dropped connection, what was published
 * meanwhile arrives and the timeline has no gap. Prints "ok - " / "FAIL - "
 * lines; exits non-zero on any failure.
 *
 * Env: JW_PORT, JW_WS_PORT, VIEWER, WORKER, ADMIN, SCREENSHOT.
 */
'use strict';
const mqtt = require('mqtt');
const { env, base, ok, waitFor, launch, run } = require('./lib');

/* The timeline lines of a job's card, as "kind: text" (time left out). */
const timelineOf = (job) => `Array.from(document.querySelectorAll('[data-job="${job}"] .timeline li'))` +
  `.map((li) => li.dataset.kind + ': ' + li.textContent.replace(/^\\S*\\s/, ''))`;

async function client(id, password) {
  const c = mqtt.connect(`mqtt://127.0.0.1:${env.JW_PORT}`, {
    username: id, password, protocolVersion: 5, clientId: id, reconnectPeriod: 0,
  });
  await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
  return c;
}

async function main() {
  const worker = await client('hist-worker', env.WORKER);
  const admin = await client('hist-admin', env.ADMIN);
  const send = (job, type, body) => worker.publishAsync(`jobs/s1/${job}/${type}`, JSON.stringify(body), { qos: 1 });

  // --- A job that ran, failed, was retried and completed before the page opened.
  await send('scan', 'started', { name: 'Z-stack 7', worker: 'scope-2' });
  await send('scan', 'progress', { progress: 10, step: 'load' });
  await send('scan', 'progress', { progress: 30, step: 'segment' });
  await send('scan', 'progress', { progress: 40, step: 'segment' });
  await send('scan', 'failed', { error: 'GPU lost', retryable: true });
  await admin.publishAsync('jobs/s1/scan/control', JSON.stringify({ action: 'retry' }), { qos: 1 });
  await send('scan', 'started', { name: 'Z-stack 7', worker: 'scope-3' });
  await send('scan', 'progress', { progress: 50, step: 'segment' });
  await send('scan', 'complete', { result: { planes: 80 } });
  const want = ['started: Started on scope-2', 'step: Step: load', 'step: Step: segment', 'failed: Failed: GPU lost',
    'control: Retry requested', 'attempt: Attempt 2', 'started: Started on scope-3', 'step: Step: segment',
    'complete: Complete'];

  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${base}#session=s1&token=${env.VIEWER}`);
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'dashboard is live');
  await waitFor(page, `${timelineOf('scan')}.length === ${want.length}`, null, 'a job that ran before the page opened has its timeline');
  const got = await page.evaluate(timelineOf('scan'));
  ok(JSON.stringify(got) === JSON.stringify(want), `the timeline: started, steps, failure, retry, attempt 2, the end (${JSON.stringify(got)})`);
  ok(/^Timeline \(9\)$/.test(await page.textContent('[data-job="scan"] .timeline summary')), 'the summary counts the entries');
  ok(/^\d\d:\d\d:\d\d$/.test(await page.textContent('[data-job="scan"] .timeline li time')), 'each entry has its time');
  const id1 = await page.evaluate(() => window.jobwireDashboard.clientId);

  // --- Reload: the same client id (a persistent session), the timeline again.
  await page.reload();
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'reloaded page is live');
  await waitFor(page, `${timelineOf('scan')}.length === ${want.length}`, null, 'the reloaded page shows the timeline');
  const id2 = await page.evaluate(() => window.jobwireDashboard.clientId);
  ok(id1 === id2 && /^dash-/.test(id1), `the tab keeps its client id across a reload (${id1}, ${id2})`);

  // --- A job seen live: its timeline grows.
  await send('live', 'started', { name: 'Live one' });
  await waitFor(page, `${timelineOf('live')}.join() === 'started: Started'`, null, 'a new job: its timeline starts');
  await send('live', 'progress', { progress: 20, step: 'acquire' });
  await waitFor(page, `${timelineOf('live')}.includes('step: Step: acquire')`, null, 'a new step joins the timeline');

  // --- A dropped connection: what happens meanwhile arrives afterwards.
  await page.evaluate(() => window.jobwireDashboard.connection().stream.destroy());
  await waitFor(page, () => document.getElementById('conn').dataset.state !== 'live', null, 'the page notices the drop', 4000);
  await send('live', 'progress', { progress: 60, step: 'stitch' });
  await send('live', 'complete', {});
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'the page reconnects', 15000);
  await waitFor(page, `${timelineOf('live')}.join('|') === 'started: Started|step: Step: acquire|step: Step: stitch|complete: Complete'`,
    null, 'no gap: the step and the end published while away are in the timeline', 10000);
  await waitFor(page, `document.querySelector('[data-job="live"]')?.dataset.status === 'complete'`, null, 'the card shows the end');

  await page.click('[data-job="scan"] .timeline summary');
  await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
  ok(pageErrors.length === 0, `no script errors on the page (${pageErrors.join('; ')})`);
  await browser.close();
  worker.end(true);
  admin.end(true);
}

run(main);
