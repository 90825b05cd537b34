// The lookup API's pure parts: cursor, parameters and retention window, who sees what, token claims,
// the archive query and its internal-route encoding, the page's file names.
import { activityFromParams, activitySql, activityToParams, seenFromParams, seenToParams, type ActivityQuery, type ActivityRow } from '../../services/shared/archiveActivity';
import { DeviceHistory, MpxnHistory } from '../../services/shared/ownership';
import { decodeCursor, encodeCursor, type CursorScope } from '../../services/lookup/cursor';
import { END_OF_ARCHIVE, parseLimit, parseRange, windowStart } from '../../services/lookup/params';
import { BEFORE_OWNERSHIP, deviceVisible, ownershipStanding, partyItem, partyScope, record } from '../../services/lookup/view';
import { bearerToken, callerFromClaims, scopesOf } from '../../services/lookup/claims';
import { pageFileType, readPageFile } from '../../services/lookup/staticPage';
import { loadConfig } from '../../services/shared/config';

const DAY = 86_400_000;
const A = '90-B3-D5-1F-30-01-00-0A';
const B = '90-B3-D5-1F-30-01-00-0B';
const ED = '90-B3-D5-1F-30-01-00-ED';
const DEVICE = '00-DB-12-34-56-78-90-A0';
const MPAN = '1234567890123';

describe('cursor', () => {
  const key = Buffer.alloc(32, 7);
  const scope: CursorScope = { subject: A, view: 'party', deviceId: DEVICE };
  const keyset = { eventTime: 1_764_000_000_000, eventId: 'evt-1', recipientPartyId: '' };

  test('round trip', () => {
    expect(decodeCursor(key, scope, encodeCursor(key, scope, keyset))).toEqual(keyset);
  });

  test('bound to caller, view and device', () => {
    const cursor = encodeCursor(key, scope, keyset);
    expect(decodeCursor(key, { ...scope, subject: B }, cursor)).toBeNull();
    expect(decodeCursor(key, { ...scope, view: 'operator' }, cursor)).toBeNull();
    expect(decodeCursor(key, { ...scope, deviceId: '00-DB-12-34-56-78-90-A1' }, cursor)).toBeNull();
    expect(decodeCursor(Buffer.alloc(32, 8), scope, cursor)).toBeNull();
  });

  test('an edited body or signature is refused', () => {
    const cursor = encodeCursor(key, scope, keyset);
    const [body, mac] = cursor.split('.');
    const forged = Buffer.from(JSON.stringify([1, keyset.eventTime + 1, 'evt-1', ''])).toString('base64url');
    expect(decodeCursor(key, scope, `${forged}.${mac}`)).toBeNull();
    expect(decodeCursor(key, scope, `${body}.${mac.slice(0, -2)}AA`)).toBeNull();
    for (const junk of ['', '.', 'abc', 'a.b.c', `${body}.`, `.${mac}`, "' OR 1=1 --", 'x'.repeat(5000)]) expect(decodeCursor(key, scope, junk)).toBeNull();
  });

  test('a correctly signed cursor with a malformed keyset is refused', () => {
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const sign = (payload: unknown) => {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      const mac = createHmac('sha256', key).update(`${JSON.stringify([A, 'party', DEVICE])}|${body}`).digest().subarray(0, 16).toString('base64url');
      return `${body}.${mac}`;
    };
    expect(decodeCursor(key, scope, sign([1, 5, 'e', '']))).toEqual({ eventTime: 5, eventId: 'e', recipientPartyId: '' });
    for (const bad of [[2, 5, 'e', ''], [1, 1.5, 'e', ''], [1, 5, '', ''], [1, 5, 'e', 'nope'], [1, 5, 'e', A.toLowerCase()], { a: 1 }, [1, 5, 'e']]) {
      expect(decodeCursor(key, scope, sign(bad))).toBeNull();
    }
  });
});

describe('retention window and time range', () => {
  test('three calendar months back, clamped to the end of a shorter month', () => {
    expect(windowStart(Date.UTC(2026, 11, 1, 6, 30))).toBe(Date.UTC(2026, 8, 1, 6, 30));
    expect(windowStart(Date.UTC(2026, 4, 31, 12))).toBe(Date.UTC(2026, 1, 28, 12));
    expect(windowStart(Date.UTC(2028, 4, 31, 12))).toBe(Date.UTC(2028, 1, 29, 12));
    expect(windowStart(Date.UTC(2027, 0, 15))).toBe(Date.UTC(2026, 9, 15));
    // 92 days is the longest three calendar months can be (e.g. 31 Aug back to 31 May); never more.
    let longest = 0;
    for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2030, 0, 1); t += DAY / 2) longest = Math.max(longest, t - windowStart(t));
    expect(longest).toBe(92 * DAY);
  });

  test('limit: digits only, 1 to 1000, default 100', () => {
    expect(parseLimit(undefined)).toBe(100);
    expect(parseLimit('1')).toBe(1);
    expect(parseLimit('1000')).toBe(1000);
    for (const bad of ['0', '1001', '1e3', '1e309', '0x10', '1.0', '-1', '', ' 5', 'NaN']) expect(parseLimit(bad)).toBeNull();
  });

  test('a configured window replaces the calendar months', () => {
    expect(windowStart(1_000_000, 1000)).toBe(999_000);
  });

  test('from and to: epoch ms or ISO-8601, clamped into the window, from after to refused', () => {
    const oldest = Date.UTC(2026, 8, 1);
    expect(parseRange({}, oldest)).toEqual({ from: oldest, to: END_OF_ARCHIVE });
    expect(parseRange({ from: '2026-10-01', to: String(Date.UTC(2026, 10, 1)) }, oldest)).toEqual({ from: Date.UTC(2026, 9, 1), to: Date.UTC(2026, 10, 1) });
    expect(parseRange({ from: '2020-01-01' }, oldest)).toEqual({ from: oldest, to: END_OF_ARCHIVE });
    expect(parseRange({ to: '2020-01-01' }, oldest)).toEqual({ from: oldest, to: oldest });
    expect(parseRange({ from: '2026-11-02', to: '2026-11-01' }, oldest)).toEqual({ error: 'from is after to' });
    for (const bad of ['yesterday', '2026-02-30', '2026-13-01', '1e12', '-1', '', "1' OR '1'='1", '99999999999999999']) {
      expect(parseRange({ from: bad }, oldest)).toHaveProperty('error');
    }
  });
});

describe('who sees what', () => {
  const device = DeviceHistory.fromHash({ [`${100 * DAY}|${MPAN}`]: 'A|ESME' });
  const mpxns = new Map([[MPAN, MpxnHistory.fromHash({ [`IS|${100 * DAY}`]: A, [`IS|${200 * DAY}`]: B, [`ED|${100 * DAY}`]: ED })]]);
  const now = 300 * DAY;

  test('after a Change of Supplier: the new supplier owns since the CoS, the old one owned, a stranger never', () => {
    expect(ownershipStanding(device, mpxns, B, now)).toEqual({ everOwned: true, current: { role: 'IS', since: 200 * DAY } });
    expect(ownershipStanding(device, mpxns, A, now)).toEqual({ everOwned: true, current: null });
    expect(ownershipStanding(device, mpxns, ED, now)).toEqual({ everOwned: true, current: { role: 'ED', since: 100 * DAY } });
    expect(ownershipStanding(device, mpxns, '90-B3-D5-1F-30-01-00-CC', now)).toEqual({ everOwned: false, current: null });
    expect(ownershipStanding(undefined, mpxns, B, now)).toEqual({ everOwned: false, current: null });
  });

  test('registrations dated after now are not in force yet', () => {
    expect(ownershipStanding(device, mpxns, B, 150 * DAY)).toEqual({ everOwned: false, current: null });
    expect(ownershipStanding(device, mpxns, A, 150 * DAY).current).toEqual({ role: 'IS', since: 100 * DAY });
  });

  test('a party that lost and regained the device owns it since it regained it', () => {
    const back = new Map([[MPAN, MpxnHistory.fromHash({ [`IS|${100 * DAY}`]: A, [`IS|${150 * DAY}`]: B, [`IS|${250 * DAY}`]: A })]]);
    expect(ownershipStanding(device, back, A, now).current).toEqual({ role: 'IS', since: 250 * DAY });
  });

  test('the current owner reads earlier records (unless the setting is off); others only their copies', () => {
    const standing = ownershipStanding(device, mpxns, B, now);
    expect(partyScope(B, standing, true)).toEqual({ kind: 'party', partyId: B, beforeOwnershipUntil: 200 * DAY });
    expect(partyScope(B, standing, false)).toEqual({ kind: 'party', partyId: B, beforeOwnershipUntil: null });
    expect(partyScope(A, ownershipStanding(device, mpxns, A, now), true)).toEqual({ kind: 'party', partyId: A, beforeOwnershipUntil: null });
  });

  test('an empty answer: 404 unless the party owns or owned the device or holds a copy; operators: the device is known', () => {
    const party = { subject: B, operator: false };
    const operator = { subject: 'ops', operator: true };
    const never = { everOwned: false, current: null };
    expect(deviceVisible(party, { standing: never, deviceKnownToOwnership: true, archived: false })).toBe(false);
    expect(deviceVisible(party, { standing: never, deviceKnownToOwnership: true, archived: true })).toBe(true);
    expect(deviceVisible(party, { standing: { everOwned: true, current: null }, deviceKnownToOwnership: true, archived: false })).toBe(true);
    expect(deviceVisible(operator, { standing: null, deviceKnownToOwnership: false, archived: false })).toBe(false);
    expect(deviceVisible(operator, { standing: null, deviceKnownToOwnership: true, archived: false })).toBe(true);
  });

  const row = (overrides: Partial<ActivityRow>): ActivityRow => ({
    eventId: 'e1', messageType: 'SERVICE_REQUEST', requestId: `${A}:${DEVICE}:1`, serviceReferenceVariant: '2.2', deviceId: DEVICE, eventTime: 150 * DAY,
    originatorRole: 'IS', responseCode: null, srvTitle: 'Update Payment Mode', critical: true, originatorId: A, recipientPartyId: A, recipientRole: 'IS',
    sentByRecipient: true, flags: ['ROLE_NOT_ELIGIBLE', 'LATE_OWNERSHIP'], delivery: 'party', beforeOwnership: false, ...overrides,
  });

  test('a record from before the ownership: originator hidden, recipient fields the caller\'s, copy flags dropped, flagged', () => {
    expect(partyItem(row({ beforeOwnership: true }), B, 'IS')).toEqual({
      ...record(row({})), originatorId: null, recipientPartyId: B, recipientRole: 'IS', sentByRecipient: false, flags: ['ROLE_NOT_ELIGIBLE', BEFORE_OWNERSHIP],
    });
    expect(partyItem(row({ beforeOwnership: true, recipientPartyId: null, delivery: 'unowned', flags: ['NO_OWNER'] }), B, 'IS').flags).toEqual([BEFORE_OWNERSHIP]);
  });

  test('an own copy is returned as delivered; another recipient\'s copy never reaches a party', () => {
    expect(partyItem(row({}), A, null)).toEqual(record(row({})));
    expect(() => partyItem(row({}), B, 'IS')).toThrow();
  });

  test('items carry exactly the VisibilityRecord fields', () => {
    expect(Object.keys(record(row({}))).sort()).toEqual(
      ['critical', 'deviceId', 'eventId', 'eventTime', 'flags', 'messageType', 'originatorId', 'originatorRole', 'recipientPartyId', 'recipientRole', 'requestId', 'responseCode', 'sentByRecipient', 'serviceReferenceVariant', 'srvTitle'].sort(),
    );
  });
});

describe('token claims', () => {
  test('a party is its normalised User ID; the operator scope makes an operator', () => {
    expect(callerFromClaims({ sub: A.toLowerCase(), scope: 'lookup' })).toEqual({ subject: A, operator: false });
    expect(callerFromClaims({ sub: A, scope: 'lookup operator' })).toEqual({ subject: A, operator: true });
    expect(callerFromClaims({ sub: 'ops-team', scp: ['operator'] })).toEqual({ subject: 'ops-team', operator: true });
    expect(scopesOf({ scope: 'a  b' })).toEqual(['a', 'b']);
  });

  test('no sub, or a party sub that is not a User ID, is refused', () => {
    expect(callerFromClaims({})).toHaveProperty('error');
    expect(callerFromClaims({ sub: 'alice' })).toHaveProperty('error');
    expect(callerFromClaims({ sub: 42 })).toHaveProperty('error');
    expect(callerFromClaims({ sub: 'x'.repeat(500), scope: 'operator' })).toHaveProperty('error');
  });

  test('Authorization: Bearer only', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toEqual({ token: 'abc.def.ghi' });
    for (const bad of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'abc.def.ghi']) expect(bearerToken(bad)).toHaveProperty('error');
  });
});

describe('archive activity query', () => {
  const query: ActivityQuery = {
    deviceId: DEVICE, scope: { kind: 'party', partyId: B, beforeOwnershipUntil: 200 * DAY }, from: 1, to: 2,
    after: { eventTime: 3, eventId: "x' OR 1=1 --", recipientPartyId: '' }, limit: 101,
  };

  test('FINAL, newest first, and every input a bound parameter', () => {
    const { sql, params } = activitySql(query, 'eventId');
    expect(sql).toContain('FINAL');
    expect(sql).toContain('ORDER BY eventTime DESC, eventId DESC');
    for (const value of [DEVICE, B, "x' OR 1=1 --"]) expect(sql).not.toContain(value);
    expect(params).toMatchObject({ deviceId: DEVICE, partyId: B, afterId: "x' OR 1=1 --", until: 200 * DAY, limit: 101 });
    expect(activitySql({ ...query, scope: { kind: 'operator' } }, 'eventId').sql).toContain('(eventTime, eventId, recipientPartyId) <');
    expect(() => activitySql({ ...query, deviceId: null }, 'eventId')).toThrow();
  });

  test('the internal route\'s parameters round-trip and are checked', () => {
    expect(activityFromParams(activityToParams(query))).toEqual(query);
    const unowned: ActivityQuery = { deviceId: null, scope: { kind: 'unowned' }, from: 0, to: 10, after: null, limit: 5 };
    expect(activityFromParams(activityToParams(unowned))).toEqual(unowned);
    expect(seenFromParams(seenToParams({ deviceId: DEVICE, partyId: null, from: 5 }))).toEqual({ deviceId: DEVICE, partyId: null, from: 5 });
    const bad = (change: (p: URLSearchParams) => void) => {
      const params = activityToParams(query);
      change(params);
      return activityFromParams(params);
    };
    expect(bad((p) => p.set('deviceId', 'nope'))).toHaveProperty('error');
    expect(bad((p) => p.set('scope', 'all'))).toHaveProperty('error');
    expect(bad((p) => p.set('limit', '5000'))).toHaveProperty('error');
    expect(bad((p) => p.delete('deviceId'))).toHaveProperty('error');
    expect(bad((p) => p.set('afterRecipient', 'x'))).toHaveProperty('error');
  });
});

describe('page files', () => {
  test('plain names of known types only', () => {
    expect(pageFileType('index.html')).toBe('text/html; charset=utf-8');
    expect(pageFileType('app.js')).toBe('text/javascript; charset=utf-8');
    expect(pageFileType('style.css')).toBe('text/css; charset=utf-8');
    for (const bad of ['../package.json', '..', '.env', 'a/b.js', 'a\\b.js', 'x.ts', 'x', '%2e%2e', 'index.html\u0000.js', '']) expect(pageFileType(bad)).toBeNull();
  });

  test('nothing outside the folder is read', async () => {
    expect(await readPageFile('../../package.json')).toBeNull();
    expect(await readPageFile('missing.js')).toBeNull();
  });
});

describe('lookup settings', () => {
  test('defaults: 127.0.0.1:9465, the local stack\'s key set, three calendar months, BEFORE_OWNERSHIP on, a 93-day archive TTL', () => {
    const config = loadConfig({ STACK_DIR: '/tmp/some-stack' });
    expect(config).toMatchObject({
      lookupHost: '127.0.0.1', lookupPort: 9465, lookupJwks: '/tmp/some-stack/lookup/jwks.json', lookupIssuer: 'srv-visibility-local',
      lookupAudience: 'srv-visibility-lookup', lookupRateLimit: 600, lookupRateWindowMs: 60_000, lookupWindowMs: undefined,
      lookupBeforeOwnership: true, lookupCursorSecret: undefined, archiveRetentionDays: 93,
    });
  });

  test('set and checked', () => {
    const config = loadConfig({ LOOKUP_PORT: '0', LOOKUP_JWKS: 'https://idp.example/jwks.json', LOOKUP_WINDOW_MS: '60000', LOOKUP_BEFORE_OWNERSHIP: 'false', LOOKUP_CURSOR_SECRET: 'x'.repeat(32) });
    expect(config).toMatchObject({ lookupPort: 0, lookupJwks: 'https://idp.example/jwks.json', lookupWindowMs: 60_000, lookupBeforeOwnership: false });
    for (const [name, value] of [['LOOKUP_PORT', '70000'], ['LOOKUP_JWKS', 'ftp://idp/jwks'], ['LOOKUP_WINDOW_MS', 'soon'], ['LOOKUP_BEFORE_OWNERSHIP', 'yes'], ['LOOKUP_CURSOR_SECRET', 'short'], ['LOOKUP_RATE_LIMIT', '0']]) {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });
});
