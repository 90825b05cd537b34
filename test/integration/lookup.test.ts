// The lookup API on the real stack: registrations (with a Change of Supplier) and audit events go
// through the pipeline into the archive; then each party, a stranger and an operator ask over HTTP
// with tokens signed by the local stack's key.
import http from 'node:http';
import fc from 'fast-check';
import { generateKeyPair, SignJWT } from 'jose';
import { TOPICS, partyTopic, type AlertContext, type AlertEvent, type OwnershipEvent, type VisibilityRecord } from '../../services/shared/contracts';
import { Metrics } from '../../services/shared/metrics';
import { OwnershipReader } from '../../services/shared/ownershipStore';
import { mintToken, readSigningKey } from '../../services/lookup/keys';
import { startLookup, type RunningLookup } from '../../services/lookup/lookupService';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, uniqueId } from '../support/fixtures';
import { startApp } from '../../services/app';
import { createLogger } from '../../services/shared/logger';
import { drained, LogCapture, readTopic, testConfig, useHarness, waitFor } from '../support/pipeline';

const DAY = 86_400_000;
// Its own consumer groups: other suites may run at the same time on the shared stack.
const harness = useHarness({ env: { LOOKUP_RATE_LIMIT: '1000000', GROUP_PREFIX: 'srv-visibility-test-lookup' } });

type Page = { items: VisibilityRecord[]; next: string | null };
type Answer = { status: number; body: any; text: string; headers: Headers };

const now = Date.now();
const [device, a, b, ed, ou, stranger, unknownDevice, lonelyDevice, lateDevice] = Array.from({ length: 9 }, randomEui64);
const mpan = randomMpan();
const lateMpan = randomMpan();
const cos = now - 5 * DAY;
const supplier = (mpxn: string, partyId: string, effectiveFrom: number) => ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn, partyId, role: 'IS', effectiveFrom });
const registrations: OwnershipEvent[] = [
  ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - 60 * DAY }),
  supplier(mpan, a, now - 60 * DAY),
  ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: ed, role: 'ED', effectiveFrom: now - 60 * DAY }),
  supplier(mpan, b, cos),
];
// Before the CoS: A's requests and an OU's; after it: B's. Distinct times, so the order is known.
const before = [
  auditEvent({ deviceId: device, originatorId: a, eventTime: cos - 20 * DAY }),
  auditEvent({ deviceId: device, originatorId: a, eventTime: cos - 9 * DAY, serviceReferenceVariant: '6.15.1', serviceReference: '6.15' }),
  auditEvent({ deviceId: device, originatorId: ou, originatorRole: 'OU', serviceReferenceVariant: '4.8.1', serviceReference: '4.8', eventTime: cos - 2 * DAY }),
  auditEvent({ deviceId: device, originatorId: a, eventTime: cos - 1 }),
];
const after = [auditEvent({ deviceId: device, originatorId: b, eventTime: cos }), auditEvent({ deviceId: device, originatorId: b, eventTime: now - DAY })];
const newestFirst = (events: Array<{ eventId: string; eventTime: number }>) => [...events].sort((x, y) => y.eventTime - x.eventTime).map((e) => e.eventId);

let base: string;
const token: Record<string, string> = {};

async function get(path: string, bearer?: string, server = base): Promise<Answer> {
  const response = await fetch(`${server}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (the page)
  }
  return { status: response.status, body, text, headers: response.headers };
}

/** A GET with the path exactly as written. */
function rawGet(path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: Number(new URL(base).port), path, method: 'GET' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end();
  });
}

const activity = (deviceId: string, query = '') => `/v1/devices/${deviceId}/activity${query ? `?${query}` : ''}`;

/** Every page of a query, following `next`. */
async function allPages(path: string, bearer: string, limit: number): Promise<{ items: VisibilityRecord[]; pages: number }> {
  const items: VisibilityRecord[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const answer = await get(`${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, bearer);
    expect(answer.status).toBe(200);
    const page = answer.body as Page;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.next;
    pages += 1;
  } while (cursor && pages < 100);
  return { items, pages };
}

async function mint(subject: string, options: { operator?: boolean; ttlSeconds?: number; issuedAt?: number; issuer?: string; audience?: string } = {}): Promise<string> {
  const config = harness.app.runtime.config;
  return mintToken(readSigningKey(config.stackDir), {
    subject,
    operator: options.operator ?? false,
    issuer: options.issuer ?? config.lookupIssuer,
    audience: options.audience ?? config.lookupAudience,
    ttlSeconds: options.ttlSeconds ?? 3600,
    issuedAt: options.issuedAt,
  });
}

async function otherLookup(overrides: Partial<typeof harness.app.runtime.config>): Promise<RunningLookup> {
  const { config, logger } = harness.app.runtime;
  const redis = await harness.app.runtime.redis('lookup-test');
  return startLookup({ config: { ...config, lookupPort: 0, ...overrides }, logger, metrics: new Metrics(false), archive: harness.app.archive!, ownership: new OwnershipReader(redis) });
}

beforeAll(async () => {
  base = `http://127.0.0.1:${harness.app.lookup!.port}`;
  for (const [name, id] of Object.entries({ a, b, ed, ou, stranger })) token[name] = await mint(id);
  token.operator = await mint(randomEui64(), { operator: true });
  await harness.sendOwnership(registrations);
  await drained(harness);
  await harness.sendAudit([...before, ...after]);
  // An event on a device nobody owns: it goes to visibility.unowned after the ownership wait.
  await harness.sendAudit([auditEvent({ deviceId: lonelyDevice, originatorId: ou, originatorRole: 'OU', eventTime: now - 2 * DAY })]);
  // A retrospective CoS after delivery: the new supplier's copies are LATE_OWNERSHIP.
  await harness.sendOwnership([
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: lateMpan, deviceId: lateDevice, deviceType: 'ESME', effectiveFrom: now - 60 * DAY }),
    supplier(lateMpan, a, now - 60 * DAY),
  ]);
  await drained(harness);
  await harness.sendAudit([auditEvent({ deviceId: lateDevice, originatorId: a, eventTime: now - 2 * DAY })]);
  const archive = harness.app.archive!;
  await waitFor(async () => (await archive.find({ deviceId: lateDevice })).length === 1, { what: 'the late device\'s first copy', timeoutMs: 60_000 });
  await harness.sendOwnership([supplier(lateMpan, b, now - 3 * DAY)]);
  // Copies: A and ED for each earlier event, B and ED for each later one; B's late copy; the unowned record.
  await waitFor(async () => (await archive.find({ deviceId: device })).length === 2 * (before.length + after.length), { what: 'the device\'s copies in the archive', timeoutMs: 60_000 });
  await waitFor(async () => (await archive.find({ deviceId: lateDevice })).length === 2, { what: 'the late copy in the archive', timeoutMs: 60_000 });
  await waitFor(async () => (await archive.find({ deviceId: lonelyDevice })).length === 1, { what: 'the unowned record in the archive', timeoutMs: 60_000 });
}, 180_000);

describe('authentication', () => {
  test('no token, or a bad one: 401 with a clear message', async () => {
    const path = activity(device);
    const { privateKey: foreignKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ scope: 'lookup' })
      .setProtectedHeader({ alg: 'ES256', kid: readSigningKey(harness.app.runtime.config.stackDir).kid })
      .setSubject(b).setIssuer(harness.app.runtime.config.lookupIssuer).setAudience(harness.app.runtime.config.lookupAudience).setExpirationTime('1h')
      .sign(foreignKey);
    const [header, payload] = token.b.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['no header', {}, /missing bearer token/],
      ['basic', { authorization: 'Basic YTpi' }, /must be "Bearer <JWT>"/],
      ['garbage', { authorization: 'Bearer not-a-jwt' }, /not a valid JWT/],
      ['foreign key', { authorization: `Bearer ${foreign}` }, /signature/],
      ['alg none', { authorization: `Bearer ${unsigned}` }, /not accepted|not a valid JWT/],
      ['edited payload', { authorization: `Bearer ${header}.${Buffer.from(JSON.stringify({ sub: stranger })).toString('base64url')}.${token.b.split('.')[2]}` }, /signature|valid/],
      ['expired', { authorization: `Bearer ${await mint(b, { issuedAt: Math.floor(now / 1000) - 7200, ttlSeconds: 60 })}` }, /expired/],
      ['wrong issuer', { authorization: `Bearer ${await mint(b, { issuer: 'someone-else' })}` }, /iss/],
      ['wrong audience', { authorization: `Bearer ${await mint(b, { audience: 'another-api' })}` }, /aud/],
      ['sub not a User ID', { authorization: `Bearer ${await mint('alice')}` }, /User ID/],
    ];
    for (const [name, headers, message] of cases) {
      const response = await fetch(`${base}${path}`, { headers });
      const body = (await response.json()) as { error: string; message: string };
      expect({ name, status: response.status, error: body.error }).toEqual({ name, status: 401, error: 'unauthorized' });
      expect(body.message).toMatch(message);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await get('/v1/unowned')).status).toBe(401);
    expect((await get('/v1/alerts/x')).status).toBe(401);
  });

  test('the OpenAPI document needs no token and describes the routes', async () => {
    const answer = await get('/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    expect(Object.keys(answer.body.paths)).toEqual(expect.arrayContaining(['/v1/devices/{deviceId}/activity', '/v1/unowned', '/v1/alerts/{alertId}']));
    const me = await get('/v1/me', token.b);
    expect(me.body).toEqual({ subject: b, operator: false });
  });

  test('rate limit per party: 429 past the limit, other parties unaffected', async () => {
    const limited = await otherLookup({ lookupRateLimit: 3 });
    try {
      const server = `http://127.0.0.1:${limited.port}`;
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await get(activity(device), token.b, server)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const refused = await get(activity(device), token.b, server);
      expect(refused.body).toMatchObject({ error: 'rate_limited' });
      expect((await get(activity(device), token.a, server)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe('who sees what', () => {
  test('the old supplier sees only its own copies, newest first, with its own originatorId', async () => {
    const answer = await get(activity(device), token.a);
    expect(answer.status).toBe(200);
    const items = (answer.body as Page).items;
    expect(items.map((i) => i.eventId)).toEqual(newestFirst(before));
    expect(items.every((i) => i.recipientPartyId === a && i.recipientRole === 'IS' && !i.flags.includes('BEFORE_OWNERSHIP'))).toBe(true);
    expect(items.filter((i) => i.originatorId !== null).every((i) => i.originatorId === a && i.sentByRecipient === true)).toBe(true);
    expect(items.find((i) => i.originatorRole === 'OU')!.originatorId).toBeNull();
    expect((answer.body as Page).next).toBeNull();
  });

  test('the new supplier after the CoS: its copies, and the earlier records flagged BEFORE_OWNERSHIP with originatorId null', async () => {
    const answer = await get(activity(device.toLowerCase()), token.b);
    expect(answer.status).toBe(200);
    const items = (answer.body as Page).items;
    expect(items.map((i) => i.eventId)).toEqual(newestFirst([...before, ...after]));
    const earlier = items.filter((i) => i.eventTime < cos);
    expect(earlier).toHaveLength(before.length);
    for (const item of earlier) {
      expect(item).toMatchObject({ originatorId: null, recipientPartyId: b, recipientRole: 'IS', sentByRecipient: false });
      expect(item.flags).toContain('BEFORE_OWNERSHIP');
    }
    for (const item of items.filter((i) => i.eventTime >= cos)) expect(item).toMatchObject({ originatorId: b, recipientPartyId: b, flags: [] });
  });

  test('the setting that turns BEFORE_OWNERSHIP off', async () => {
    const off = await otherLookup({ lookupBeforeOwnership: false });
    try {
      const answer = await get(activity(device), token.b, `http://127.0.0.1:${off.port}`);
      expect((answer.body as Page).items.map((i) => i.eventId)).toEqual(newestFirst(after));
    } finally {
      await off.stop();
    }
  });

  test('the network operator (owner throughout) sees all its copies, none flagged BEFORE_OWNERSHIP', async () => {
    const items = ((await get(activity(device), token.ed)).body as Page).items;
    expect(items.map((i) => i.eventId)).toEqual(newestFirst([...before, ...after]));
    expect(items.every((i) => i.recipientPartyId === ed && i.recipientRole === 'ED' && i.originatorId === null)).toBe(true);
  });

  test('cursor paging: every page newest first, together the whole view, each event once', async () => {
    const whole = ((await get(activity(device), token.b)).body as Page).items;
    for (const limit of [1, 2, 4]) {
      const { items, pages } = await allPages(activity(device), token.b, limit);
      expect(items).toEqual(whole);
      expect(pages).toBe(Math.ceil(whole.length / limit));
    }
  });

  test('a cursor works only for the caller and query it was issued for; an edited one is refused', async () => {
    const first = (await get(activity(device, 'limit=2'), token.b)).body as Page;
    expect(first.next).not.toBeNull();
    const cursor = first.next!;
    expect((await get(activity(device, `limit=2&cursor=${cursor}`), token.b)).status).toBe(200);
    expect((await get(activity(device, `limit=2&cursor=${cursor}`), token.a)).body).toMatchObject({ error: 'bad_request' });
    expect((await get(activity(lateDevice, `limit=2&cursor=${cursor}`), token.b)).status).toBe(400);
    const edited = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    expect((await get(activity(device, `limit=2&cursor=${edited}`), token.b)).status).toBe(400);
  });

  test('a stranger gets the same 404 as for an unknown device', async () => {
    const notYours = await get(activity(device), token.stranger);
    const unknown = await get(activity(unknownDevice), token.stranger);
    const unknownToOwner = await get(activity(unknownDevice), token.b);
    expect(notYours.status).toBe(404);
    expect(notYours.text).toBe(unknown.text);
    expect(unknownToOwner.text).toBe(unknown.text);
    // An originator that never owned the device is a stranger too.
    expect((await get(activity(device), token.ou)).text).toBe(unknown.text);
  });

  test('a party with copies but none in the asked range: an empty page, not 404', async () => {
    const answer = await get(activity(device, `from=${now - 1000}&to=${now}`), token.a);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ items: [], next: null });
  });

  test('from and to, epoch ms or ISO-8601: [from, to)', async () => {
    const iso = new Date(cos).toISOString();
    const items = ((await get(activity(device, `from=${iso}`), token.b)).body as Page).items;
    expect(items.map((i) => i.eventId)).toEqual(newestFirst(after));
    const until = ((await get(activity(device, `to=${cos}`), token.b)).body as Page).items;
    expect(until.map((i) => i.eventId)).toEqual(newestFirst(before));
  });

  test('copies delivered late (LATE_OWNERSHIP) are in the new owner\'s view', async () => {
    const items = ((await get(activity(lateDevice), token.b)).body as Page).items;
    expect(items).toHaveLength(1);
    expect(items[0].flags).toContain('LATE_OWNERSHIP');
    expect(items[0].recipientPartyId).toBe(b);
  });

  test('operators see every copy, with originatorId, paged across copies of one event', async () => {
    const { items } = await allPages(activity(device), token.operator, 3);
    expect(items).toHaveLength(2 * (before.length + after.length));
    expect(new Set(items.map((i) => `${i.eventId}/${i.recipientPartyId}`)).size).toBe(items.length);
    expect(items.map((i) => i.eventTime)).toEqual([...items.map((i) => i.eventTime)].sort((x, y) => y - x));
    expect(items.some((i) => i.recipientPartyId === ed && i.originatorId === null)).toBe(true);
    expect((await get(activity(unknownDevice), token.operator)).status).toBe(404);
  });

  test('operators read the unowned records; parties may not', async () => {
    await waitFor(async () => ((await get(`/v1/unowned?deviceId=${lonelyDevice}`, token.operator)).body as Page).items?.length === 1, { what: 'the unowned record' });
    const items = ((await get(`/v1/unowned?deviceId=${lonelyDevice}`, token.operator)).body as Page).items;
    expect(items[0]).toMatchObject({ deviceId: lonelyDevice, recipientPartyId: null, originatorId: ou });
    expect(items[0].flags).toContain('NO_OWNER');
    const all = (await get('/v1/unowned?limit=5', token.operator)).body as Page;
    expect(all.items.every((i) => i.recipientPartyId === null)).toBe(true);
    expect((await get('/v1/unowned', token.b)).status).toBe(403);
  });

  test('a short window: rows past it are not served, whatever the archive still holds', async () => {
    const short = await otherLookup({ lookupWindowMs: 10 * DAY });
    try {
      const server = `http://127.0.0.1:${short.port}`;
      const windowed = (await get(activity(device), token.b, server)).body as Page;
      const inWindow = [...before, ...after].filter((e) => e.eventTime >= now - 10 * DAY);
      expect(inWindow.length).toBeLessThan(before.length + after.length);
      expect(windowed.items.map((i) => i.eventId)).toEqual(newestFirst(inWindow));
      // Asked explicitly for older records: still nothing from before the window.
      const older = (await get(activity(device, `from=${now - 50 * DAY}`), token.operator, server)).body as Page;
      expect(older.items.every((i) => i.eventTime >= now - 10 * DAY - 60_000)).toBe(true);
      // The archive does hold the older rows.
      expect((await harness.app.archive!.find({ deviceId: device, to: now - 10 * DAY })).length).toBeGreaterThan(0);
    } finally {
      await short.stop();
    }
  });

  test('a lookup in its own process reads the embedded archive through the archiver\'s internal route, with the same answers', async () => {
    const config = testConfig({ GROUP_PREFIX: 'srv-visibility-test-lookup', ARCHIVE_QUERY_URL: `http://127.0.0.1:${harness.app.httpPort}`, LOOKUP_RATE_LIMIT: '1000000' });
    const standalone = await startApp({ config, logger: createLogger('warn', 'lookup-standalone', new LogCapture()), services: ['lookup'] });
    try {
      expect(standalone.archive).toBeUndefined();
      const server = `http://127.0.0.1:${standalone.lookup!.port}`;
      for (const [who, deviceId] of [['a', device], ['b', device], ['ed', device], ['operator', device], ['b', lateDevice]]) {
        const direct = await get(activity(deviceId), token[who]);
        const remote = await get(activity(deviceId), token[who], server);
        expect(remote.status).toBe(200);
        expect(remote.body).toEqual(direct.body);
      }
      const first = (await get(activity(device, 'limit=3'), token.b, server)).body as Page;
      const second = (await get(activity(device, `limit=3&cursor=${first.next}`), token.b, server)).body as Page;
      expect([...first.items, ...second.items]).toEqual(((await get(activity(device), token.b)).body as Page).items);
      expect((await get(activity(device), token.stranger, server)).text).toBe((await get(activity(unknownDevice), token.stranger)).text);
    } finally {
      await standalone.stop();
    }
  });

  test('no payload bytes in any answer', async () => {
    for (const [who, path] of [['b', activity(device)], ['a', activity(device)], ['operator', activity(device)], ['operator', `/v1/unowned?deviceId=${lonelyDevice}`]]) {
      const answer = await get(path, token[who]);
      expect(answer.text).not.toMatch(/payload|secret|sr:Request/i);
    }
  });
});

describe('alerts', () => {
  // A's meter, A's request and its response, then an alert to A naming that request: alert triage
  // publishes A's AlertContext on A's topic and on visibility.alert-contexts, the archiver archives it.
  const [alertDevice, alertMpan] = [randomEui64(), randomMpan()];
  const request = auditEvent({ deviceId: alertDevice, originatorId: a, serviceReferenceVariant: '6.15.1', serviceReference: '6.15', eventTime: now - 5 * 60_000 });
  const response = auditEvent({ ...request, eventId: uniqueId('evt'), messageType: 'SERVICE_RESPONSE', responseCode: 'I0', eventTime: request.eventTime + 2_000, payload: Buffer.from('<sr:Response>response-secret</sr:Response>') });
  const raised: AlertEvent = {
    alertId: uniqueId('alert'), alertCode: '0x8F1C', alertKind: 'DEVICE', deviceId: alertDevice, eventTime: request.eventTime + 3_000,
    requestId: request.requestId, recipientId: a, payload: Buffer.from('<gbcs:Alert>alert-secret-bytes</gbcs:Alert>'),
  };
  const alertPath = (id: string, query = '') => `/v1/alerts/${id}${query ? `?${query}` : ''}`;
  let published: AlertContext;

  beforeAll(async () => {
    await harness.sendOwnership([
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: alertMpan, deviceId: alertDevice, deviceType: 'ESME', effectiveFrom: now - 60 * DAY }),
      supplier(alertMpan, a, now - 60 * DAY),
    ]);
    await drained(harness);
    await harness.sendAudit([request, response]);
    await drained(harness);
    await harness.sendRaw(TOPICS.alerts, [{ key: alertDevice, value: harness.codec.encodeSync(harness.ids.alertEvent, raised) }]);
    // What A received on its own topic.
    const isContext = (raw: Buffer | null) => !!raw && raw.readInt32BE(1) === harness.ids.alertContext;
    const onTopic = await readTopic<Buffer>(harness.kafka, harness.codec, partyTopic(a), {
      raw: true,
      timeoutMs: 60_000,
      done: (m) => m.some((x) => isContext(x.raw) && harness.codec.decodeSync<AlertContext>(x.raw, 'AlertContext').value.alertId === raised.alertId),
    });
    published = onTopic
      .filter((x) => isContext(x.raw))
      .map((x) => harness.codec.decodeSync<AlertContext>(x.raw, 'AlertContext').value)
      .find((c) => c.alertId === raised.alertId)!;
    expect(published).toBeDefined();
    await waitFor(async () => (await harness.app.archive!.alertContext({ alertId: raised.alertId, recipientPartyId: a, from: 0 })) !== null, {
      what: 'the AlertContext in the archive',
      timeoutMs: 60_000,
    });
  }, 180_000);

  test('the recipient reads its AlertContext with its triggers, exactly as delivered on its topic, times epoch ms, nulls', async () => {
    const answer = await get(alertPath(raised.alertId), token.a);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ...published, eventTime: raised.eventTime });
    expect(answer.body).toMatchObject({
      alertId: raised.alertId, alertCode: '0x8F1C', alertKind: 'DEVICE', deviceId: alertDevice, recipientPartyId: a, recipientRole: 'IS',
      alertTitle: 'Firmware Verification Failed', status: 'CORRELATED',
    });
    const triggers = (answer.body as AlertContext).triggers;
    expect(triggers.map((t) => [t.eventId, t.messageType, t.match, t.eventTime])).toEqual([
      [response.eventId, 'SERVICE_RESPONSE', 'REQUEST_ID', response.eventTime],
      [request.eventId, 'SERVICE_REQUEST', 'REQUEST_ID', request.eventTime],
    ]);
    expect(triggers[0]).toMatchObject({ responseCode: 'I0', sentByRecipient: true, srvTitle: 'Update Security Credentials (KRP)', critical: true });
    expect(Object.keys(triggers[1]).sort()).toEqual(
      ['critical', 'eventId', 'eventTime', 'flags', 'match', 'messageType', 'originatorId', 'originatorRole', 'requestId', 'responseCode', 'sentByRecipient', 'serviceReferenceVariant', 'srvTitle'],
    );
    // lower case ids are not the route's business: alertIds are compared as sent
    expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  test('another party, and a stranger, get the very 404 of an alert nobody raised', async () => {
    const unknown = await get(alertPath(uniqueId('alert')), token.a);
    expect(unknown.status).toBe(404);
    for (const who of ['b', 'ed', 'stranger']) {
      const answer = await get(alertPath(raised.alertId), token[who]);
      expect({ who, status: answer.status, text: answer.text }).toEqual({ who, status: 404, text: unknown.text });
    }
  });

  test('operators read any recipient\'s: the alert\'s recipient by default, or the one named', async () => {
    const own = (await get(alertPath(raised.alertId), token.a)).body;
    expect((await get(alertPath(raised.alertId), token.operator)).body).toEqual(own);
    expect((await get(alertPath(raised.alertId, `recipientPartyId=${a.toLowerCase()}`), token.operator)).body).toEqual(own);
    const other = await get(alertPath(raised.alertId, `recipientPartyId=${b}`), token.operator);
    expect(other.status).toBe(404);
    expect(other.text).toBe((await get(alertPath(uniqueId('alert')), token.operator)).text);
  });

  test('an alert from before the window is not served, whatever the archive holds', async () => {
    const short = await otherLookup({ lookupWindowMs: 60_000 });
    try {
      const answer = await get(alertPath(raised.alertId), token.a, `http://127.0.0.1:${short.port}`);
      expect(answer.status).toBe(404);
    } finally {
      await short.stop();
    }
  });

  test('a lookup in its own process reads alerts through the archiver\'s internal route, with the same answers', async () => {
    const config = testConfig({ GROUP_PREFIX: 'srv-visibility-test-lookup', ARCHIVE_QUERY_URL: `http://127.0.0.1:${harness.app.httpPort}`, LOOKUP_RATE_LIMIT: '1000000' });
    const standalone = await startApp({ config, logger: createLogger('warn', 'lookup-standalone', new LogCapture()), services: ['lookup'] });
    try {
      const server = `http://127.0.0.1:${standalone.lookup!.port}`;
      for (const [who, path] of [['a', alertPath(raised.alertId)], ['b', alertPath(raised.alertId)], ['operator', alertPath(raised.alertId)], ['operator', alertPath(raised.alertId, `recipientPartyId=${b}`)], ['a', alertPath('nobody-sent-this')]]) {
        const direct = await get(path, token[who]);
        const remote = await get(path, token[who], server);
        expect({ who, path, status: remote.status, text: remote.text }).toEqual({ who, path, status: direct.status, text: direct.text });
      }
      expect((await get(alertPath(raised.alertId), token.a, server)).status).toBe(200);
      // The internal route checks its parameters again.
      const internal = await fetch(`http://127.0.0.1:${harness.app.httpPort}/internal/archive/lookup/alert?alertId=a%20b&from=0`);
      expect(internal.status).toBe(400);
    } finally {
      await standalone.stop();
    }
  });

  test('no payload bytes in any alert answer', async () => {
    for (const who of ['a', 'operator', 'b']) {
      const answer = await get(alertPath(raised.alertId), token[who]);
      expect(answer.text).not.toMatch(/payload|secret|gbcs:|sr:Response/i);
    }
  });
});

describe('bad input', () => {
  test('malformed parameters: 400 with a clear message', async () => {
    const cases: Array<[string, RegExp]> = [
      [activity('not-a-device'), /Device ID/],
      [activity('00-DB-12-34-56-78-90'), /Device ID/],
      [activity(device, 'limit=0'), /limit/],
      [activity(device, 'limit=1001'), /limit/],
      [activity(device, 'limit=ten'), /limit/],
      [activity(device, 'limit=1.5'), /limit/],
      [activity(device, 'from=yesterday'), /from must be/],
      [activity(device, 'to=2026-02-30'), /to must be/],
      [activity(device, `from=${now}&to=${now - 1}`), /from is after to/],
      [activity(device, 'cursor=abc.def'), /cursor/],
      [activity(device, "cursor=' OR 1=1 --"), /cursor/],
      [activity(device, 'form=2026-01-01'), /unknown parameter "form"/],
      [activity(device, 'limit=1&limit=2'), /limit/],
      ['/v1/unowned?deviceId=xyz', /Device ID/],
      ['/v1/alerts/a%20b', /.+/],
    ];
    for (const [path, message] of cases) {
      const answer = await get(path, token.operator);
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(answer.body.error).toBe('bad_request');
      expect(answer.body.message).toMatch(message);
    }
  });

  test('alerts: a malformed alertId or recipientPartyId is 400, recipientPartyId from a party 403', async () => {
    const cases: Array<[string, string, number, RegExp]> = [
      ['/v1/alerts/a%20b', token.a, 400, /alertId must be/],
      // longer than the router's parameter bound (200, as the schema's): 414 before validation
      [`/v1/alerts/${'x'.repeat(201)}`, token.a, 414, /.+/],
      ['/v1/alerts/a%2Fb', token.a, 400, /alertId must be/],
      ['/v1/alerts/%27%20OR%201%3D1%20--', token.operator, 400, /alertId must be/],
      ['/v1/alerts/alert-1?recipientPartyId=bob', token.operator, 400, /recipientPartyId must be/],
      ['/v1/alerts/alert-1?recipient=x', token.operator, 400, /unknown parameter "recipient"/],
      [`/v1/alerts/alert-1?recipientPartyId=${a}`, token.a, 403, /for operators/],
    ];
    for (const [path, bearer, status, message] of cases) {
      const answer = await get(path, bearer);
      expect({ path, status: answer.status }).toEqual({ path, status });
      expect(answer.body.message).toMatch(message);
    }
  });

  test('fuzz: thousands of parameter combinations answer 200, 400 or 404, never 500, never another party\'s row', async () => {
    const parties = [a, b, ed, stranger];
    const partyTokens = [token.a, token.b, token.ed, token.stranger];
    const validCursors = [((await get(activity(device, 'limit=1'), token.b)).body as Page).next!, ((await get(activity(device, 'limit=2'), token.a)).body as Page).next!];
    const nasty = ["' OR 1=1 --", "'; DROP TABLE visibility_archive; --", '{deviceId:String}', '%00', '../../etc/passwd', '\u0000', 'ﬀ-ﬀ-ﬀ-ﬀ-ﬀ-ﬀ-ﬀ-ﬀ', '$(reboot)', '<script>', '1e309', '-0', ' '];
    const deviceArb = fc.oneof(
      { arbitrary: fc.constantFrom(device, device.toLowerCase(), lateDevice, unknownDevice, lonelyDevice), weight: 4 },
      { arbitrary: fc.constantFrom(...nasty), weight: 1 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
      { arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }).map((bytes) => bytes.map((x) => x.toString(16).padStart(2, '0')).join('-')), weight: 1 },
    );
    // Absent half the time and mostly well-formed otherwise, so that every kind of answer is reached.
    const timeArb = fc.option(
      fc.oneof(
        { arbitrary: fc.integer({ min: now - 120 * DAY, max: now + DAY }).map(String), weight: 4 },
        { arbitrary: fc.date({ min: new Date(now - 120 * DAY), max: new Date(now + DAY), noInvalidDate: true }).map((d) => d.toISOString()), weight: 2 },
        { arbitrary: fc.integer({ min: -1e16, max: 1e16 }).map(String), weight: 1 },
        { arbitrary: fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()), weight: 1 },
        { arbitrary: fc.constantFrom(...nasty, '2026-02-29', '2026-13-01T00:00:00Z', '2026-11-30T25:00'), weight: 1 },
        { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
      ),
      { nil: undefined, freq: 2 },
    );
    const limitArb = fc.option(
      fc.oneof({ arbitrary: fc.integer({ min: 1, max: 1000 }).map(String), weight: 4 }, { arbitrary: fc.integer({ min: -5, max: 1e6 }).map(String), weight: 1 }, { arbitrary: fc.constantFrom('NaN', '1e3', '0x10', '', ...nasty), weight: 1 }),
      { nil: undefined, freq: 2 },
    );
    const cursorArb = fc.option(
      fc.oneof(fc.constantFrom(...validCursors), fc.constantFrom(...validCursors).map((c) => c.slice(0, -1)), fc.constantFrom(...nasty), fc.base64String({ maxLength: 80 })),
      { nil: undefined, freq: 4 },
    );
    let requests = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: parties.length - 1 }), deviceArb, timeArb, timeArb, limitArb, cursorArb, async (who, deviceId, from, to, limit, cursor) => {
        const params = new URLSearchParams();
        if (from !== undefined) params.set('from', from);
        if (to !== undefined) params.set('to', to);
        if (limit !== undefined) params.set('limit', limit);
        if (cursor !== undefined) params.set('cursor', cursor);
        const answer = await get(`/v1/devices/${encodeURIComponent(deviceId)}/activity?${params}`, partyTokens[who]);
        requests += 1;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect([200, 400, 404]).toContain(answer.status);
        if (answer.status === 200) {
          for (const item of (answer.body as Page).items) {
            expect(item.recipientPartyId).toBe(parties[who]);
            expect([null, parties[who]]).toContain(item.originatorId);
          }
        } else expect(typeof answer.body.message).toBe('string');
        expect(answer.text).not.toMatch(/secret|payload/i);
      }),
      { numRuns: 3000 },
    );
    expect(requests).toBeGreaterThanOrEqual(3000);
    // The fuzz reached every kind of answer, not only the 400s.
    expect([...statuses.keys()].sort()).toEqual([200, 400, 404]);
    console.log(`lookup fuzz: ${requests} requests, by status ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, 600_000);
});

describe('bad input on the other routes', () => {
  test('fuzz: /v1/unowned and /v1/alerts answer 200/400/403/404 as the caller and input say, never 500', async () => {
    const nasty = ["' OR 1=1 --", '%00', '../x', '\u0000', '{limit:UInt32}', 'ﬀ'];
    const callers = [token.a, token.stranger, token.operator];
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: callers.length - 1 }),
        fc.boolean(),
        fc.oneof(fc.constantFrom(lonelyDevice, lonelyDevice.toLowerCase(), unknownDevice, ...nasty), fc.string({ maxLength: 30 })),
        fc.option(fc.oneof(fc.integer({ min: now - 120 * DAY, max: now }).map(String), fc.string({ maxLength: 20 })), { nil: undefined }),
        fc.option(fc.oneof(fc.integer({ min: -1, max: 1500 }).map(String), fc.constantFrom(...nasty)), { nil: undefined }),
        async (who, unowned, id, from, limit) => {
          const params = new URLSearchParams();
          if (from !== undefined) params.set('from', from);
          if (limit !== undefined) params.set('limit', limit);
          if (unowned) params.set('deviceId', id);
          const path = unowned ? `/v1/unowned?${params}` : `/v1/alerts/${encodeURIComponent(id)}`;
          const answer = await get(path, callers[who]);
          requests += 1;
          const operator = who === 2;
          const allowed = unowned ? (operator ? [200, 400] : [400, 403]) : [400, 404];
          expect({ path, status: answer.status, ok: allowed.includes(answer.status) }).toEqual({ path, status: answer.status, ok: true });
          if (answer.status === 200) for (const item of (answer.body as Page).items) expect(item.recipientPartyId).toBeNull();
        },
      ),
      { numRuns: 1000 },
    );
    expect(requests).toBeGreaterThanOrEqual(1000);
  }, 300_000);
});

describe('the page and the service', () => {
  test('GET / serves the page with a Content-Security-Policy; /page/ files only from its folder', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await get('/page/index.html')).status).toBe(200);
    // Sent as written (fetch would normalise the dots away): nothing outside the page's folder.
    for (const path of ['/page/..%2F..%2F..%2Fpackage.json', '/page/%2e%2e', '/page/%2e%2e%2fpackage.json', '/page/nothing.js', '/page/../../package.json', '/page/.env', '/page/..\\..\\package.json']) {
      const answer = await rawGet(path);
      expect({ path, served: answer.status === 200 }).toEqual({ path, served: false });
      expect(answer.text).not.toContain('srv-visibility');
    }
  });

  test('lookup requests are counted in the metrics, by route and status', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${harness.app.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/visibility_lookup_requests_total\{route="\/v1\/devices\/:deviceId\/activity",status="200"\} \d+/);
    expect(metrics).toMatch(/visibility_lookup_request_seconds_bucket\{le="0.05",route="\/v1\/devices\/:deviceId\/activity",status="404"\} \d+/);
    const health = (await (await fetch(`http://127.0.0.1:${harness.app.httpPort}/health`)).json()) as { checks: Record<string, boolean> };
    expect(health.checks['lookup:redis']).toBe(true);
  });
});
