/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire dashboard: subscribes to {prefix}/{session}/+/state (retained,
 * one message per job) over the broker's WebSocket listener and keeps one
 * card per job. Retained replays after a reconnect update the same cards,
 * so nothing is ever shown twice. A classic script (no modules): the
 * broker's http_dir serves files without a Content-Type.
 *
 * URL fragment: #session=S&token=T[&prefix=jobs][&ws=ws://host:port/]
 *
 * The token goes only to this page's own server (ws:// for an http://
 * page, wss:// for https://, same host and port), or to an address the
 * operator lists in config.json next to the page ("broker", the default,
 * and "allowed_brokers"): a link's ws= naming anything else is refused
 * before any connection is made, so a crafted link cannot send a
 * viewer's token to another server. See docs/dashboard.md.
 */
(function () {
  'use strict';

  var TERMINAL = { complete: true, failed: true };
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var TOAST_MS = 8000;

  var CONFIG_TIMEOUT_MS = 3000;
  var RETRY_SETTLE_MS = 5000;

  var params = new URLSearchParams(location.hash.replace(/^#/, ''));
  var session = params.get('session') || '';
  var token = params.get('token') || '';
  var prefix = params.get('prefix') || 'jobs';
  /* This page's own server: the broker that served it. */
  var ownUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + (location.host || '127.0.0.1:9001') + '/';
  var wsUrl = null;         /* decided by chooseBroker() */

  var jobs = new Map();     /* job_id -> { state, el, etaDeadline, receivedAt } */
  var client = null;
  var attempt = 0;
  var retryTimer = null;
  var everConnected = false;
  var stopped = false;
  var clientId = 'dash-' + Math.random().toString(16).slice(2, 10);

  function $(id) { return document.getElementById(id); }

  function setConn(kind, text) {
    var el = $('conn');
    el.className = 'conn conn-' + kind;
    el.setAttribute('data-state', kind);
    $('conn-text').textContent = text || kind;
  }

  /* ---- formatting ---- */
  function fmtDuration(s) {
    if (!isFinite(s) || s < 0) return '';
    s = Math.round(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return h + 'h ' + m + 'm';
    if (m) return m + 'm ' + (sec < 10 ? '0' : '') + sec + 's';
    return sec + 's';
  }
  function num(n) { return typeof n === 'number' ? (Math.round(n * 100) / 100).toString() : ''; }
  function pct(st) {
    var p = typeof st.progress === 'number' ? st.progress : 0;
    if (st.status === 'complete') p = 100;
    return Math.max(0, Math.min(100, p));
  }

  /* ---- cards ---- */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function buildCard(jobId) {
    var li = el('li', 'job');
    li.id = 'job-' + jobId;
    li.setAttribute('data-job', jobId);
    var head = el('div', 'job-head');
    var name = el('span', 'job-name');
    var status = el('span', 'status');
    head.appendChild(name);
    head.appendChild(status);
    var meter = el('div', 'meter');
    meter.setAttribute('role', 'progressbar');
    meter.setAttribute('aria-valuemin', '0');
    meter.setAttribute('aria-valuemax', '100');
    meter.appendChild(el('span'));
    var facts = el('p', 'facts');
    var msg = el('p', 'msg');
    var err = el('p', 'err');
    var actions = el('div', 'actions');
    var cancel = el('button', 'danger', 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', function () { requestCancel(jobId, cancel); });
    actions.appendChild(cancel);
    /* Retry: only on a failure the worker called retryable (renderRetry). */
    var retry = el('button', 'retry', 'Retry');
    retry.type = 'button';
    retry.hidden = true;
    retry.addEventListener('click', function () { requestRetry(jobId, retry); });
    actions.appendChild(retry);
    li.appendChild(head);
    li.appendChild(meter);
    li.appendChild(facts);
    li.appendChild(msg);
    li.appendChild(err);
    li.appendChild(actions);
    li._parts = { name: name, status: status, meter: meter, bar: meter.firstChild, facts: facts,
      msg: msg, err: err, actions: actions, cancel: cancel, retry: retry };
    return li;
  }

  function fact(parent, label, value, cls) {
    if (value === '' || value === undefined || value === null) return;
    var s = el('span', cls);
    s.appendChild(document.createTextNode(label + ' '));
    s.appendChild(el('b', null, String(value)));
    parent.appendChild(s);
  }

  function renderCard(job) {
    var st = job.state, p = job.el._parts, percent = pct(st);
    var label = st.status === 'waiting' ? 'needs review' : st.status;
    job.el.setAttribute('data-status', st.status);
    p.name.textContent = st.name || st.job_id;
    p.status.textContent = st.cancel_requested && !TERMINAL[st.status] ? label + ' · cancel requested' : label;
    p.bar.style.width = percent + '%';
    p.meter.setAttribute('aria-valuenow', String(Math.round(percent)));
    p.meter.setAttribute('aria-label', (st.name || st.job_id) + ' progress');
    p.facts.textContent = '';
    fact(p.facts, '', Math.round(percent * 10) / 10 + '%', 'pct');
    if (typeof st.current === 'number' && typeof st.total === 'number') {
      fact(p.facts, '', num(st.current) + ' / ' + num(st.total), 'count-of');
    }
    fact(p.facts, 'Step', st.step, 'step');
    var eta = etaLeft(job);
    if (eta !== null) fact(p.facts, 'ETA', fmtDuration(eta) + (st.eta_estimated ? ' (est.)' : ''), 'eta');
    var el_ = elapsed(st);
    if (el_ !== null) fact(p.facts, TERMINAL[st.status] ? 'Took' : 'Elapsed', fmtDuration(el_), 'elapsed');
    if (st.worker) fact(p.facts, 'Worker', st.worker, 'worker');
    if (st.station) fact(p.facts, 'Station', st.station, 'station-of');
    p.msg.textContent = st.message || '';
    p.msg.hidden = !st.message;
    p.err.textContent = st.status === 'failed' ? (st.error || 'failed') + (st.code ? ' (' + st.code + ')' : '') : '';
    p.err.hidden = st.status !== 'failed';
    p.actions.hidden = !!TERMINAL[st.status];
    p.cancel.disabled = !!st.cancel_requested || !!TERMINAL[st.status];
    p.cancel.textContent = st.cancel_requested ? 'Cancel requested' : 'Cancel';
    p.cancel.setAttribute('aria-label', (st.cancel_requested ? 'Cancel requested for ' : 'Cancel ') + (st.name || st.job_id));
    renderRetry(job);
  }

  /* Attempt and Retry (docs/dashboard.md, "Retry"): the attempt once a
   * job has been retried; the button on a failure said to be retryable,
   * until the worker starts the next attempt. */
  function renderRetry(job) {
    var st = job.state, p = job.el._parts, name = st.name || st.job_id;
    var attemptNo = typeof st.attempt === 'number' ? st.attempt : 1;
    if (attemptNo > 1) fact(p.facts, 'Attempt', attemptNo, 'attempt');
    var offer = st.status === 'failed' && st.retryable === true;
    if (offer && st.retry_requested) p.status.textContent = 'failed · retry requested';
    p.retry.hidden = !offer;
    p.cancel.hidden = !!TERMINAL[st.status];
    if (offer) p.actions.hidden = false;
    p.retry.disabled = !offer || !!st.retry_requested;
    p.retry.textContent = st.retry_requested ? 'Retry requested' : 'Retry';
    p.retry.setAttribute('aria-label', st.retry_requested
      ? 'Retry requested for ' + name + ' (attempt ' + (attemptNo + 1) + ')'
      : 'Retry ' + name + ' (attempt ' + (attemptNo + 1) + ')');
  }

  function etaLeft(job) {
    var st = job.state;
    if (TERMINAL[st.status] || typeof st.eta_s !== 'number') return null;
    return Math.max(0, (job.etaDeadline - Date.now()) / 1000);
  }

  function elapsed(st) {
    var start = Date.parse(st.started_at || st.first_seen_at || '');
    if (!isFinite(start)) return null;
    if (typeof st.duration_s === 'number') return st.duration_s;
    var end = TERMINAL[st.status] ? Date.parse(st.finished_at || st.updated_at || '') : Date.now();
    return isFinite(end) ? Math.max(0, (end - start) / 1000) : null;
  }

  function place(job) {
    var list = TERMINAL[job.state.status] ? $('done') : $('active');
    if (job.el.parentNode !== list) {
      var focused = job.el.contains(document.activeElement);
      if (list.id === 'done') list.insertBefore(job.el, list.firstChild); else list.appendChild(job.el);
      if (focused) job.el.focus();
    }
    var nActive = $('active').children.length, nDone = $('done').children.length;
    $('active-count').textContent = nActive;
    $('done-count').textContent = nDone;
    $('active-empty').hidden = nActive > 0;
    $('done-empty').hidden = nDone > 0;
  }

  function renderAlert(job) {
    var st = job.state, id = 'alert-' + st.job_id, box = $(id);
    if (st.status !== 'waiting' || !st.validation) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = el('div', 'alert');
      box.id = id;
      box.setAttribute('role', 'alert');
      $('alerts').appendChild(box);
    }
    box.textContent = '';
    box.appendChild(el('h3', null, 'Review needed: ' + (st.name || st.job_id)));
    box.appendChild(el('p', 'reason', st.validation.reason));
    var conf = typeof st.validation.confidence === 'number' ? Math.round(st.validation.confidence * 100) + '%' : '?';
    var line = 'Confidence ' + conf;
    if (typeof st.validation.threshold === 'number') line += ' (threshold ' + Math.round(st.validation.threshold * 100) + '%)';
    box.appendChild(el('p', 'confidence', line));
  }

  function toast(kind, text) {
    var t = el('div', 'toast ' + kind);
    t.setAttribute('role', kind === 'failed' ? 'alert' : 'status');
    t.appendChild(el('span', null, text));
    var close = el('button', null, 'Dismiss');
    close.type = 'button';
    close.addEventListener('click', function () { t.remove(); });
    t.appendChild(close);
    $('toasts').appendChild(t);
    setTimeout(function () { t.remove(); }, TOAST_MS);
  }

  function onState(st) {
    if (!st || typeof st.job_id !== 'string' || st.session_id !== session) return;
    var job = jobs.get(st.job_id);
    var before = job ? job.state : null;
    /* Retained replays and late duplicates carry an older or equal seq. */
    if (before && typeof st.seq === 'number' && typeof before.seq === 'number' && st.seq < before.seq) return;
    if (!job) {
      job = { state: st, el: buildCard(st.job_id) };
      jobs.set(st.job_id, job);
    }
    job.state = st;
    /* The countdown restarts only for a new estimate: a retained replay
     * of the same state (after a reconnect) must not reset it. */
    if (typeof st.eta_s === 'number' && (!before || before.seq !== st.seq || before.eta_s !== st.eta_s || !job.etaDeadline)) {
      job.etaDeadline = Date.now() + st.eta_s * 1000;
    }
    renderCard(job);
    place(job);
    renderAlert(job);
    /* Toast only for a finish seen happening, not for history. */
    if (before && !TERMINAL[before.status] && TERMINAL[st.status]) {
      if (st.status === 'complete') toast('complete', (st.name || st.job_id) + ' complete');
      else toast('failed', (st.name || st.job_id) + ' failed: ' + (st.error || st.code || 'no reason given'));
    }
  }

  function requestCancel(jobId, button) {
    if (!client || !client.connected) {
      toast('failed', 'Not connected: cancel not sent');
      return;
    }
    button.disabled = true;
    var body = JSON.stringify({ action: 'cancel', requested_by: 'dashboard' });
    client.publish(prefix + '/' + session + '/' + jobId + '/control', body, { qos: 1 }, function (err) {
      if (err) {
        button.disabled = false;
        toast('failed', 'Cancel not accepted: ' + err.message);
      }
    });
  }

  function requestRetry(jobId, button) {
    if (!client || !client.connected) {
      toast('failed', 'Not connected: retry not sent');
      return;
    }
    button.disabled = true;
    /* A refused request (its notice shows as a toast) changes no state:
     * the button comes back after a while instead of staying stuck. */
    setTimeout(function () {
      var job = jobs.get(jobId);
      if (job) renderCard(job);
    }, RETRY_SETTLE_MS);
    var body = JSON.stringify({ action: 'retry', requested_by: 'dashboard' });
    client.publish(prefix + '/' + session + '/' + jobId + '/control', body, { qos: 1 }, function (err) {
      if (err) {
        button.disabled = false;
        toast('failed', 'Retry not accepted: ' + err.message);
      } else {
        toast('info', 'Retry requested for ' + jobId + ': the worker starts the next attempt');
      }
    });
  }

  /* ---- connection ---- */
  function scheduleReconnect() {
    if (stopped || retryTimer) return;
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    var delay = Math.round(base / 2 + Math.random() * base / 2);
    attempt++;
    setConn(everConnected ? 'reconnecting' : 'connecting',
      (everConnected ? 'reconnecting' : 'connecting') + ' in ' + Math.ceil(delay / 1000) + 's');
    if (attempt > 6) setConn('offline', 'offline, retrying in ' + Math.ceil(delay / 1000) + 's');
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  function connect() {
    if (client) { client.removeAllListeners(); client.end(true); }
    setConn(everConnected ? 'reconnecting' : 'connecting');
    client = mqtt.connect(wsUrl, {
      clientId: clientId,
      username: 'dashboard',
      password: token,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,      /* our own capped backoff below */
      connectTimeout: 10000,
      keepalive: 30
    });
    client.on('connect', function () {
      attempt = 0;
      everConnected = true;
      setConn('live', 'live');
      client.subscribe([prefix + '/' + session + '/+/state', '$jobwire/rejections/' + clientId], { qos: 1 });
      /* The Stations panel (stations.js) follows stations/+/state. */
      if (window.jobwireStations) window.jobwireStations.attach(client, toast);
    });
    client.on('message', function (topic, payload) {
      if (window.jobwireStations && window.jobwireStations.onMessage(topic, payload)) return;
      if (topic.indexOf('$jobwire/rejections/') === 0) {
        try { toast('failed', 'Refused: ' + JSON.parse(payload.toString()).message); } catch (e) { /* ignore */ }
        return;
      }
      try { onState(JSON.parse(payload.toString())); } catch (e) { /* not JSON: ignore */ }
    });
    client.on('error', function (err) {
      /* CONNACK 4/5 (MQTT 3.1.1): the token was refused; retrying with
       * the same token cannot help. */
      if (err && (err.code === 5 || err.code === 4 || err.code === 135 || err.code === 134)) {
        stopped = true;
        setConn('offline', 'offline: token refused or expired');
        $('login').hidden = false;
        client.end(true);
      }
    });
    client.on('close', function () {
      if (stopped) return;
      scheduleReconnect();
    });
  }

  /* ---- which broker ---- */

  /* "ws://host:port" of a ws: or wss: URL, or null for anything else
   * (other schemes, user:password@, unparsable text). */
  function wsOrigin(text) {
    var u;
    try { u = new URL(text); } catch (e) { return null; }
    if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || u.username || u.password) return null;
    return u.protocol + '//' + u.host;
  }

  /* The operator's config.json next to the page (optional): a missing or
   * unreadable file means "this page's own server only". */
  function loadConfig() {
    if (typeof fetch !== 'function' || location.protocol === 'file:') return Promise.resolve({});
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, CONFIG_TIMEOUT_MS);
    return fetch('config.json', { cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .catch(function () { return {}; })
      .then(function (c) { clearTimeout(timer); return c && typeof c === 'object' ? c : {}; });
  }

  /* Sets wsUrl, or returns why the link's address is refused. */
  function chooseBroker(config) {
    var allowed = {};
    var preferred = typeof config.broker === 'string' && wsOrigin(config.broker) ? config.broker : ownUrl;
    allowed[wsOrigin(ownUrl)] = true;
    allowed[wsOrigin(preferred)] = true;
    (Array.isArray(config.allowed_brokers) ? config.allowed_brokers : []).forEach(function (b) {
      var o = typeof b === 'string' ? wsOrigin(b) : null;
      if (o) allowed[o] = true;
    });
    var asked = params.get('ws');
    if (!asked) {
      wsUrl = preferred;
      return null;
    }
    var origin = wsOrigin(asked);
    if (!origin) return 'the link names a broker address that is not a ws:// or wss:// URL';
    if (!allowed[origin]) {
      return 'the link asks for broker ' + origin + ', which is neither this page\'s server (' +
        wsOrigin(ownUrl) + ') nor an address allowed in the dashboard\'s config.json';
    }
    wsUrl = asked;
    return null;
  }

  function refuseBroker(why) {
    stopped = true;
    setConn('offline', 'offline: broker address not allowed');
    var box = $('blocked');
    box.textContent = '';
    box.appendChild(el('h2', null, 'Not connected'));
    box.appendChild(el('p', 'reason', why.charAt(0).toUpperCase() + why.slice(1) + '. Your token was not sent anywhere. ' +
      'Open the dashboard from its own address, or ask the operator to allow that broker.'));
    box.hidden = false;
  }

  /* ---- start ---- */
  function showForm() {
    setConn('offline', 'not connected');
    $('login').hidden = false;
    $('f-session').value = session;
    $('f-session').focus();
  }

  $('login').addEventListener('submit', function (e) {
    e.preventDefault();
    var p = new URLSearchParams();
    p.set('session', $('f-session').value.trim());
    p.set('token', $('f-token').value.trim());
    if (params.get('prefix')) p.set('prefix', prefix);
    if (params.get('ws') && wsUrl) p.set('ws', wsUrl);
    location.hash = p.toString();
    location.reload();
  });

  setInterval(function () {
    jobs.forEach(function (job) { if (!TERMINAL[job.state.status]) renderCard(job); });
  }, 1000);

  if (!session || !/^[A-Za-z0-9._-]{1,128}$/.test(session)) {
    showForm();
    return;
  }
  $('session-label').textContent = 'session ' + session;
  document.title = 'jobwire · ' + session;
  window.jobwireDashboard = { jobs: jobs, clientId: clientId };
  loadConfig().then(function (config) {
    var why = chooseBroker(config);
    if (why) {
      refuseBroker(why);
      return;
    }
    window.jobwireDashboard.broker = wsUrl;
    connect();
  });
})();
