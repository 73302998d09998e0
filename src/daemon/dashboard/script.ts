/**
 * The dashboard's script (served as /dashboard/app.js, under CSP script-src 'self'). Plain
 * browser JavaScript, no framework and nothing fetched from elsewhere. It reads the state from
 * the API with the session cookie, re-reads on every server-sent event (the stream resumes with
 * Last-Event-ID after a drop), and sends writes with the page's CSRF token.
 * Kept free of backticks and dollar-brace so it can live in this template string.
 */
export const DASHBOARD_JS = String.raw`
'use strict';
(function () {
  var csrf = document.querySelector('meta[name="ankibridge-csrf"]').getAttribute('content');
  var params = new URLSearchParams(location.search);
  var focusId = params.get('focus');
  var focused = false;
  var state = { status: null, decisions: [], history: [], backups: [], backupsAvailable: true };
  var LABEL = { 'usb.merge': 'Sync both', 'usb.pull': 'Copy phone \u2192 desktop', 'usb.push': 'Copy desktop \u2192 phone',
    'cloud.sync': 'Cloud sync', restore: 'Restore backup', backup: 'Backup', noop: 'No-op', selftest: 'Self-test' };
  var STATE_WORDS = { 'in-step': 'In step', 'desktop-ahead': 'Desktop ahead', 'phone-ahead': 'Phone ahead',
    'both-changed': 'Both changed', 'first-meeting': 'First meeting', 'cannot-merge': 'Cannot merge',
    'waiting-for-import': 'Waiting for import on the phone', 'phone-not-ready': 'Phone not ready' };

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function when(iso) {
    if (!iso) return 'never';
    var d = new Date(iso);
    return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  }
  function api(method, path, body) {
    var init = { method: method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET') { init.headers['content-type'] = 'application/json'; init.headers['x-csrf-token'] = csrf; init.body = JSON.stringify(body || {}); }
    return fetch(path, init).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) { var e = new Error((j.error && j.error.message) || ('HTTP ' + r.status)); e.body = j; throw e; } return j; });
    });
  }

  function refresh() {
    return Promise.all([
      api('GET', '/api/v1/status'),
      api('GET', '/api/v1/decisions'),
      api('GET', '/api/v1/history?limit=10'),
      api('GET', '/api/v1/backups?limit=10').catch(function () { return null; }),
    ]).then(function (r) {
      state.status = r[0]; state.decisions = r[1].decisions; state.history = r[2].jobs;
      state.backupsAvailable = r[3] !== null; state.backups = r[3] ? r[3].backups : [];
      render();
    }).catch(function (e) { setStatus('The daemon did not answer: ' + e.message); });
  }
  var pending = null;
  function refreshSoon() { if (pending) return; pending = setTimeout(function () { pending = null; refresh(); }, 60); }

  function setStatus(text) { document.getElementById('status-line').textContent = text; }

  function statusText() {
    var s = state.status;
    if (!s) return 'Connecting to the daemon…';
    var active = s.jobs.active.filter(function (j) { return j.state === 'running'; });
    if (active.length) return 'Working: ' + (LABEL[active[0].kind] || active[0].kind) + (active[0].progress && typeof active[0].progress.fraction === 'number' ? ' (' + Math.round(active[0].progress.fraction * 100) + ' %)' : '') + '.';
    var waiting = state.decisions.filter(function (d) { return !d.activeJob; });
    if (waiting.length) return 'Needs you: ' + waiting.length + (waiting.length === 1 ? ' phone waits' : ' phones wait') + ' for a decision.';
    if (s.paused) return 'Paused ' + (s.paused.until ? 'until ' + when(s.paused.until) : 'until resumed') + '.';
    var last = state.history[0];
    if (last && last.state === 'failed') return 'Last job failed: ' + (last.error ? last.error.message : '') ;
    return 'Idle. Everything is in step.';
  }

  function chart(side, max) {
    var days = 14, now = new Date(), counts = {}, total = 0, cells = [];
    (side.reviewsPerDay || []).forEach(function (p) { counts[p.day] = p.count; });
    for (var i = days - 1; i >= 0; i--) {
      var d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i));
      var key = d.toISOString().slice(0, 10);
      cells.push({ key: key, n: counts[key] || 0 }); total += counts[key] || 0;
    }
    var s = svg('svg', { viewBox: '0 0 140 44', class: 'chart', role: 'img', preserveAspectRatio: 'none' });
    var label = 'Reviews per day on ' + side.label + ', last 14 days: ' + total + ' in all, ' + cells[cells.length - 1].n + ' today.';
    s.setAttribute('aria-label', label);
    var t = svg('title', {}); t.textContent = label; s.appendChild(t);
    s.appendChild(svg('line', { x1: 0, y1: 42.5, x2: 140, y2: 42.5, class: 'axis' }));
    cells.forEach(function (c, i) {
      var h = max > 0 ? Math.round((c.n / max) * 40) : 0;
      if (c.n > 0 && h < 2) h = 2;
      s.appendChild(svg('rect', { x: i * 10 + 1, y: 42 - h, width: 8, height: h, class: i === days - 1 ? 'bar today' : 'bar' }));
    });
    return s;
  }

  function sideBox(title, side, max, id) {
    var dl = el('dl', {}, [
      el('dt', { text: 'Reviews since last sync' }), el('dd', { text: side.reviewsSinceBase === null ? 'unknown (first meeting)' : String(side.reviewsSinceBase) }),
      el('dt', { text: 'Notes changed' }), el('dd', { text: side.notesChangedSinceBase === null ? 'unknown' : String(side.notesChangedSinceBase) }),
      el('dt', { text: 'Newest review' }), el('dd', { text: when(side.newestReviewAt) }),
      el('dt', { text: 'Cards' }), el('dd', { text: String(side.cards) }),
      el('dt', { text: 'Read from' }), el('dd', { text: side.source }),
    ]);
    return el('section', { class: 'side', 'aria-labelledby': id }, [el('h4', { id: id, text: title + ': ' + side.label }), dl, chart(side, max)]);
  }

  function decisionCard(d) {
    var max = 0;
    [d.desktop, d.phone].forEach(function (s) { (s.reviewsPerDay || []).forEach(function (p) { if (p.count > max) max = p.count; }); });
    var hid = 'decision-title-' + d.id.replace(/[^A-Za-z0-9_-]/g, '_');
    var card = el('article', { class: 'card decision', id: 'decision-' + d.id, tabindex: '-1', 'aria-labelledby': hid, 'data-state': d.state }, [
      el('h3', { id: hid, text: d.deviceLabel + ' \u2014 ' + (STATE_WORDS[d.state] || d.state) }),
      el('p', { class: 'headline', text: d.headline }),
      el('div', { class: 'sides' }, [sideBox('Desktop', d.desktop, max, hid + '-desktop'), sideBox('Phone', d.phone, max, hid + '-phone')]),
      el('p', { class: 'muted', text: d.baseAt ? 'Both sides last agreed on ' + when(d.baseAt) + '.' : 'These two have not been synced before.' }),
    ]);
    if (d.activeJob) {
      var job = (state.status.jobs.active || []).filter(function (j) { return j.id === d.activeJob; })[0];
      card.appendChild(progressBlock(job || { id: d.activeJob, kind: 'usb.merge', state: 'queued', progress: null }));
      return card;
    }
    var actions = el('div', { class: 'actions', role: 'group', 'aria-label': 'What to do with ' + d.deviceLabel });
    d.actions.forEach(function (a) {
      var text = a.label + (a.recommended ? ' (recommended)' : '') + (a.needsConfirmation ? '\u2026' : '');
      var guardId = a.guard ? hid + '-guard-' + a.id : null;
      var b = el('button', { type: 'button', class: a.recommended ? 'primary' : (a.needsConfirmation ? 'danger' : ''), 'data-action': a.id,
        disabled: !a.available, 'aria-describedby': guardId, text: text });
      b.addEventListener('click', function () { choose(d, a); });
      actions.appendChild(el('div', { class: 'action' }, [b,
        a.guard ? el('p', { class: 'guard', id: guardId, text: a.guard }) : null,
        !a.available && a.unavailableReason ? el('p', { class: 'muted', text: a.unavailableReason }) : null]));
    });
    card.appendChild(actions);
    return card;
  }

  function progressBlock(job) {
    var p = job.progress || {};
    var pid = 'progress-' + job.id;
    var bar = el('progress', { id: pid, max: '1', 'aria-label': (LABEL[job.kind] || job.kind) + ' progress' });
    if (typeof p.fraction === 'number') bar.value = p.fraction;
    return el('div', { class: 'job', 'data-job': job.id, 'data-state': job.state }, [
      el('p', { text: (LABEL[job.kind] || job.kind) + ': ' + (job.state === 'queued' ? 'waiting to start' : (p.message || 'working')) }), bar]);
  }

  function confirmDialog(title, guard, yes) {
    return new Promise(function (resolve) {
      var dlg = document.getElementById('confirm');
      document.getElementById('confirm-title').textContent = title;
      document.getElementById('confirm-guard').textContent = guard;
      var y = document.getElementById('confirm-yes'), n = document.getElementById('confirm-no');
      y.textContent = yes;
      function done(v) { y.onclick = null; n.onclick = null; dlg.close(); resolve(v); }
      y.onclick = function () { done(true); };
      n.onclick = function () { done(false); };
      dlg.oncancel = function () { done(false); };
      dlg.showModal();
      n.focus();
    });
  }

  function choose(d, a) {
    var go = a.needsConfirmation ? confirmDialog(a.label + '?', a.guard || 'Work on the other side would be lost.', 'Yes, ' + a.label.toLowerCase()) : Promise.resolve(true);
    go.then(function (ok) {
      if (!ok) return;
      return api('POST', '/api/v1/decisions/' + encodeURIComponent(d.id) + '/actions/' + a.id, { confirm: a.needsConfirmation })
        .then(refresh).catch(function (e) { setStatus(e.message); });
    });
  }

  function restore(b) {
    confirmDialog('Restore this backup?', 'The desktop collection is replaced by the backup from ' + when(b.createdAt) + '. The current one is backed up first.', 'Restore')
      .then(function (ok) {
        if (!ok) return;
        return api('POST', '/api/v1/backups/' + encodeURIComponent(b.id) + '/restore', { confirm: true }).then(refresh).catch(function (e) { setStatus(e.message); });
      });
  }

  function render() {
    setStatus(statusText());
    var dBox = document.getElementById('decisions');
    // Live updates rebuild the cards: keep the keyboard focus where it was.
    var hadFocus = document.activeElement && dBox.contains(document.activeElement) ? document.activeElement.id : '';
    dBox.replaceChildren();
    if (!state.decisions.length) dBox.appendChild(el('p', { class: 'muted', text: 'No phone needs a decision.' }));
    state.decisions.forEach(function (d) {
      var card = decisionCard(d);
      if (focusId && d.id === focusId) card.classList.add('focused');
      dBox.appendChild(card);
    });
    var target = focusId ? document.getElementById('decision-' + focusId) : null;
    if (target && !focused) { focused = true; target.scrollIntoView({ block: 'start' }); target.focus(); }
    else if (hadFocus && document.getElementById(hadFocus)) document.getElementById(hadFocus).focus();
    var jBox = document.getElementById('jobs');
    jBox.replaceChildren();
    var active = state.status.jobs.active;
    if (!active.length) jBox.appendChild(el('p', { class: 'muted', text: 'Nothing is running.' }));
    active.forEach(function (j) { jBox.appendChild(el('div', { class: 'card' }, [progressBlock(j)])); });
    var hBox = document.getElementById('history');
    hBox.replaceChildren();
    if (!state.history.length) hBox.appendChild(el('li', { class: 'muted', text: 'Nothing has happened yet.' }));
    state.history.forEach(function (j) {
      hBox.appendChild(el('li', { 'data-job': j.id }, [
        el('span', { text: (LABEL[j.kind] || j.kind) + ' (' + j.origin + ')' }),
        el('span', { class: 'state-' + j.state, text: j.state === 'succeeded' ? 'done' : j.state }),
        el('span', { class: 'muted', text: when(j.finishedAt || j.createdAt) }),
        j.error ? el('span', { class: 'muted', text: j.error.message }) : null]));
    });
    var bBox = document.getElementById('backups');
    bBox.replaceChildren();
    if (!state.backupsAvailable) bBox.appendChild(el('li', { class: 'muted', text: 'The backup store is not available.' }));
    else if (!state.backups.length) bBox.appendChild(el('li', { class: 'muted', text: 'No backups yet.' }));
    state.backups.forEach(function (b) {
      var btn = el('button', { type: 'button', text: 'Restore\u2026', 'aria-label': 'Restore the backup from ' + when(b.createdAt) });
      btn.addEventListener('click', function () { restore(b); });
      bBox.appendChild(el('li', { 'data-backup': b.id }, [
        el('span', { text: when(b.createdAt) + ' \u2014 ' + b.collection + ', ' + b.reason }),
        el('span', { class: 'muted', text: Math.max(1, Math.round(b.sizeBytes / 1024)) + ' KB' }), btn]));
    });
  }

  function onProgress(e) {
    var data = JSON.parse(e.data);
    var bars = document.querySelectorAll('progress[id="progress-' + data.id + '"]');
    bars.forEach(function (bar) { if (data.progress && typeof data.progress.fraction === 'number') bar.value = data.progress.fraction; });
    if (state.status) {
      state.status.jobs.active.forEach(function (j) { if (j.id === data.id) j.progress = data.progress; });
      setStatus(statusText());
    }
  }

  var es = new EventSource('/api/v1/events');
  ['hello', 'resync', 'job.queued', 'job.started', 'job.finished', 'job.cancelling', 'paused', 'resumed', 'decision.pending',
    'decision.cleared', 'decision.acted', 'decision.job-finished', 'decisions.changed', 'config.changed'].forEach(function (t) {
    es.addEventListener(t, refreshSoon);
  });
  es.addEventListener('job.progress', onProgress);
  es.addEventListener('shutdown', function () { setStatus('The daemon stopped.'); es.close(); });
  es.onerror = function () { if (es.readyState === 2) setStatus('Lost the connection to the daemon.'); };
  document.body.setAttribute('data-live', 'connecting');
  es.onopen = function () { document.body.setAttribute('data-live', 'open'); };
  refresh();
})();
`;
