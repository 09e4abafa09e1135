/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The dashboard's Stations panel in a real Chromium (Debian's
 * /usr/bin/chromium via playwright-core) against a real broker with JWT on,
 * started by tests/integration/test_dashboard_stations.sh. A station
 * (MQTT.js in Node, with a station token and a will) comes online at high
 * GPU load: its card shows name, online since, last seen, the CPU, GPU,
 * memory and queue bars, temperature and the job it runs, and a warning
 * toast names the GPU load; a station of another session never shows.
 * Then the station dies without a goodbye: its will turns the card
 * offline (greyed) with a toast. Prints "ok - " / "FAIL - " lines.
 *
 * Env: JW_PORT, JW_WS_PORT, VIEWER, STATION, OTHER_STATION, WORKER, SCREENSHOT.
 */
'use strict';
const mqtt = require('mqtt');
const { env, base, ok, waitFor, launch, run } = require('./lib');

async function connect(id, token, will) {
  const c = mqtt.connect(`mqtt://127.0.0.1:${env.JW_PORT}`, {
    username: 's', password: token, protocolVersion: 5, clientId: id, reconnectPeriod: 0, will,
  });
  await new Promise((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
  return c;
}

const card = (id) => `document.querySelector('[data-station="${id}"]')`;
const cardText = (id) => `(${card(id)}?.innerText || '')`;

async function main() {
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 390, height: 1100 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${base}#session=s1&token=${env.VIEWER}`);
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'dashboard is live');
  ok(await page.isVisible('#stations-empty'), 'no station yet: the panel says so');
  ok((await page.inputValue('#gpu-warn')) === '90', 'the GPU warning threshold defaults to 90 %');

  // --- A station of s1 comes online at high GPU load, with its will.
  const will = { topic: 'stations/scope-3/status', payload: '{"state":"offline","reason":"connection lost"}', qos: 1, retain: true };
  const station = await connect('scope-3', env.STATION, will);
  const status = {
    state: 'online', name: 'Scope 3', model: 'Z-scope', sessions: ['s1'],
    system: { cpu_percent: 35, gpu_percent: 96, memory_percent: 58, gpu_memory_percent: 70, queue_length: 4, temperature_c: 71.5 },
  };
  await station.publishAsync('stations/scope-3/status', JSON.stringify(status), { qos: 1, retain: true });
  // It runs a job: started names it.
  await station.publishAsync('jobs/s1/stack-9/started', JSON.stringify({ name: 'Stack 9', station: 'scope-3' }), { qos: 1 });
  // A station of another session.
  const other = await connect('scope-x', env.OTHER_STATION);
  await other.publishAsync('stations/scope-x/status', JSON.stringify({ state: 'online', sessions: ['s2'], system: { gpu_percent: 99 } }),
    { qos: 1, retain: true });

  await waitFor(page, `${card('scope-3')}?.dataset.state === 'online'`, null, 'the station\'s card shows it online');
  await waitFor(page, `${cardText('scope-3')}.includes('stack-9')`, null, 'the card shows the job it runs');
  const text = await page.evaluate(cardText('scope-3'));
  ok(text.includes('Scope 3'), 'the card shows the station\'s name');
  ok(/Online since/.test(text), 'the card says since when it is online');
  ok(/Last seen/.test(text), 'the card says when it was last seen');
  ok(text.includes('71.5 °C'), 'the card shows the temperature');
  ok(text.includes('4 waiting'), 'the card shows the queue length');
  const meters = await page.evaluate(`Array.from(${card('scope-3')}.querySelectorAll('[role="meter"]'))
    .filter((m) => !m.closest('[hidden]')).map((m) => m.getAttribute('aria-label') + '=' + m.getAttribute('aria-valuenow'))`);
  ok(['Scope 3 CPU=35', 'Scope 3 GPU=96', 'Scope 3 Memory=58'].every((m) => meters.includes(m)),
    `CPU, GPU and memory bars, named and valued for screen readers (${meters.join(', ')})`);
  ok(meters.some((m) => m.startsWith('Scope 3 Queue=')), 'a queue bar');
  ok((await page.getAttribute('[data-station="scope-3"]', 'aria-label')) === 'Scope 3, online', 'the card has an accessible name with its state');
  await waitFor(page, () => /Scope 3: GPU load 96% \(warning at 90%\)/.test(document.getElementById('toasts').innerText), null,
    'a warning toast names the high GPU load');
  const toastRole = await page.evaluate(() => Array.from(document.querySelectorAll('#toasts .toast.warning')).map((t) => t.getAttribute('role')));
  ok(toastRole.length > 0 && toastRole.every((r) => r === 'status'), 'the toast is announced politely');
  await waitFor(page, `${cardText('stack-9') !== null} && (document.querySelector('[data-job="stack-9"]')?.innerText || '').includes('scope-3')`,
    null, 'the job\'s card names its station');
  ok(!(await page.evaluate(`!!${card('scope-x')}`)), 'a station of another session is not shown');
  ok((await page.textContent('#stations-count')) === '1', 'one station counted');

  // --- Keyboard: the threshold setting is reachable with Tab.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  let reached = false;
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'gpu-warn');
  }
  ok(reached, 'Tab reaches the GPU warning setting');

  // --- The station dies without a goodbye: the broker sends its will.
  station.stream.destroy();
  await waitFor(page, `${card('scope-3')}?.dataset.state === 'offline'`, null, 'the card shows the station offline', 10000);
  const grey = await page.evaluate(`getComputedStyle(${card('scope-3')}).filter`);
  ok(grey.includes('grayscale'), `the offline card is greyed (${grey})`);
  ok(/Offline since/.test(await page.evaluate(cardText('scope-3'))), 'the card says since when it is offline');
  await waitFor(page, () => /Scope 3 went offline/.test(document.getElementById('toasts').innerText), null,
    'a warning toast says the station went offline');
  await page.screenshot({ path: env.SCREENSHOT, fullPage: true });

  // --- A reloaded page shows the offline station from the retained state.
  await page.reload();
  await waitFor(page, `${card('scope-3')}?.dataset.state === 'offline'`, null, 'after a reload the card is still offline');
  ok(pageErrors.length === 0, `no page errors (${pageErrors.join('; ')})`);

  await browser.close();
  await other.endAsync();
}

run(main);
