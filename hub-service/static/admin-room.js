/* global fetch, clearTimeout */
// wod admin: a workshop's live room. Asks the admin API for the room every few seconds (polling, so
// nothing stays open between two looks) and updates the table's rows in place, one per registration.
// Extend and End call the admin API with the session cookie and the page's CSRF token.
(function () {
  'use strict';
  const room = document.getElementById('room');
  if (!room) return;
  const tbody = room.querySelector('tbody');
  const status = room.querySelector('[data-testid="room-status"]');
  const problem = room.querySelector('[data-testid="room-error"]');
  const empty = room.querySelector('[data-testid="room-empty"]');
  const updated = room.querySelector('[data-testid="room-updated"]');
  const pollMs = Number(room.dataset.pollSeconds) * 1000;
  const EXTEND_MINUTES = 30;

  const two = (n) => String(n).padStart(2, '0');
  /** Seconds as the participant's clock shows them: h:mm:ss. */
  function timeLeft(seconds) {
    if (seconds === null) return '–';
    return `${Math.floor(seconds / 3600)}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
  }
  function ago(iso, now) {
    const minutes = Math.max(0, Math.round((Date.parse(now) - Date.parse(iso)) / 60000));
    return minutes < 1 ? 'just now' : minutes < 120 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
  }
  function progress(p) {
    if (!p) return '–';
    return p.total ? `${p.executed}/${p.total} (${Math.floor((100 * p.executed) / p.total)} %)` : `${p.executed}/${p.total}`;
  }
  /** " · checks 2/3", only for a workshop with checks. */
  function checks(c) {
    return c && c.total ? ` · checks ${c.passed}/${c.total}` : '';
  }

  function showError(text) {
    problem.textContent = text;
    problem.hidden = !text;
  }

  /** A new row: its cells are filled by `fill`, its buttons keep working across updates. */
  function newRow(p) {
    const tr = document.createElement('tr');
    tr.dataset.registration = String(p.registration);
    for (const key of ['student', 'name', 'state', 'progress', 'left', 'activity']) {
      const cell = document.createElement(key === 'student' ? 'th' : 'td');
      if (key === 'student') cell.scope = 'row';
      cell.dataset.cell = key;
      tr.append(cell);
    }
    const actions = document.createElement('td');
    actions.className = 'nowrap';
    const extend = document.createElement('button');
    extend.type = 'button';
    extend.className = 'secondary';
    extend.dataset.action = 'extend';
    extend.textContent = 'Extend';
    const end = document.createElement('button');
    end.type = 'button';
    end.className = 'danger';
    end.dataset.action = 'end';
    end.textContent = 'End';
    actions.append(extend, ' ', end);
    tr.append(actions);
    return tr;
  }

  /** Fills a row with a participant `p` of the room answer `r`. */
  function fill(tr, p, r) {
    const cell = (key) => tr.querySelector(`[data-cell="${key}"]`);
    const who = p.student ?? `registration ${p.registration}`;
    const link = cell('student').querySelector('a') ?? cell('student').appendChild(document.createElement('a'));
    link.href = room.dataset.pageUrl + p.registration;
    link.textContent = who;
    cell('name').textContent = p.name;
    const state = cell('state').querySelector('span') ?? cell('state').appendChild(document.createElement('span'));
    state.className = `state ${p.state}`;
    state.textContent = p.state;
    cell('progress').textContent = progress(p.progress) + checks(p.checks);
    cell('left').textContent = timeLeft(p.secondsLeft);
    const activity = cell('activity');
    activity.textContent = !r.hubAnswered ? 'unknown' : p.lastActivity ? ago(p.lastActivity, r.now) : 'never';
    activity.title = p.lastActivity ?? '';
    const running = p.state === 'ready' || p.state === 'reminded';
    const [extend, end] = tr.querySelectorAll('button');
    extend.hidden = !running;
    extend.setAttribute('aria-label', `Extend ${who} (${p.name}) by ${EXTEND_MINUTES} minutes`);
    end.setAttribute('aria-label', `End the workshop of ${who} (${p.name})`);
  }

  function render(r) {
    const seen = new Set();
    for (const p of r.participants) {
      const id = String(p.registration);
      seen.add(id);
      let tr = tbody.querySelector(`tr[data-registration="${id}"]`);
      if (!tr) tr = tbody.appendChild(newRow(p));
      fill(tr, p, r);
    }
    for (const tr of tbody.querySelectorAll('tr[data-registration]')) if (!seen.has(tr.dataset.registration)) tr.remove();
    empty.hidden = r.participants.length > 0;
    const n = r.participants.length;
    // Said aloud only when it changes: the count, not the time of each look.
    const said = `${n} participant${n === 1 ? '' : 's'}${r.hubAnswered ? '' : ' · the hub did not answer: last activity unknown'}`;
    if (status.textContent !== said) status.textContent = said;
    updated.textContent = `· updated ${new Date(r.now).toISOString().slice(11, 19)} UTC`;
  }

  async function call(method, url, body) {
    const res = await fetch(url, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}), ...(method === 'GET' ? {} : { 'X-CSRF-Token': room.dataset.csrf }) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = await res.json().catch(() => ({ message: `HTTP ${res.status}` }));
    if (!res.ok) throw new Error(answer.message || `HTTP ${res.status}`);
    return answer;
  }

  let timer = null;
  async function refresh() {
    clearTimeout(timer);
    try {
      render(await call('GET', room.dataset.roomUrl));
      showError('');
    } catch (e) {
      showError(`The room could not be read (${e.message}); trying again.`);
    }
    timer = setTimeout(refresh, pollMs);
  }

  tbody.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const tr = button.closest('tr');
    const id = tr.dataset.registration;
    const who = tr.querySelector('[data-cell="student"]').textContent;
    if (button.dataset.action === 'end' && !window.confirm(`End the workshop of ${who} now? The account is cleaned and its files wiped.`)) return;
    button.disabled = true;
    try {
      const url = `${room.dataset.registrationUrl}${id}/${button.dataset.action}`;
      await call('POST', url, button.dataset.action === 'extend' ? { minutes: EXTEND_MINUTES } : undefined);
      showError('');
    } catch (e) {
      showError(`${button.dataset.action === 'end' ? 'Ending' : 'Extending'} ${who} failed: ${e.message}`);
    } finally {
      button.disabled = false;
    }
    await refresh();
  });

  refresh();
})();
