// The device-history page: plain JavaScript, no build step, no framework.
// Everything shown comes from other parties' data through the API, so it is written with
// textContent only (never innerHTML); the service's CSP (script-src 'self') forbids inline script.
'use strict';

(function () {
  const TOKEN_KEY = 'srv-visibility.lookup.token';

  const MESSAGE_TYPES = {
    SERVICE_REQUEST: 'Request',
    SIGNED_PRE_COMMAND: 'Signed pre-command',
    PRE_COMMAND: 'Pre-command',
    ACKNOWLEDGEMENT: 'Acknowledgement',
    SERVICE_RESPONSE: 'Response',
  };
  const ROLES = {
    IS: 'Import Supplier',
    ES: 'Export Supplier',
    GS: 'Gas Supplier',
    ED: 'Electricity Distributor',
    GT: 'Gas Transporter',
    OU: 'Other User',
    RSA: 'Registered Supplier Agent',
  };
  const FLAGS = {
    BEFORE_OWNERSHIP: 'From before you owned the device (shown to the current owner; the sender is not named).',
    LATE_OWNERSHIP: 'Delivered late: the registration data that made you an owner arrived after the event.',
    ROLE_NOT_ELIGIBLE: "The sender's role may not send this Service Request.",
    UNKNOWN_SRV: 'The Service Request variant is not in the catalogue.',
    REPLAY: 'Re-sent by an operator replay.',
    NO_OWNER: 'No owner could be found for the device at the time.',
  };
  const MATCHES = { REQUEST_ID: 'Request ID named by the alert', DEVICE_WINDOW: 'Recent request on the device' };
  const ALERT_STATUS = {
    CORRELATED: 'Cause found',
    NO_TRIGGER_FOUND: 'No cause found',
    TRIGGER_NOT_VISIBLE: 'The cause is not visible to you',
  };

  const $ = (id) => document.getElementById(id);

  // ---- token (sessionStorage: this tab only) ----

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  }

  /** The token's claims, for display only: the server verifies the signature, the page cannot. */
  function claimsOf(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      const base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const json = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
      const claims = JSON.parse(json);
      return claims && typeof claims === 'object' ? claims : null;
    } catch {
      return null;
    }
  }

  function isOperator(claims) {
    const scope = claims.scope ?? claims.scp ?? '';
    const scopes = Array.isArray(scope) ? scope : String(scope).split(' ');
    return scopes.includes('operator');
  }

  // ---- messages ----

  function say(text) {
    $('status').textContent = text;
  }

  function showError(text) {
    const error = $('error');
    error.textContent = text;
    error.hidden = !text;
  }

  // ---- signed in / out ----

  function showSignedIn(subject, operator) {
    $('who-party').textContent = subject;
    $('who-operator').hidden = !operator;
    $('who').hidden = false;
    $('sign-in').hidden = true;
    $('lookup').hidden = false;
    $('alerts').hidden = false;
  }

  /** Who the token names, as the server verified it (GET /v1/me); the unverified claims if it cannot say. */
  async function confirmIdentity(token) {
    const claims = claimsOf(token) ?? {};
    const fallback = { subject: typeof claims.sub === 'string' ? claims.sub : 'unknown party', operator: isOperator(claims) };
    const answer = await apiGet('/v1/me');
    if (answer.status === 200 && answer.body && typeof answer.body.subject === 'string') {
      return { subject: answer.body.subject, operator: answer.body.operator === true };
    }
    if (answer.status === 401) return { rejected: serverMessage(answer.body) };
    return fallback;
  }

  function showSignedOut() {
    $('who').hidden = true;
    $('sign-in').hidden = false;
    $('lookup').hidden = true;
    $('alerts').hidden = true;
    $('results').hidden = true;
    $('alert-result').hidden = true;
    clearChildren($('activity-rows'));
    clearChildren($('causes-rows'));
    $('token').value = '';
  }

  function signOut(message) {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      /* storage unavailable: nothing kept */
    }
    paging.current = null;
    showSignedOut();
    say(message);
    $('token').focus();
  }

  $('sign-in-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = $('token').value.trim().replace(/^Bearer\s+/i, '');
    if (!token) {
      showError('Paste a token to sign in.');
      $('token').focus();
      return;
    }
    const claims = claimsOf(token);
    if (!claims) {
      showError('That does not look like a token (a JWT has three parts separated by dots).');
      $('token').focus();
      return;
    }
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
      showError('That token has expired. Ask for a new one.');
      $('token').focus();
      return;
    }
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      showError('This browser does not allow the page to keep the token (session storage is blocked).');
      return;
    }
    say('Checking the token…');
    let identity;
    try {
      identity = await confirmIdentity(token);
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
      say('');
      showError('Could not reach the lookup service. Check the connection and try again.');
      return;
    }
    if (identity.rejected) {
      sessionStorage.removeItem(TOKEN_KEY);
      say('');
      showError(`That token was not accepted (${identity.rejected}). Check it, or ask for a new one.`);
      $('token').focus();
      return;
    }
    showError('');
    showSignedIn(identity.subject, identity.operator);
    say(`Signed in as ${identity.subject}.`);
    $('device-id').focus();
  });

  $('sign-out').addEventListener('click', () => {
    showError('');
    signOut('Signed out. The token has been forgotten.');
  });

  // ---- API ----

  /** GET a path with the bearer token; resolves to { status, body } (body parsed JSON, or null). */
  async function apiGet(path) {
    const token = storedToken();
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
    });
    let body = null;
    if ((response.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = await response.json();
      } catch {
        body = null;
      }
    }
    return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
  }

  /** The server's own words for a 400 (Fastify: message; ours: error). */
  function serverMessage(body) {
    if (body && typeof body.message === 'string' && body.message) return body.message;
    if (body && typeof body.error === 'string' && body.error) return body.error;
    return 'the request was not accepted';
  }

  /**
   * Turns a failed answer into what the user reads. `notFound` is the one wording for 404: the
   * API answers "no such thing" and "not yours" identically, and so does the page.
   * Returns null for 401 (handled by signing out).
   */
  function failureText({ status, body, retryAfter }, notFound) {
    if (status === 400) return `Not accepted: ${serverMessage(body)}.`.replace(/\.\.$/, '.');
    if (status === 403) return 'This sign-in may not do that.';
    if (status === 404) return notFound;
    if (status === 429) return `Too many requests from your organisation just now; try again${retryAfter ? ` in ${retryAfter} s` : ' shortly'}.`;
    if (status >= 500) return `The lookup service failed (HTTP ${status}). Try again later.`;
    return `Unexpected answer from the lookup service (HTTP ${status}).`;
  }

  function handleUnauthorized() {
    signOut('');
    showError('Your sign-in was not accepted: the token is missing, expired or not valid. Sign in again.');
  }

  // ---- formatting (text only) ----

  function clearChildren(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function cell(row, text, className) {
    const td = document.createElement('td');
    if (text instanceof Node) td.appendChild(text);
    else td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function timeNode(ms) {
    const node = document.createElement('time');
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      node.textContent = '—';
      return node;
    }
    const iso = new Date(ms).toISOString();
    node.dateTime = iso;
    node.textContent = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
    return node;
  }

  function roleNode(role) {
    if (!role) return document.createTextNode('—');
    const abbr = document.createElement('abbr');
    abbr.textContent = role;
    if (ROLES[role]) abbr.title = ROLES[role];
    return abbr;
  }

  function sentBy(value) {
    if (value === true) return 'you';
    if (value === false) return 'other User';
    return '—';
  }

  function flagsNode(flags) {
    const span = document.createElement('span');
    if (!Array.isArray(flags) || flags.length === 0) {
      span.textContent = '—';
      return span;
    }
    for (const flag of flags) {
      const badge = document.createElement('span');
      badge.className = `flag flag-${String(flag).toLowerCase().replace(/[^a-z0-9_]/g, '')}`;
      badge.textContent = String(flag);
      if (FLAGS[flag]) badge.title = FLAGS[flag];
      span.appendChild(badge);
    }
    return span;
  }

  /** One table row for a record or a trigger (same fields; triggers add `match`). */
  function recordRow(record, withMatch) {
    const tr = document.createElement('tr');
    if (Array.isArray(record.flags) && record.flags.includes('BEFORE_OWNERSHIP')) tr.className = 'before-ownership';
    cell(tr, timeNode(record.eventTime), 'time');
    cell(tr, String(record.serviceReferenceVariant ?? '—'), 'srv');
    cell(tr, String(record.srvTitle ?? '—'));
    cell(tr, MESSAGE_TYPES[record.messageType] ?? String(record.messageType ?? '—'));
    cell(tr, record.critical ? 'Yes' : 'No', record.critical ? 'critical' : '');
    cell(tr, roleNode(record.originatorRole));
    cell(tr, sentBy(record.sentByRecipient), record.sentByRecipient === true ? 'sender you' : 'sender');
    cell(tr, record.responseCode == null ? '—' : String(record.responseCode), 'code');
    if (withMatch) cell(tr, MATCHES[record.match] ?? String(record.match ?? '—'));
    cell(tr, flagsNode(record.flags));
    return tr;
  }

  function fillLegend() {
    const dl = $('flag-legend');
    for (const [flag, text] of Object.entries(FLAGS)) {
      const dt = document.createElement('dt');
      dt.textContent = flag;
      const dd = document.createElement('dd');
      dd.textContent = text;
      dl.append(dt, dd);
    }
  }

  /** A datetime-local value read as UTC, to epoch ms; '' to undefined; NaN stays (the server says why). */
  function utcMillis(value) {
    if (!value) return undefined;
    const ms = Date.parse(`${value}Z`);
    return Number.isNaN(ms) ? value : ms;
  }

  // ---- device activity, paged by cursor ----

  // cursors[i] is the cursor that fetches page i (page 0: none); `next` is the server's cursor after the shown page.
  const paging = { current: null, sequence: 0 };

  function setBusy(busy) {
    $('activity').setAttribute('aria-busy', busy ? 'true' : 'false');
    $('look-up').disabled = busy;
    if (busy) {
      $('prev-page').disabled = true;
      $('next-page').disabled = true;
    }
  }

  async function showPage() {
    const view = paging.current;
    const sequence = ++paging.sequence;
    const params = new URLSearchParams();
    if (view.from !== undefined) params.set('from', String(view.from));
    if (view.to !== undefined) params.set('to', String(view.to));
    params.set('limit', String(view.limit));
    const cursor = view.cursors[view.cursors.length - 1];
    if (cursor) params.set('cursor', cursor);
    setBusy(true);
    say(`Looking up ${view.deviceId}…`);
    let answer;
    try {
      answer = await apiGet(`/v1/devices/${encodeURIComponent(view.deviceId)}/activity?${params}`);
    } catch {
      if (sequence !== paging.sequence) return;
      setBusy(false);
      say('');
      showError('Could not reach the lookup service. Check the connection and try again.');
      return;
    }
    if (sequence !== paging.sequence) return; // a newer lookup has started
    setBusy(false);
    if (answer.status === 401) return handleUnauthorized();
    if (answer.status !== 200 || !answer.body || !Array.isArray(answer.body.items)) {
      view.cursors.pop();
      if (view.cursors.length === 0) $('results').hidden = true;
      else renderPager(view);
      say('');
      showError(answer.status === 200 ? 'Unexpected answer from the lookup service.' : failureText(answer, 'No such device, or not one of yours.'));
      return;
    }
    showError('');
    view.next = typeof answer.body.next === 'string' && answer.body.next ? answer.body.next : null;
    const rows = $('activity-rows');
    clearChildren(rows);
    for (const record of answer.body.items) rows.appendChild(recordRow(record, false));
    $('results-device').textContent = view.deviceId;
    $('results').hidden = false;
    const page = view.cursors.length;
    const first = (page - 1) * view.limit + 1;
    const count = answer.body.items.length;
    const summary =
      count === 0
        ? page === 1
          ? 'No activity on this device in the chosen period (records are kept for three months).'
          : 'No more activity.'
        : `Records ${first}–${first + count - 1}${view.next ? ', more on the next page' : ''}.`;
    $('results-summary').textContent = summary;
    renderPager(view);
    say(`Page ${page} of activity on ${view.deviceId}: ${count} record${count === 1 ? '' : 's'}.${view.next ? ' More on the next page.' : ''}`);
  }

  function renderPager(view) {
    const page = view.cursors.length;
    $('page-label').textContent = `Page ${page}`;
    $('prev-page').disabled = page <= 1;
    $('next-page').disabled = !view.next;
  }

  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const deviceId = $('device-id').value.trim().toUpperCase();
    if (!deviceId) {
      showError('Enter a device ID.');
      $('device-id').focus();
      return;
    }
    showError('');
    paging.current = {
      deviceId,
      from: utcMillis($('from').value),
      to: utcMillis($('to').value),
      limit: Number($('page-size').value) || 25,
      cursors: [null],
      next: null,
    };
    void showPage();
  });

  $('clear-dates').addEventListener('click', () => {
    $('from').value = '';
    $('to').value = '';
    say('Dates cleared. Look up again to see all retained activity.');
  });

  // Keep keyboard focus on a usable control when the pressed pager button becomes disabled.
  function keepFocus(button, other) {
    if (button.disabled && !other.disabled) other.focus();
    else if (button.disabled) $('activity').closest('.table-wrap').focus();
  }

  $('next-page').addEventListener('click', async () => {
    const view = paging.current;
    if (!view || !view.next) return;
    view.cursors.push(view.next);
    await showPage();
    keepFocus($('next-page'), $('prev-page'));
  });

  $('prev-page').addEventListener('click', async () => {
    const view = paging.current;
    if (!view || view.cursors.length <= 1) return;
    view.cursors.pop();
    await showPage();
    keepFocus($('prev-page'), $('next-page'));
  });

  // ---- alerts and their causes ----

  function fact(dl, term, value) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value;
    dl.append(dt, dd);
  }

  $('alert-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const alertId = $('alert-id').value.trim();
    if (!alertId) {
      showError('Enter an alert ID.');
      $('alert-id').focus();
      return;
    }
    showError('');
    $('look-up-alert').disabled = true;
    say(`Looking up alert ${alertId}…`);
    let answer;
    try {
      answer = await apiGet(`/v1/alerts/${encodeURIComponent(alertId)}`);
    } catch {
      say('');
      showError('Could not reach the lookup service. Check the connection and try again.');
      return;
    } finally {
      $('look-up-alert').disabled = false;
    }
    if (answer.status === 401) return handleUnauthorized();
    if (answer.status !== 200 || !answer.body || typeof answer.body !== 'object') {
      $('alert-result').hidden = true;
      say('');
      showError(answer.status === 200 ? 'Unexpected answer from the lookup service.' : failureText(answer, 'No such alert, or not one of yours.'));
      return;
    }
    renderAlert(answer.body);
  });

  function renderAlert(alert) {
    $('alert-heading').textContent = `${alert.alertTitle ?? 'Alert'} (${alert.alertCode ?? '?'})`;
    const facts = $('alert-facts');
    clearChildren(facts);
    fact(facts, 'Alert ID', String(alert.alertId ?? '—'));
    fact(facts, 'Kind', alert.alertKind === 'DCC' ? 'DCC Alert' : alert.alertKind === 'DEVICE' ? 'Device Alert' : String(alert.alertKind ?? '—'));
    fact(facts, 'Device', String(alert.deviceId ?? '—'));
    fact(facts, 'Time (UTC)', timeNode(alert.eventTime));
    fact(facts, 'Your role then', roleNode(alert.recipientRole));
    fact(facts, 'Status', ALERT_STATUS[alert.status] ?? String(alert.status ?? '—'));
    const triggers = Array.isArray(alert.triggers) ? alert.triggers : [];
    const rows = $('causes-rows');
    clearChildren(rows);
    for (const trigger of triggers) rows.appendChild(recordRow(trigger, true));
    $('causes-wrap').hidden = triggers.length === 0;
    $('causes-none').hidden = triggers.length > 0;
    $('causes-none').textContent = triggers.length ? '' : 'No request you can see is known to have caused this alert.';
    $('alert-result').hidden = false;
    showError('');
    say(`Alert ${alert.alertId ?? ''}: ${ALERT_STATUS[alert.status] ?? alert.status ?? ''}, ${triggers.length} cause${triggers.length === 1 ? '' : 's'}.`);
  }

  // ---- start ----

  fillLegend();
  const token = storedToken();
  const claims = token ? claimsOf(token) : null;
  if (token && claims) {
    // Shown at once from the stored token, then confirmed by the server (a reload keeps the sign-in).
    showSignedIn(typeof claims.sub === 'string' ? claims.sub : 'unknown party', isOperator(claims));
    confirmIdentity(token).then(
      (identity) => (identity.rejected ? handleUnauthorized() : showSignedIn(identity.subject, identity.operator)),
      () => {
        /* unreachable now: the first lookup will say so */
      },
    );
  } else showSignedOut();
})();
