/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Retrying a failed job from the dashboard in a real Chromium (Debian's
 * /usr/bin/chromium via playwright-core; no browser is ever downloaded)
 * against a real broker started by tests/integration/test_dashboard_retry.sh,
 * with the worker played by MQTT.js in Node: the Retry button shows only on
 * a retryable failure, is reached and pressed with the keyboard, has a name
 * for screen readers, sends {"action":"retry"} to the worker, shows the
 * request, and the card follows attempt 2 to its end. Prints TAP-like
 * "ok - " / "FAIL - " lines; exits non-zero on any failure.
 *
 * Env: JW_PORT, JW_WS_PORT, VIEWER, WORKER, SCREENSHOT.
 */
'use strict';
const mqtt = require('mqtt');
const { env, base, ok, waitFor, launch, run } = require('./lib');

const card = (job) => `document.querySelector('[data-job="${job}"]')`;
const cardText = (job) => `(${card(job)}?.innerText || '')`;

async function main() {
  // The worker: subscribed to its jobs' control topic before it starts them.
  const worker = mqtt.connect(`mqtt://127.0.0.1:${env.JW_PORT}`, {
    username: 'w', password: env.WORKER, protocolVersion: 5, clientId: 'retry-worker', reconnectPeriod: 0,
  });
  await new Promise((resolve, reject) => { worker.once('connect', resolve); worker.once('error', reject); });
  const controls = [];
  worker.on('message', (topic, payload) => controls.push({ topic, body: JSON.parse(payload.toString()) }));
  await worker.subscribeAsync('jobs/s1/+/control', { qos: 1 });
  const send = (job, type, body) => worker.publishAsync(`jobs/s1/${job}/${type}`, JSON.stringify(body), { qos: 1 });

  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${base}#session=s1&token=${env.VIEWER}`);
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'dashboard is live');

  // --- A failure the worker calls retryable, and one it does not.
  await send('stack', 'started', { name: 'Segment stack 42' });
  await send('stack', 'progress', { progress: 60, message: 'plane 48 of 80' });
  await send('stack', 'failed', { error: 'GPU lost', code: 'gpu_lost', retryable: true });
  await send('bad', 'started', { name: 'Broken input' });
  await send('bad', 'failed', { error: 'not a TIFF', retryable: false });
  await waitFor(page, `${cardText('stack')}.includes('GPU lost') && ${cardText('bad')}.includes('not a TIFF')`, null,
    'both failures are shown');
  ok(await page.isVisible('[data-job="stack"] button.retry'), 'Retry button on the retryable failure');
  ok(!(await page.isVisible('[data-job="bad"] button.retry')), 'no Retry button on a failure that is not retryable');
  ok(!(await page.isVisible('[data-job="stack"] button.danger')), 'no Cancel button on a failed job');
  const label = await page.getAttribute('[data-job="stack"] button.retry', 'aria-label');
  ok(label === 'Retry Segment stack 42 (attempt 2)', `the button names the job and the attempt for screen readers (${label})`);
  const role = await page.evaluate(`${card('stack')}.querySelector('button.retry').tagName`);
  ok(role === 'BUTTON', 'Retry is a native button');

  // --- Keyboard: Tab reaches the button, Enter presses it.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(`document.activeElement === ${card('stack')}.querySelector('button.retry')`);
  }
  ok(reached, 'Tab reaches the Retry button');
  const focusRing = await page.evaluate(`getComputedStyle(${card('stack')}.querySelector('button.retry')).outlineStyle`);
  ok(focusRing !== 'none', `the focused button shows a focus outline (${focusRing})`);
  await page.keyboard.press('Enter');

  // --- The request reaches the worker and shows on the card.
  const deadline = Date.now() + 8000;
  while (!controls.some((m) => m.topic === 'jobs/s1/stack/control') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const got = controls.find((m) => m.topic === 'jobs/s1/stack/control');
  ok(got && got.body.action === 'retry' && got.body.requested_by === 'dashboard',
    `the worker receives {"action":"retry"} on the control topic (${got && JSON.stringify(got.body)})`);
  await waitFor(page, () => /Retry requested for stack/.test(document.getElementById('toasts').innerText), null,
    'a status toast confirms the request');
  await waitFor(page, `${card('stack')}?.querySelector('.status').textContent === 'failed · retry requested'`, null,
    'the card shows the request (from the state)');
  ok(await page.isDisabled('[data-job="stack"] button.retry'), 'the button is disabled once requested');
  ok((await page.textContent('[data-job="stack"] button.retry')) === 'Retry requested', 'the button says the retry was requested');
  ok((await page.getAttribute('[data-job="stack"] button.retry', 'aria-label')) === 'Retry requested for Segment stack 42 (attempt 2)',
    'the button\'s accessible name says the retry was requested');

  // --- The worker starts attempt 2: the card follows it to the end.
  await send('stack', 'started', { name: 'Segment stack 42' });
  await waitFor(page, `${card('stack')}?.dataset.status === 'running' && ${cardText('stack')}.includes('Attempt 2')`, null,
    'attempt 2 runs: status running, "Attempt 2" shown');
  ok(await page.evaluate(`document.getElementById('active').contains(${card('stack')})`), 'the card is back among the active jobs');
  ok(!(await page.isVisible('[data-job="stack"] button.retry')), 'no Retry button while attempt 2 runs');
  ok(await page.isVisible('[data-job="stack"] button.danger'), 'Cancel is offered again');
  await send('stack', 'progress', { progress: 10, message: 'plane 8 of 80' });
  await waitFor(page, `${cardText('stack')}.includes('plane 8 of 80') && ${cardText('stack')}.includes('10%')`, null,
    'attempt 2 progress (below attempt 1\'s) is shown');
  await send('stack', 'complete', { result: { planes: 80 } });
  await waitFor(page, `${card('stack')}?.dataset.status === 'complete' && ${cardText('stack')}.includes('Attempt 2')`, null,
    'attempt 2 complete, still marked attempt 2');

  // --- The broker's limit (plugin_opt_max_attempts 2): a refused retry
  // is explained and the button comes back.
  await send('lim', 'started', { name: 'Limited' });
  await send('lim', 'failed', { error: 'first', retryable: true });
  await waitFor(page, `!!${card('lim')}?.querySelector('button.retry:not([hidden])')`, null, 'limit: Retry offered on attempt 1');
  await page.click('[data-job="lim"] button.retry');
  await waitFor(page, `${card('lim')}?.querySelector('button.retry').textContent === 'Retry requested'`, null,
    'limit: attempt 1 retry requested');
  await send('lim', 'started', { name: 'Limited' });
  await send('lim', 'failed', { error: 'second', retryable: true });
  await waitFor(page, `${cardText('lim')}.includes('second') && ${cardText('lim')}.includes('Attempt 2')`, null,
    'limit: attempt 2 failed');
  await page.click('[data-job="lim"] button.retry');
  await waitFor(page, () => /Refused: .*2 of 2 attempts/.test(document.getElementById('toasts').innerText), null,
    'limit: the refusal (attempts_exhausted) is shown as a toast');
  await waitFor(page, `!${card('lim')}.querySelector('button.retry').disabled`, null,
    'limit: the button is enabled again after the refusal', 10000);

  // --- A reloaded page shows the attempt from the retained state.
  await page.reload();
  await waitFor(page, `${cardText('stack')}.includes('Attempt 2')`, null, 'after a reload the card still shows attempt 2');
  await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
  ok(pageErrors.length === 0, `no page errors (${pageErrors.join('; ')})`);

  await browser.close();
  await worker.endAsync();
}

run(main);
