/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire dashboard, Stations panel: one card per station that serves the
 * page's session, from the broker's retained view of it for that session,
 * stations/{station}/sessions/{session} (docs/topics.md, "Stations"; with
 * JWT on the only station topic a viewer may read), and, where the token
 * allows it (no JWT, admin), stations/{station}/state of the stations that
 * name no sessions:
 * online/offline and since when, last seen, CPU/GPU/memory/queue bars,
 * temperature and the job it runs; greyed when offline. A warning toast
 * when a station's GPU load reaches the threshold (default 90 %, from the
 * URL fragment's gpu_warn= or the panel's setting, kept in this browser)
 * and when a station is seen going offline. app.js hands over its MQTT
 * client and toasts (window.jobwireStations.attach); a classic script.
 */
(function () {
  'use strict';

  var DEFAULT_GPU_WARN = 90;
  var QUEUE_FULL = 10; /* the queue bar is full at this length, or the longest seen */

  var params = new URLSearchParams(location.hash.replace(/^#/, ''));
  var session = params.get('session') || '';
  var stations = new Map(); /* id -> { state, el, gpuWarned } */
  var toast = function () {};
  var queueMax = QUEUE_FULL;

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function storedThreshold() {
    try { return window.localStorage.getItem('jobwire.gpu_warn'); } catch (e) { return null; }
  }
  function validThreshold(v) {
    var n = Number(v);
    return v !== null && v !== '' && isFinite(n) && n >= 1 && n <= 100 ? n : null;
  }
  var threshold = validThreshold(params.get('gpu_warn')) || validThreshold(storedThreshold()) || DEFAULT_GPU_WARN;

  function fmtAgo(iso) {
    var t = Date.parse(iso);
    if (!isFinite(t)) return '';
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
    return new Date(t).toLocaleString();
  }
  function fmtTime(iso) {
    var t = Date.parse(iso);
    return isFinite(t) ? new Date(t).toLocaleTimeString() : '';
  }

  /* A labelled bar: role meter where the browser knows it, with its value
   * for screen readers. */
  function bar(label) {
    var row = el('div', 'st-bar');
    var name = el('span', 'st-bar-label', label);
    var meter = el('div', 'meter');
    meter.setAttribute('role', 'meter');
    meter.setAttribute('aria-valuemin', '0');
    meter.setAttribute('aria-valuemax', '100');
    meter.appendChild(el('span'));
    var value = el('span', 'st-bar-value');
    row.appendChild(name);
    row.appendChild(meter);
    row.appendChild(value);
    return { row: row, meter: meter, fill: meter.firstChild, value: value, label: label };
  }

  function setBar(b, pct, text, stationName) {
    var known = typeof pct === 'number' && isFinite(pct);
    b.row.hidden = !known;
    if (!known) return;
    var p = Math.max(0, Math.min(100, pct));
    b.fill.style.width = p + '%';
    b.meter.setAttribute('aria-valuenow', String(Math.round(p)));
    b.meter.setAttribute('aria-valuetext', text);
    b.meter.setAttribute('aria-label', stationName + ' ' + b.label);
    b.value.textContent = text;
    b.row.setAttribute('data-high', p >= threshold ? 'true' : 'false');
  }

  function buildCard(id) {
    var li = el('li', 'station');
    li.id = 'station-' + id;
    li.setAttribute('data-station', id);
    var head = el('div', 'job-head');
    var name = el('h3', 'job-name');
    var state = el('span', 'status');
    head.appendChild(name);
    head.appendChild(state);
    var since = el('p', 'facts');
    var bars = el('div', 'st-bars');
    var cpu = bar('CPU'), gpu = bar('GPU'), mem = bar('Memory'), queue = bar('Queue');
    [cpu, gpu, mem, queue].forEach(function (b) { bars.appendChild(b.row); });
    var facts = el('p', 'facts');
    li.appendChild(head);
    li.appendChild(since);
    li.appendChild(bars);
    li.appendChild(facts);
    li._parts = { name: name, state: state, since: since, cpu: cpu, gpu: gpu, mem: mem, queue: queue, facts: facts };
    return li;
  }

  function fact(parent, label, value, cls) {
    if (value === '' || value === undefined || value === null) return;
    var s = el('span', cls);
    s.appendChild(document.createTextNode(label + ' '));
    s.appendChild(el('b', null, String(value)));
    parent.appendChild(s);
  }

  function render(st) {
    var p = st.el._parts, s = st.state, status = s.status || {};
    var sys = status.system || {};
    var online = s.state === 'online';
    /* A will or the broker's offline status carries no name: the last
     * one known stays. */
    if (status.name) st.name = status.name;
    var label = st.name || s.station;
    st.el.setAttribute('data-state', online ? 'online' : 'offline');
    st.el.setAttribute('aria-label', label + ', ' + (online ? 'online' : 'offline'));
    p.name.textContent = label;
    p.state.textContent = online ? 'online' : (s.broker_generated ? 'offline (no report)' : 'offline');
    p.since.textContent = '';
    var since = online ? s.online_since : s.offline_since;
    fact(p.since, online ? 'Online since' : 'Offline since', fmtTime(since), 'since');
    fact(p.since, 'Last seen', s.last_seen ? fmtAgo(s.last_seen) : 'never', 'last-seen');
    setBar(p.cpu, sys.cpu_percent, Math.round(sys.cpu_percent) + '%', label);
    setBar(p.gpu, sys.gpu_percent, Math.round(sys.gpu_percent) + '%', label);
    setBar(p.mem, sys.memory_percent, Math.round(sys.memory_percent) + '%', label);
    if (typeof sys.queue_length === 'number') {
      queueMax = Math.max(queueMax, sys.queue_length);
      setBar(p.queue, 100 * sys.queue_length / queueMax, sys.queue_length + ' waiting', label);
      p.queue.row.setAttribute('data-high', 'false');
    } else {
      setBar(p.queue, null);
    }
    p.facts.textContent = '';
    if (typeof sys.temperature_c === 'number') fact(p.facts, 'Temperature', Math.round(sys.temperature_c * 10) / 10 + ' °C', 'temp');
    if (s.job && s.job.job_id) fact(p.facts, 'Running', s.job.job_id, 'st-job');
    if (status.model) fact(p.facts, 'Model', status.model, 'model');
    if (!online && status.reason) fact(p.facts, 'Reason', status.reason, 'reason');
  }

  function place() {
    var list = $('stations');
    var ids = Array.from(stations.keys()).sort();
    ids.forEach(function (id) { list.appendChild(stations.get(id).el); });
    $('stations-count').textContent = String(stations.size);
    $('stations-empty').hidden = stations.size > 0;
  }

  /* A station's whole state is shown only when it names no sessions (one
   * that serves sessions comes through the session's view). */
  function visible(s, view) {
    return view || !Array.isArray(s.sessions) || s.sessions.length === 0;
  }

  /* A view cleared by the broker: the station no longer serves the session. */
  function drop(id) {
    var st = stations.get(id);
    if (!st) return;
    if (st.el.parentNode) st.el.parentNode.removeChild(st.el);
    stations.delete(id);
    place();
  }

  function onState(s, view) {
    if (!s || typeof s.station !== 'string' || !visible(s, view)) return;
    var st = stations.get(s.station);
    var before = st ? st.state : null;
    if (!st) {
      st = { state: s, el: buildCard(s.station), gpuWarned: false };
      stations.set(s.station, st);
    }
    st.state = s;
    render(st);
    place();
    var label = st.name || s.station;
    var gpu = s.status && s.status.system && s.status.system.gpu_percent;
    if (s.state === 'online' && typeof gpu === 'number' && gpu >= threshold) {
      if (!st.gpuWarned) {
        st.gpuWarned = true;
        toast('warning', label + ': GPU load ' + Math.round(gpu) + '% (warning at ' + threshold + '%)');
      }
    } else {
      st.gpuWarned = false;
    }
    /* Offline seen happening, not history. */
    if (before && before.state === 'online' && s.state !== 'online') {
      toast('warning', label + ' went offline' + (s.broker_generated ? ': no report in time' : ''));
    }
  }

  function setThreshold(v) {
    var n = validThreshold(v);
    if (n === null) return false;
    threshold = n;
    try { window.localStorage.setItem('jobwire.gpu_warn', String(n)); } catch (e) { /* private mode */ }
    stations.forEach(function (st) { render(st); });
    return true;
  }

  var input = $('gpu-warn');
  if (input) {
    input.value = String(threshold);
    input.addEventListener('change', function () {
      if (!setThreshold(input.value)) input.value = String(threshold);
    });
  }
  setInterval(function () { stations.forEach(function (st) { render(st); }); }, 5000);

  window.jobwireStations = {
    stations: stations,
    threshold: function () { return threshold; },
    /* app.js: its client connected (subscribe) and its toasts. */
    attach: function (client, toastFn) {
      toast = toastFn;
      /* A viewer's token may read only the views of its sessions: the
       * second subscription is then refused, which changes nothing. */
      client.subscribe('stations/+/sessions/' + session, { qos: 1 });
      client.subscribe('stations/+/state', { qos: 1 });
    },
    /* app.js: a message on stations/...; true when it was ours. */
    onMessage: function (topic, payload) {
      if (topic.indexOf('stations/') !== 0) return false;
      var lv = topic.split('/');
      var view = lv.length === 4 && lv[2] === 'sessions' && lv[3] === session;
      if (view && payload.length === 0) { drop(lv[1]); return true; }
      try { onState(JSON.parse(payload.toString()), view); } catch (e) { /* not JSON: ignore */ }
      return true;
    }
  };
})();
