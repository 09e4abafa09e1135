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
 *
 * History (docs/dashboard.md, "Timeline"): the first time a job is seen,
 * and when its state moves on, the page asks the broker for the job's
 * events (an MQTT 5 request on $jobwire/history/{session}/{job}, answered
 * on $jobwire/replies/{client id}/history) and shows them as a timeline
 * on the card. The connection is a persistent MQTT 5 session with a
 * client id kept for the tab (sessionStorage) and QoS 1 subscriptions, so
 * what is published while it is down comes when it is back; the timeline
 * is then asked for again, which fills any gap.
 */
(function () {
  'use strict';

  var TERMINAL = { complete: true, failed: true };
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var TOAST_MS = 8000;

  var CONFIG_TIMEOUT_MS = 3000;
  var RETRY_SETTLE_MS = 5000;
  var HISTORY_DEBOUNCE_MS = 250;
  var SESSION_EXPIRY_S = 3600;  /* how long the broker keeps the session while the page is away */

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
  var reconnected = false;  /* a connect after the first asks every timeline again */
  var stopped = false;
  /* An observer token (a wall display) may publish nothing: the page
   * offers no Cancel and no answers. Only a hint for the page; the broker
   * enforces the role whatever the page does. */
  var readOnly = tokenRole(token) === 'observer';

  function tokenRole(t) {
    try {
      var part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      var claims = JSON.parse(atob(part + '==='.slice((part.length + 3) % 4)));
      return typeof claims.role === 'string' ? claims.role : '';
    } catch (e) {
      return '';
    }
  }

  var clientId = tabClientId();

  /* One client id per tab, kept across reloads (sessionStorage is the
   * tab's): the broker's persistent session is found again by it. */
  function tabClientId() {
    var id = null;
    try { id = sessionStorage.getItem('jobwire-client-id'); } catch (e) { /* storage off */ }
    if (!id || !/^dash-[0-9a-f]{8,16}$/.test(id)) {
      id = 'dash-' + Math.random().toString(16).slice(2, 10) + Math.random().toString(16).slice(2, 6);
      try { sessionStorage.setItem('jobwire-client-id', id); } catch (e) { /* this load only */ }
    }
    return id;
  }

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
    if (st.review) fact(p.facts, 'Review', st.review.choice + (st.review.by ? ' by ' + st.review.by : ''), 'review');
    if (st.station) fact(p.facts, 'Station', st.station, 'station-of');
    p.msg.textContent = st.message || '';
    p.msg.hidden = !st.message;
    p.err.textContent = st.status === 'failed' ? (st.error || 'failed') + (st.code ? ' (' + st.code + ')' : '') : '';
    p.err.hidden = st.status !== 'failed';
    p.actions.hidden = !!TERMINAL[st.status] || readOnly;
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
    if (offer && !readOnly) p.actions.hidden = false;
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

  /* The review box of a waiting job: the question (announced once, as
   * role="alert"), the offered actions as buttons with a comment field
   * beside them (a field for the answer when none are offered), and the
   * decision once the broker has it (st.review). Built once per question
   * and then only updated, so focus and a half-typed comment survive the
   * state updates that keep coming. */
  function renderAlert(job) {
    var st = job.state, id = 'alert-' + st.job_id, box = $(id);
    if (st.status !== 'waiting' || !st.validation) {
      if (box) box.remove();
      job.reviewSending = false;
      return;
    }
    var question = JSON.stringify(st.validation);
    if (!box || box._question !== question) {
      var focused = box && box.contains(document.activeElement);
      if (box) box.remove();
      box = buildReview(job, st);
      box._question = question;
      $('alerts').appendChild(box);
      job.reviewSending = false;
      if (focused) box.querySelector('button, input').focus();
    }
    var r = box._parts, answered = !!st.review;
    r.heading.textContent = 'Review needed: ' + (st.name || st.job_id);
    r.controls.forEach(function (c) { c.disabled = answered || !!job.reviewSending; });
    r.form.hidden = answered || readOnly;
    r.readOnly.hidden = answered || !readOnly;
    r.decision.textContent = answered ? decisionText(st.review) : (job.reviewSending ? 'Sending your answer…' : '');
    r.decision.hidden = !answered && !job.reviewSending;
  }

  function decisionText(rv) {
    var t = 'Answered: ' + rv.choice;
    if (rv.by) t += ' by ' + rv.by;
    var at = Date.parse(rv.at || '');
    if (isFinite(at)) t += ' at ' + new Date(at).toLocaleTimeString();
    if (rv.comment) t += ' — “' + rv.comment + '”';
    return t + '. Waiting for the worker to go on.';
  }

  function buildReview(job, st) {
    var jobId = st.job_id, v = st.validation, label = st.name || jobId;
    var box = el('div', 'alert review');
    box.id = 'alert-' + jobId;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-labelledby', 'alert-h-' + jobId);
    var ask = el('div', 'question');
    ask.setAttribute('role', 'alert');
    var heading = el('h3');
    heading.id = 'alert-h-' + jobId;
    ask.appendChild(heading);
    ask.appendChild(el('p', 'reason', v.reason));
    var conf = typeof v.confidence === 'number' ? Math.round(v.confidence * 100) + '%' : '?';
    var line = 'Confidence ' + conf;
    if (typeof v.threshold === 'number') line += ' (threshold ' + Math.round(v.threshold * 100) + '%)';
    ask.appendChild(el('p', 'confidence', line));
    box.appendChild(ask);

    var form = el('form', 'review-form');
    form.setAttribute('aria-label', 'Answer the review of ' + label);
    var controls = [];
    var cLabel = el('label', null, 'Comment (optional)');
    cLabel.htmlFor = 'comment-' + jobId;
    var comment = el('input', 'comment');
    comment.id = 'comment-' + jobId;
    comment.maxLength = 2000;
    comment.autocomplete = 'off';
    form.appendChild(cLabel);
    form.appendChild(comment);
    controls.push(comment);
    var choices = el('div', 'choices');
    choices.setAttribute('role', 'group');
    choices.setAttribute('aria-label', 'Choices');
    var offered = Array.isArray(v.actions) ? v.actions.filter(function (a) { return typeof a === 'string' && a; }) : [];
    var answer = null;
    if (offered.length) {
      offered.forEach(function (a) {
        var b = el('button', 'choice', a);
        b.type = 'button';
        b.setAttribute('data-choice', a);
        b.setAttribute('aria-label', a + ': answer the review of ' + label);
        b.addEventListener('click', function () { sendReview(job, a, comment.value); });
        choices.appendChild(b);
        controls.push(b);
      });
    } else {
      /* Nothing offered: any non-empty answer is taken. */
      var aLabel = el('label', null, 'Your answer');
      aLabel.htmlFor = 'answer-' + jobId;
      answer = el('input', 'answer');
      answer.id = 'answer-' + jobId;
      answer.maxLength = 200;
      answer.autocomplete = 'off';
      answer.required = true;
      var send = el('button', 'choice', 'Send answer');
      send.type = 'submit';
      choices.appendChild(aLabel);
      choices.appendChild(answer);
      choices.appendChild(send);
      controls.push(answer, send);
    }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (answer && answer.value.trim() && !readOnly) sendReview(job, answer.value.trim(), comment.value);
    });
    form.appendChild(choices);
    box.appendChild(form);
    var ro = el('p', 'muted', 'Read-only display: answer from a viewer\'s page.');
    box.appendChild(ro);
    var decision = el('p', 'decision');
    decision.setAttribute('role', 'status');
    decision.setAttribute('aria-live', 'polite');
    decision.tabIndex = -1;
    box.appendChild(decision);
    box._parts = { heading: heading, form: form, controls: controls, decision: decision, readOnly: ro };
    return box;
  }

  function sendReview(job, choice, comment) {
    var jobId = job.state.job_id;
    if (!client || !client.connected) {
      toast('failed', 'Not connected: review not sent');
      return;
    }
    var msg = { action: 'review', choice: choice };
    if (comment && comment.trim()) msg.comment = comment.trim().slice(0, 2000);
    job.reviewSending = true;
    renderAlert(job);
    /* The pressed button is disabled now: keep the keyboard in the box. */
    var box = $('alert-' + jobId);
    if (box) box._parts.decision.focus();
    client.publish(prefix + '/' + session + '/' + jobId + '/control', JSON.stringify(msg), { qos: 1 }, function (err) {
      if (err) {
        job.reviewSending = false;
        renderAlert(job);
        toast('failed', 'Review not accepted: ' + err.message);
      }
    });
  }

  /* A refused control: the review it carried may be answered again. */
  function reviewRefused(notice) {
    var t = typeof notice.topic === 'string' ? notice.topic.split('/') : [];
    var job = t.length === 4 && t[3] === 'control' ? jobs.get(t[2]) : null;
    if (job && job.reviewSending) {
      job.reviewSending = false;
      renderAlert(job);
    }
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
    /* The timeline: asked for when the job is first seen, and again when
     * its state says something happened that the timeline shows. */
    if (!before || timelineChanged(before, st)) askHistory(st.job_id);
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


  /* ---- timeline (history) ---- */

  /* Where the broker answers this page's history requests: its own
   * replies topic, which every client may read. Ids made by
   * tabClientId() need no escaping. */
  function repliesTopic() { return '$jobwire/replies/' + clientId + '/history'; }

  /* Whether the state moved in a way the timeline shows. */
  function timelineChanged(a, b) {
    return a.status !== b.status || a.step !== b.step || a.attempt !== b.attempt ||
      !!a.cancel_requested !== !!b.cancel_requested || !!a.retry_requested !== !!b.retry_requested ||
      JSON.stringify(a.validation || null) !== JSON.stringify(b.validation || null) ||
      JSON.stringify(a.review || a.decision || null) !== JSON.stringify(b.review || b.decision || null);
  }

  /* Asks for a job's history (debounced: a burst of changes, one request). */
  function askHistory(jobId) {
    var job = jobs.get(jobId);
    if (!job || !client || !client.connected) return;
    clearTimeout(job.historyTimer);
    job.historyTimer = setTimeout(function () {
      if (!client || !client.connected) return;
      client.publish('$jobwire/history/' + session + '/' + jobId, '', {
        qos: 1,
        properties: { responseTopic: repliesTopic(), correlationData: 'history:' + jobId }
      });
    }, HISTORY_DEBOUNCE_MS);
  }

  function onHistory(h) {
    if (!h || h.type !== 'history' || h.session !== session || typeof h.job !== 'string') return;
    var job = jobs.get(h.job);
    if (!job || !Array.isArray(h.events)) return;
    /* An older answer (requests crossing) never replaces a newer one. */
    if (job.history && typeof job.history.seq === 'number' && h.seq < job.history.seq) return;
    job.history = h;
    renderTimeline(job);
  }

  function clock(ts) {
    var d = new Date(ts);
    return isFinite(d.getTime()) ? d.toLocaleTimeString([], { hour12: false }) : '';
  }

  /* The events worth a line, as { kind, text, ts, attempt }. */
  function timelineEntries(h) {
    var out = [], step = null, att = 0;
    h.events.forEach(function (e) {
      var ev = e.event && typeof e.event === 'object' ? e.event : {}, text = null, kind = e.type;
      if (e.attempt !== att) {
        if (att) out.push({ kind: 'attempt', text: 'Attempt ' + e.attempt, ts: ev.ts, attempt: e.attempt });
        att = e.attempt;
      }
      switch (e.type) {
        case 'started': text = 'Started' + (ev.worker ? ' on ' + ev.worker : ''); step = null; break;
        case 'progress':
          if (typeof ev.step === 'string' && ev.step !== step) { step = ev.step; kind = 'step'; text = 'Step: ' + ev.step; }
          break;
        case 'validation-required':
          text = 'Review needed: ' + (ev.reason || '') +
            (typeof ev.confidence === 'number' ? ' (confidence ' + Math.round(ev.confidence * 100) + '%)' : '');
          break;
        case 'control':
          if (ev.action === 'cancel') text = 'Cancel requested';
          else if (ev.action === 'retry') text = 'Retry requested';
          else if (ev.action === 'review') {
            kind = 'decision';
            text = 'Decision: ' + (ev.choice || '') + (ev.comment ? ' (' + ev.comment + ')' : '');
          }
          break;
        case 'complete': text = 'Complete'; break;
        case 'failed': text = 'Failed: ' + (ev.error || ev.code || 'no reason given'); break;
        default: break;
      }
      if (text) out.push({ kind: kind, text: text, ts: ev.ts, attempt: e.attempt, seq: e.seq });
    });
    return out;
  }

  function renderTimeline(job) {
    var li = job.el, box = li._parts.timeline;
    if (!box) {
      box = el('details', 'timeline');
      box.appendChild(el('summary', null, 'Timeline'));
      box.appendChild(el('ol'));
      li.insertBefore(box, li._parts.actions);
      li._parts.timeline = box;
    }
    var entries = timelineEntries(job.history), list = box.querySelector('ol');
    box.querySelector('summary').textContent = 'Timeline (' + entries.length + ')' +
      (job.history.truncated ? ', latest events only' : '');
    list.textContent = '';
    entries.forEach(function (t) {
      var item = el('li', 'tl-' + t.kind);
      item.setAttribute('data-kind', t.kind);
      if (t.seq) item.setAttribute('data-seq', String(t.seq));
      item.appendChild(el('time', null, clock(t.ts)));
      item.appendChild(document.createTextNode(' ' + t.text));
      list.appendChild(item);
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
      protocolVersion: 5,
      clean: false,            /* a persistent session: QoS 1 messages wait while away */
      properties: { sessionExpiryInterval: SESSION_EXPIRY_S },
      reconnectPeriod: 0,      /* our own capped backoff below */
      connectTimeout: 10000,
      keepalive: 30
    });
    client.on('connect', function () {
      attempt = 0;
      everConnected = true;
      setConn('live', 'live');
      client.subscribe([prefix + '/' + session + '/+/state', '$jobwire/rejections/' + clientId,
        repliesTopic()], { qos: 1 });
      /* Back after a drop: the timelines may have missed something. */
      if (reconnected) jobs.forEach(function (job, id) { askHistory(id); });
      reconnected = true;
      /* The Stations panel (stations.js) follows stations/+/state. */
      if (window.jobwireStations) window.jobwireStations.attach(client, toast);
    });
    client.on('message', function (topic, payload) {
      if (window.jobwireStations && window.jobwireStations.onMessage(topic, payload)) return;
      if (topic === repliesTopic()) {
        try { onHistory(JSON.parse(payload.toString())); } catch (e) { /* not JSON: ignore */ }
        return;
      }
      if (topic.indexOf('$jobwire/rejections/') === 0) {
        try {
          var notice = JSON.parse(payload.toString());
          toast('failed', 'Refused: ' + notice.message);
          reviewRefused(notice);
        } catch (e) { /* ignore */ }
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
  /* For tests and the console: the jobs, the client id, the live connection. */
  window.jobwireDashboard = { jobs: jobs, clientId: clientId, connection: function () { return client; } };
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
