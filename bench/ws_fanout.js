/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * WebSocket fan-out client for bench/ws_fanout.sh: opens N MQTT-over-
 * WebSocket subscribers on the retained state topics of --jobs jobs
 * (subscriber i follows job (first + i) % jobs), and (with --publish) a
 * TCP worker that sends progress --rate times a second to every job, spread
 * evenly over the second, with its send time in "message". Each subscriber
 * records now - send time for every message it receives. Job k (0-based)
 * is jobs/bench/j<k + 1>/... with one session, otherwise
 * jobs/bench<k % sessions>/j<k + 1>/...
 *
 * node ws_fanout.js --ws-port P --tcp-port P --clients N [--publish]
 *   [--seconds S] [--token T | --token-file F] [--worker-token T] [--mqtt 4|5]
 *   [--concurrency C] [--ready-file F] [--jobs J] [--sessions S] [--first I]
 *   [--suffix state|progress] [--rate R] [--bare] [--broker-pid P,P,...]
 *   [--client-pids P,P,...] [--client raw|mqttjs]
 * --token-file: line s is the token for session s (the subscriber sends
 * its own session's token). --bare (with --publish): no plugin, so the
 * worker publishes retained state-like messages on the state topics itself.
 * --broker-pid P,P,... / --client-pids (with --publish): CPU ticks of
 * those processes over the measured publishing time go into the output.
 * Prints one JSON line: connect times, latency percentiles, counts.
 */
'use strict';
const mqtt = require('mqtt');
const fs = require('fs');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const flag = (name) => process.argv.includes(`--${name}`);
const wsPort = arg('ws-port');
const tcpPort = arg('tcp-port');
const n = Number(arg('clients', '100'));
const seconds = Number(arg('seconds', '20'));
const token = arg('token', '');
const workerToken = arg('worker-token', '');
const version = Number(arg('mqtt', '4'));
const concurrency = Number(arg('concurrency', '100'));
const jobs = Number(arg('jobs', '1'));
const sessions = Number(arg('sessions', '1'));
const first = Number(arg('first', '0'));
const suffix = arg('suffix', 'state');
const rate = Number(arg('rate', '10'));
const tokenFile = arg('token-file', '');
const sessionTokens = tokenFile ? fs.readFileSync(tokenFile, 'latin1').split('\n') : [];

function sessionOf(k) { return sessions === 1 ? 'bench' : `bench${k % sessions}`; }
function jobTopic(k, what) { return `jobs/${sessionOf(k)}/j${k + 1}/${what}`; }
function jobOfClient(i) { return (first + i) % jobs; }
function tokenOfClient(i) { return tokenFile ? sessionTokens[jobOfClient(i) % sessions] : token; }

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/*
 * The thin client (default, --client raw): WebSocket handshake and MQTT
 * CONNECT / SUBSCRIBE / PINGREQ written by hand over net.Socket, and
 * PUBLISH payloads scanned for "t=" without decoding JSON. MQTT.js
 * (--client mqttjs) costs the client more CPU per message than the broker
 * spends, which on a 2-core machine measures the client, not the broker.
 */
const net = require('net');
const crypto = require('crypto');

function mqttString(s) {
  const b = Buffer.from(s);
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}
function remLen(n) {
  const out = [];
  do { let b = n % 128; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
}
function packet(type, body) { return Buffer.concat([Buffer.from([type]), remLen(body.length), body]); }
function wsFrame(payload) {
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x82, 0x80 | len]) : Buffer.from([0x82, 0x80 | 126, len >> 8, len & 255]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}
const T_EQ = Buffer.from('"message":"t=');

function rawClient(id, onConnected, onFail, onLatency) {
  const topic = jobTopic(jobOfClient(id), suffix);
  const pass = tokenOfClient(id);
  const sock = net.connect(Number(wsPort), '127.0.0.1');
  let buf = Buffer.alloc(0);
  let upgraded = false;
  let mqttBuf = Buffer.alloc(0);
  let connected = false;
  sock.setNoDelay(true);
  sock.on('connect', () => {
    sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${wsPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: mqtt\r\n\r\n`);
  });
  sock.on('error', () => { if (!connected) onFail(); });
  function handleMqtt(p) {
    const type = p[0] >> 4;
    if (type === 2) { // CONNACK
      if (p[3] !== 0) { onFail(); sock.destroy(); return; } // return / reason code
      const props = version === 5 ? Buffer.from([0]) : Buffer.alloc(0);
      const body = Buffer.concat([Buffer.from([0, 1]), props, mqttString(topic), Buffer.from([0])]);
      sock.write(wsFrame(packet(0x82, body)));
    } else if (type === 9) { // SUBACK
      connected = true;
      onConnected();
    } else if (type === 3) { // PUBLISH
      const k = p.indexOf(T_EQ);
      if (k >= 0) {
        const end = p.indexOf(0x22, k + T_EQ.length);
        onLatency(Date.now() - Number(p.toString('latin1', k + T_EQ.length, end)));
      }
    }
  }
  function feedMqtt(data) {
    mqttBuf = mqttBuf.length ? Buffer.concat([mqttBuf, data]) : data;
    for (;;) {
      if (mqttBuf.length < 2) return;
      let mul = 1, len = 0, i = 1, b;
      do { if (i >= mqttBuf.length) return; b = mqttBuf[i++]; len += (b & 127) * mul; mul *= 128; } while (b & 128);
      if (mqttBuf.length < i + len) return;
      handleMqtt(mqttBuf.subarray(0, i + len));
      mqttBuf = mqttBuf.subarray(i + len);
    }
  }
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (!upgraded) {
      const e = buf.indexOf('\r\n\r\n');
      if (e < 0) return;
      if (!/^HTTP\/1\.1 101/.test(buf.toString('latin1', 0, 12))) { onFail(); sock.destroy(); return; }
      upgraded = true;
      buf = buf.subarray(e + 4);
      const flags = pass ? 0xc2 : 0x02; // username+password, clean session
      const props = version === 5 ? Buffer.from([0]) : Buffer.alloc(0);
      const parts = [mqttString('MQTT'), Buffer.from([version, flags, 0, 120]), props, mqttString(`bench-${process.pid}-${id}`)];
      if (pass) parts.push(mqttString('bench'), mqttString(pass));
      sock.write(wsFrame(packet(0x10, Buffer.concat(parts))));
    }
    for (;;) { // server frames are unmasked
      if (buf.length < 2) return;
      let len = buf[1] & 127, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + len) return;
      if ((buf[0] & 15) === 2 || (buf[0] & 15) === 0) feedMqtt(buf.subarray(off, off + len));
      buf = buf.subarray(off + len);
    }
  });
  return { end: () => sock.destroy(), ping: () => sock.write(wsFrame(Buffer.from([0xc0, 0]))) };
}

async function openAllRaw() {
  const clients = [];
  const connectMs = [];
  const latencies = [];
  let next = 0;
  let failed = 0;
  const t0 = Date.now();
  async function one() {
    while (next < n) {
      const i = next++;
      const start = Date.now();
      await new Promise((resolve) => {
        clients.push(rawClient(i, () => { connectMs.push(Date.now() - start); resolve(); },
          () => { failed++; resolve(); }, (ms) => latencies.push(ms)));
      });
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, one));
  setInterval(() => { for (const c of clients) c.ping(); }, 60000).unref();
  return { clients, connectMs, latencies, failed, openSeconds: (Date.now() - t0) / 1000 };
}

async function openAll() {
  const clients = [];
  const connectMs = [];
  const latencies = [];
  let next = 0;
  let failed = 0;
  const t0 = Date.now();
  async function one() {
    while (next < n) {
      const i = next++;
      const start = Date.now();
      await new Promise((resolve) => {
        const c = mqtt.connect(`ws://127.0.0.1:${wsPort}/`, {
          clientId: `bench-${process.pid}-${i}`, username: 'bench', password: tokenOfClient(i) || undefined,
          protocolVersion: version, reconnectPeriod: 0, connectTimeout: 60000, keepalive: 120,
        });
        c.once('connect', () => {
          connectMs.push(Date.now() - start);
          c.subscribe(jobTopic(jobOfClient(i), suffix), { qos: 0 }, () => resolve());
        });
        c.once('error', () => { failed++; resolve(); });
        c.on('message', (t, payload) => {
          const s = payload.toString();
          const k = s.indexOf('"message":"t=');
          if (k >= 0) latencies.push(Date.now() - Number(s.slice(k + 13, s.indexOf('"', k + 13))));
        });
        clients.push(c);
      });
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, one));
  return { clients, connectMs, latencies, failed, openSeconds: (Date.now() - t0) / 1000 };
}

function ticks(pid) { // user + system CPU time, clock ticks
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const v = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(v[11]) + Number(v[12]);
  } catch (e) { return 0; }
}

// A retained state as the plugin renders it for a running job (about the
// same size), for the bare broker.
function bareState(k, seq, now) {
  const at = new Date(now).toISOString();
  return JSON.stringify({
    session_id: sessionOf(k), job_id: `j${k + 1}`, status: 'running', seq, type: 'state', name: 'bench',
    heartbeat_interval_s: 30, progress: 0, current: seq, total: 1000000, message: `t=${now}`,
    first_seen_at: at, started_at: at, updated_at: at, last_heartbeat_at: at, attempt: 1,
  });
}

async function publish() {
  const w = mqtt.connect(`mqtt://127.0.0.1:${tcpPort}`, {
    clientId: `bench-worker-${process.pid}`, username: 'w', password: workerToken || undefined, reconnectPeriod: 0,
  });
  await new Promise((r) => w.once('connect', r));
  const bare = flag('bare');
  if (!bare) {
    await Promise.all(Array.from({ length: jobs }, (_, k) => w.publishAsync(jobTopic(k, 'started'),
      JSON.stringify({ name: 'bench', total: 1000000 }), { qos: 1 })));
    if (jobs > 1) await new Promise((r) => setTimeout(r, 1000)); // their states out of the way
  }
  const pids = (arg('client-pids', '') || '').split(',').filter(Boolean);
  const brokerPids = (arg('broker-pid', '') || '').split(',').filter(Boolean);
  const b0 = brokerPids.map(ticks);
  const c0 = pids.map(ticks);
  const u0 = process.cpuUsage();
  let i = 0;
  const perSecond = jobs * rate;
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  await new Promise((resolve) => {
    const tick = () => {
      const now = Date.now();
      if (now >= end) { clearInterval(timer); resolve(); return; }
      const due = Math.floor(((now - t0) * perSecond) / 1000) + 1;
      for (; i < due; i++) {
        const k = i % jobs;
        const seq = Math.floor(i / jobs) + 1;
        if (bare) w.publish(jobTopic(k, 'state'), bareState(k, seq, now), { qos: 0, retain: true });
        else w.publish(jobTopic(k, 'progress'), JSON.stringify({ current: seq, total: 1000000, message: `t=${now}` }), { qos: 0 });
      }
    };
    const timer = setInterval(tick, Math.max(1, Math.min(100, Math.floor(1000 / perSecond))));
    tick();
  });
  const secs = (Date.now() - t0) / 1000;
  const u = process.cpuUsage(u0);
  const b1 = brokerPids.map((pid, j) => ticks(pid) - b0[j]);
  const c1 = pids.map(ticks);
  await w.endAsync();
  return {
    sent: i, seconds: secs, broker_ticks: b1.reduce((a, x) => a + x, 0), broker_ticks_each: b1, client_ticks: c1.reduce((a, x, j) => a + x - c0[j], 0),
    publisher_cpu_s: (u.user + u.system) / 1e6,
  };
}

async function main() {
  if (flag('publish')) {
    console.log(JSON.stringify(await publish()));
    return;
  }
  const r = arg('client', 'raw') === 'mqttjs' ? await openAll() : await openAllRaw();
  if (arg('ready-file')) fs.writeFileSync(arg('ready-file'), String(r.connectMs.length));
  // Measure until told to stop (SIGTERM) or for seconds + 10.
  await new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    setTimeout(resolve, (seconds + 10) * 1000);
  });
  const c = r.connectMs.sort((a, b) => a - b);
  const l = r.latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({
    clients: r.connectMs.length, failed: r.failed, open_s: r.openSeconds,
    connect_p50_ms: pct(c, 50), connect_p99_ms: pct(c, 99),
    deliveries: l.length, lat_p50_ms: pct(l, 50), lat_p99_ms: pct(l, 99), lat_max_ms: l.length ? l[l.length - 1] : null,
  }));
  for (const x of r.clients) x.end(true);
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
