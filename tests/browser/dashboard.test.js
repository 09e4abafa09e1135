/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Drives the dashboard in a real Chromium (Debian's /usr/bin/chromium via
 * playwright-core; no browser is ever downloaded) against a real broker
 * started by tests/integration/test_dashboard.sh, with the worker played
 * by mosquitto_pub and the attacker by MQTT.js in Node. Prints TAP-like
 * "ok - " / "FAIL - " lines; exits non-zero on any failure.
 *
 * Env: JW_PORT, JW_WS_PORT, VIEWER, VIEWER_S2, WORKER, WORKER_S2, ADMIN,
 * EXPIRED, RESTART (a command that restarts the broker on the same ports),
 * SCREENSHOT (path of the PNG to keep), WWW (the broker's http_dir).
 */
'use strict';
const { chromium } = require('playwright-core');
const mqtt = require('mqtt');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { execFileSync, spawn } = require('child_process');

const env = process.env;
const port = env.JW_PORT;
const base = `http://127.0.0.1:${env.JW_WS_PORT}/`;
let fails = 0;
let passes = 0;

function ok(cond, what) {
  if (cond) { passes++; console.log(`ok - ${what}`); } else { fails++; console.log(`FAIL - ${what}`); }
}

function pub(token, topic, body, extra = []) {
  execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', port, '-q', '1', '-u', 'w', '-P', token,
    '-t', topic, '-m', JSON.stringify(body), ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
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

const cardText = (job) => `document.querySelector('[data-job="${job}"]')?.innerText || ''`;

function mqttClient(token, opts = {}) {
  return new Promise((resolve) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      username: 'x', password: token, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts,
    });
    c.once('connect', () => resolve({ c, err: null }));
    c.once('error', (err) => resolve({ c, err }));
  });
}

/* Whether the broker granted the subscription (MQTT.js 5 rejects the
 * promise when a SUBACK reason code is a failure). */
async function subscribes(c, topic) {
  try {
    const g = await c.subscribeAsync(topic, { qos: 1 });
    return g.length === 1 && g[0].qos < 128;
  } catch (e) {
    return false;
  }
}

async function nodeChecks() {
  // A viewer with MQTT.js in Node: the same limits as in the browser.
  const { c: v, err } = await mqttClient(env.VIEWER, { clientId: 'node-viewer' });
  ok(!err, 'MQTT.js viewer connects with its token');
  ok(!(await subscribes(v, 'jobs/s2/#')), 'MQTT.js viewer: subscription to another session refused (SUBACK 0x87)');
  ok(await subscribes(v, 'jobs/s1/#'), 'MQTT.js viewer: subscription to its own session granted');
  let pubErr = null;
  try {
    await v.publishAsync('jobs/s1/node-x/progress', '{"progress":5}', { qos: 1 });
  } catch (e) { pubErr = e; }
  ok(pubErr && /135|authori/i.test(String(pubErr.message || pubErr.code)), `MQTT.js viewer: publishing an event refused (${pubErr && pubErr.message})`);
  await v.endAsync();

  // A worker sees its own rejection notices on the connection it publishes with.
  const { c: w } = await mqttClient(env.WORKER, { clientId: 'node-worker' });
  const notice = new Promise((resolve) => {
    w.on('message', (t, p) => { if (t === '$jobwire/rejections/node-worker') resolve(JSON.parse(p.toString())); });
    setTimeout(() => resolve(null), 5000);
  });
  await w.subscribeAsync('$jobwire/rejections/node-worker', { qos: 1 });
  await w.publishAsync('jobs/s1/node-bad/progress', '{"progress":400}', { qos: 1 }).catch(() => {});
  const n = await notice;
  ok(n && n.reason === 'schema_violation', 'MQTT.js worker receives its own rejection notice');
  ok(!(await subscribes(w, '$jobwire/rejections/someone-else')), "MQTT.js worker cannot subscribe to another client's rejection topic");
  await w.endAsync();

  // Expired and forged tokens are refused at CONNECT.
  const { c: x, err: xe } = await mqttClient(env.EXPIRED);
  ok(xe && /authori/i.test(xe.message), `MQTT.js: expired token refused (${xe && xe.message})`);
  x.end(true);
}

/* A link's #ws= must not take the token anywhere but the page's own
 * server or an address the operator allowed in config.json. */
async function brokerAddressChecks(browser) {
  let conns = 0;
  let bytes = 0;
  const other = net.createServer((sock) => {
    conns++;
    sock.on('data', (d) => { bytes += d.length; });
    sock.on('error', () => {});
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  const otherPort = other.address().port;
  const config = path.join(env.WWW, 'config.json');
  const live = () => document.getElementById('conn').dataset.state === 'live';

  const crafted = async (what) => {
    const p = await browser.newPage();
    await p.goto(`${base}#session=s1&token=${env.VIEWER}&ws=ws://127.0.0.1:${otherPort}/`);
    await waitFor(p, () => /broker address not allowed/.test(document.getElementById('conn').innerText), null,
      `${what}: the connection indicator says the broker address is not allowed`);
    await waitFor(p, (port) => {
      const b = document.getElementById('blocked');
      return !b.hidden && b.innerText.includes(`ws://127.0.0.1:${port}`) && /token was not sent/.test(b.innerText);
    }, String(otherPort), `${what}: the page names the refused address and says the token was not sent`);
    await p.waitForTimeout(1500);
    ok(conns === 0 && bytes === 0, `${what}: nothing reached the other server (${conns} connections, ${bytes} bytes)`);
    ok(!(await p.evaluate(live)), `${what}: never live`);
    await p.close();
  };

  await crafted('crafted #ws= link, no config.json');
  let p = await browser.newPage();
  await p.goto(`${base}#session=s1&token=${env.VIEWER}&ws=ws://127.0.0.1:${env.JW_WS_PORT}/`);
  await waitFor(p, live, null, '#ws= naming the page\'s own server connects');
  await p.close();

  // The operator allows another address for the same broker.
  fs.writeFileSync(config, JSON.stringify({ allowed_brokers: [`ws://localhost:${env.JW_WS_PORT}/`] }));
  fs.chmodSync(config, 0o644);
  p = await browser.newPage();
  await p.goto(`${base}#session=s1&token=${env.VIEWER}&ws=ws://localhost:${env.JW_WS_PORT}/`);
  await waitFor(p, live, null, 'config.json allowed_brokers: a link to a listed address connects');
  ok((await p.evaluate(() => window.jobwireDashboard.broker)) === `ws://localhost:${env.JW_WS_PORT}/`,
    'config.json allowed_brokers: the page uses the listed address');
  await p.close();
  await crafted('crafted #ws= link with a config.json that does not list it');

  // The operator's default broker for links without #ws=.
  fs.writeFileSync(config, JSON.stringify({ broker: `ws://localhost:${env.JW_WS_PORT}/` }));
  p = await browser.newPage();
  await p.goto(`${base}#session=s1&token=${env.VIEWER}`);
  await waitFor(p, live, null, 'config.json broker: a link without #ws= connects there');
  ok((await p.evaluate(() => window.jobwireDashboard.broker)) === `ws://localhost:${env.JW_WS_PORT}/`,
    'config.json broker: used as the default address');
  await p.close();
  fs.unlinkSync(config);
  other.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  const consoleErrors = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // --- Loads from the broker, goes live.
  await page.goto(`${base}#session=s1&token=${env.VIEWER}`);
  ok(await page.title() !== '', 'page served by the broker http_dir');
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'connection indicator shows live');
  ok(!(await page.isVisible('#login')), 'with session and token in the URL no form is shown');

  // --- A worker runs a job 0 -> 50 -> 100 -> complete.
  pub(env.WORKER, 'jobs/s1/j1/started', { name: 'Import orders', total: 200, steps: ['load', 'check', 'save'], worker: 'w1' });
  await waitFor(page, `${cardText('j1')}.includes('Import orders')`, null, 'job card appears with its name');
  pub(env.WORKER, 'jobs/s1/j1/progress', { current: 0, total: 200, step: 'load', message: 'starting' });
  await waitFor(page, `${cardText('j1')}.includes('0%') && ${cardText('j1')}.includes('starting')`, null, 'stage 0%: percent and message');
  pub(env.WORKER, 'jobs/s1/j1/progress', { current: 100, total: 200, step: 'check', message: 'halfway there', eta_s: 90 });
  await waitFor(page, `(() => { const t = ${cardText('j1')}; return t.includes('50%') && t.includes('100 / 200') && t.includes('check') && t.includes('halfway there') && /ETA\\s+1m/.test(t); })()`,
    null, 'stage 50%: percent, current/total, step, message, ETA');
  const bar = await page.$eval('[data-job="j1"] .meter', (m) => m.getAttribute('aria-valuenow'));
  ok(bar === '50', `progress bar at 50 (aria-valuenow ${bar})`);
  // The page redraws once a second: two readings 3 s apart differ by 2-4 s.
  const etaSeconds = async () => {
    const t = await page.$eval('[data-job="j1"] .eta b', (e) => e.textContent);
    const m = /^(?:(\d+)m )?(\d+)s/.exec(t);
    return m ? Number(m[1] || 0) * 60 + Number(m[2]) : NaN;
  };
  const eta1 = await etaSeconds();
  await page.waitForTimeout(3000);
  const eta2 = await etaSeconds();
  ok(eta1 <= 90 && eta1 >= 80 && eta1 - eta2 >= 2 && eta1 - eta2 <= 4, `ETA counts down (${eta1} s, then ${eta2} s)`);
  pub(env.WORKER, 'jobs/s1/j1/progress', { current: 200, total: 200, step: 'save', message: 'saving' });
  await waitFor(page, `${cardText('j1')}.includes('100%')`, null, 'stage 100%');
  pub(env.WORKER, 'jobs/s1/j1/complete', { result: { rows: 200 } });
  await waitFor(page, () => /Import orders complete/.test(document.getElementById('toasts').innerText), null, 'toast for complete');
  await waitFor(page, () => !!document.querySelector('#done [data-job="j1"]'), null, 'finished job moves to the finished list');

  // --- A failed job toasts with its error.
  pub(env.WORKER, 'jobs/s1/j2/started', { name: 'Resize images' });
  pub(env.WORKER, 'jobs/s1/j2/failed', { error: 'disk full on /data', code: 'enospc' });
  await waitFor(page, () => /Resize images failed: disk full on \/data/.test(document.getElementById('toasts').innerText), null, 'toast for failed shows the error');

  // --- validation-required: a prominent alert with reason and confidence.
  pub(env.WORKER, 'jobs/s1/j3/started', { name: 'Classify' });
  pub(env.WORKER, 'jobs/s1/j3/validation-required', { reason: 'Label looks wrong', confidence: 0.42, threshold: 0.8 });
  await waitFor(page, () => { const a = document.querySelector('#alerts [role="alert"]'); return a && /Label looks wrong/.test(a.innerText) && /42%/.test(a.innerText); },
    null, 'validation-required alert shows reason and confidence');

  // --- Another session's job never appears.
  pub(env.WORKER_S2, 'jobs/s2/secret/started', { name: 'Other session job' });
  pub(env.WORKER, 'jobs/s1/marker/started', { name: 'Marker' });
  await waitFor(page, `${cardText('marker')}.includes('Marker')`, null, 'marker job after the other session arrives');
  const leaked = await page.evaluate(() => document.body.innerText.includes('Other session job') || !!document.querySelector('[data-job="secret"]'));
  ok(!leaked, "the second session's job never appears");

  // --- Cancel from the keyboard reaches the worker.
  pub(env.WORKER, 'jobs/s1/j4/started', { name: 'Long export' });
  pub(env.WORKER, 'jobs/s1/j4/progress', { progress: 30, message: 'exporting' });
  await waitFor(page, `${cardText('j4')}.includes('30%')`, null, 'job to cancel shows 30%');
  const worker = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', port, '-q', '1', '-u', 'w', '-P', env.WORKER,
    '-t', 'jobs/s1/+/control', '-C', '1', '-W', '10', '-v']);
  let received = '';
  worker.stdout.on('data', (d) => { received += d; });
  const workerDone = new Promise((r) => worker.on('exit', r));
  await new Promise((r) => setTimeout(r, 500));
  await page.focus('[data-job="j4"] button.danger');
  await page.keyboard.press('Enter');
  await workerDone;
  ok(/jobs\/s1\/j4\/control .*"action":"cancel"/.test(received), `cancel reaches the worker (${received.trim()})`);
  await waitFor(page, `${cardText('j4')}.includes('Cancel requested')`, null, 'card shows cancel requested (from the state)');

  // --- Broker restart mid-job: reconnects and shows the right state, once.
  const beforeCount = await page.evaluate(() => document.querySelectorAll('.job').length);
  execFileSync('bash', ['-c', env.RESTART], { stdio: 'inherit' });
  await waitFor(page, () => ['reconnecting', 'connecting', 'offline'].includes(document.getElementById('conn').dataset.state),
    null, 'indicator leaves live when the broker goes away', 10000);
  await waitFor(page, () => document.getElementById('conn').dataset.state === 'live', null, 'reconnects after the restart', 30000);
  pub(env.WORKER, 'jobs/s1/j4/progress', { progress: 60, message: 'after restart' });
  await waitFor(page, `${cardText('j4')}.includes('60%') && ${cardText('j4')}.includes('after restart')`, null, 'state after restart shown');
  const after = await page.evaluate(() => ({
    n: document.querySelectorAll('.job').length,
    j4: document.querySelectorAll('[data-job="j4"]').length,
    j1: document.querySelectorAll('[data-job="j1"]').length,
  }));
  ok(after.j4 === 1 && after.j1 === 1 && after.n === beforeCount, `no duplicate cards after reconnect (${JSON.stringify(after)}, before ${beforeCount})`);
  const j1done = await page.evaluate(() => !!document.querySelector('#done [data-job="j1"]'));
  ok(j1done, 'finished job still in the finished list after restart');

  await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
  console.log(`# screenshot: ${env.SCREENSHOT}`);

  // --- A second page: a viewer of s2 sees only s2.
  const p2 = await browser.newPage();
  await p2.goto(`${base}#session=s2&token=${env.VIEWER_S2}`);
  await waitFor(p2, `${cardText('secret')}.includes('Other session job')`, null, 's2 viewer sees its own job');
  ok(!(await p2.evaluate(() => !!document.querySelector('[data-job="j1"]'))), 's2 viewer never sees s1 jobs');
  // A viewer token for s1 asking for session s2 sees nothing of it.
  const p3 = await browser.newPage();
  await p3.goto(`${base}#session=s2&token=${env.VIEWER}`);
  await p3.waitForTimeout(1500);
  ok(!(await p3.evaluate(() => !!document.querySelector('.job'))), 'an s1 token opened on session s2 shows no jobs');

  // --- Bad tokens: the page says offline, never live.
  for (const [what, tok] of [['expired', env.EXPIRED], ['forged', env.FORGED], ['garbage', 'garbage']]) {
    const p = await browser.newPage();
    await p.goto(`${base}#session=s1&token=${encodeURIComponent(tok)}`);
    await waitFor(p, () => /token refused/.test(document.getElementById('conn').innerText), null, `${what} token: page shows the refusal`);
    ok(!(await p.evaluate(() => !!document.querySelector('.job'))), `${what} token: no jobs shown`);
    await p.close();
  }
  // --- No session in the URL: the form.
  const p4 = await browser.newPage();
  await p4.goto(base);
  ok(await p4.isVisible('#login'), 'without a fragment the session/token form is shown');
  await p4.fill('#f-session', 's1');
  await p4.fill('#f-token', env.VIEWER);
  await p4.press('#f-token', 'Enter');
  await waitFor(p4, () => document.getElementById('conn').dataset.state === 'live', null, 'form submission connects');

  await brokerAddressChecks(browser);

  ok(consoleErrors.length === 0, `no page errors (${consoleErrors.join('; ')})`);
  await browser.close();

  await nodeChecks();
  console.log(`${passes} passed, ${fails} failed`);
  process.exit(fails ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL - exception: ${e.stack || e}`); process.exit(1); });
