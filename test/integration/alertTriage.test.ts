// Alert triage on the real stack: each alert reaches its recipient with its cause, as far as the
// recipient may see it, exactly once; bad alerts go to the DLQ; no payload byte leaves.
import { TOPICS, partyTopic, type AlertEvent, type AuditEvent } from '../../services/shared/contracts';
import type { AlertContext } from '../../services/shared/contracts';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, uniqueId } from '../support/fixtures';
import { drained, readTopic, useHarness, waitFor, type Harness } from '../support/pipeline';

const DAY = 24 * 3600_000;
const MINUTE = 60_000;
// Its own consumer groups: a suite sharing the default test groups at the same time would take some
// of sat.alerts' partitions (and decide those alerts with its own ALERT_WAIT_MS, in its own archive).
const harness = useHarness({ env: { ALERT_WAIT_MS: '3000', ALERT_LOOKBACK_MS: String(15 * MINUTE), GROUP_PREFIX: 'srv-visibility-test-alert-triage' } });

function alert(overrides: Partial<AlertEvent> & Pick<AlertEvent, 'deviceId' | 'recipientId'>): AlertEvent {
  return {
    alertId: uniqueId('alert'),
    alertCode: '0x8F1C',
    alertKind: 'DEVICE',
    eventTime: Date.now() - MINUTE,
    requestId: null,
    payload: Buffer.from('<gbcs:Alert>alert-secret-bytes</gbcs:Alert>'),
    ...overrides,
  };
}

async function sendAlerts(h: Harness, alerts: AlertEvent[], headers: Record<string, string> = {}): Promise<void> {
  await h.sendRaw(TOPICS.alerts, alerts.map((a) => ({ key: a.deviceId, value: h.codec.encodeSync(h.ids.alertEvent, a), headers })));
}

/** The AlertContexts on a party's topic (which also carries its VisibilityRecord copies). */
async function contextsFor(h: Harness, partyId: string, until: (c: AlertContext[]) => boolean, timeoutMs = 30_000): Promise<AlertContext[]> {
  const decode = (raw: Buffer | null) => (raw && raw.readInt32BE(1) === h.ids.alertContext ? h.codec.decodeSync<AlertContext>(raw, 'AlertContext').value : undefined);
  const read = async (toEnd: boolean) =>
    (await readTopic<Buffer>(h.kafka, h.codec, partyTopic(partyId), {
      raw: true,
      toEnd,
      timeoutMs,
      done: toEnd ? undefined : (m) => until(m.map((x) => decode(x.raw)).filter((c): c is AlertContext => c !== undefined)),
    }))
      .map((m) => decode(m.raw))
      .filter((c): c is AlertContext => c !== undefined);
  await read(false);
  await drained(h);
  return read(true); // everything there by now, doubles included
}

/**
 * What visibility.alert-contexts (the archiver's input) holds for these alerts, and the same alerts'
 * contexts on the party's topic, as raw bytes (both read committed, so aborted attempts never show).
 */
async function archivedAndDelivered(h: Harness, partyId: string, alertIds: string[]): Promise<{ archived: Buffer[]; delivered: Buffer[] }> {
  const wanted = new Set(alertIds);
  await drained(h);
  const archived = await readTopic<Buffer>(h.kafka, h.codec, TOPICS.alertContexts, { raw: true, toEnd: true, filter: (m) => wanted.has(m.key ?? '') });
  const delivered = (await readTopic<Buffer>(h.kafka, h.codec, partyTopic(partyId), { raw: true, toEnd: true })).filter((m) => m.raw && m.raw.readInt32BE(1) === h.ids.alertContext);
  return { archived: archived.map((m) => m.raw!), delivered: delivered.map((m) => m.raw!) };
}

/** A meter on its own MPAN with `supplier` as IS from 30 days ago (or from `from`). */
async function ownedMeter(supplier: string, from = Date.now() - 30 * DAY, more: Array<{ partyId: string; from: number }> = []): Promise<string> {
  const [device, mpan] = [randomEui64(), randomMpan()];
  await harness.sendOwnership([
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: Date.now() - 60 * DAY }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: from }),
    ...more.map((m) => ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: m.partyId, role: 'IS', effectiveFrom: m.from })),
  ]);
  return device;
}

/** Another User's request to the device, with its response. */
function othersRequest(device: string, at: number): AuditEvent[] {
  const other = randomEui64();
  const request = auditEvent({ deviceId: device, originatorId: other, originatorRole: 'OU', serviceReference: '6.15', serviceReferenceVariant: '6.15.1', eventTime: at });
  const response = auditEvent({ ...request, eventId: uniqueId('evt'), messageType: 'SERVICE_RESPONSE', responseCode: 'I0', eventTime: at + 2_000, payload: Buffer.from('<sr:Response>response-secret</sr:Response>') });
  return [request, response];
}

test('an alert naming another User\'s request reaches the supplier with that request and its response as the cause', async () => {
  const supplier = randomEui64();
  const device = await ownedMeter(supplier);
  const [request, response] = othersRequest(device, Date.now() - 5 * MINUTE);
  await harness.sendAudit([request, response]);
  await drained(harness);
  const raised = alert({ deviceId: device, recipientId: supplier, requestId: request.requestId, eventTime: request.eventTime + 3_000 });
  await sendAlerts(harness, [raised]);
  const [context, ...more] = await contextsFor(harness, supplier, (c) => c.length >= 1);
  expect(more).toEqual([]);
  expect(context).toMatchObject({
    alertId: raised.alertId, alertCode: '0x8F1C', alertKind: 'DEVICE', deviceId: device, recipientPartyId: supplier, recipientRole: 'IS',
    alertTitle: 'Firmware Verification Failed', status: 'CORRELATED',
  });
  expect(context.triggers.map((t) => [t.eventId, t.messageType, t.match])).toEqual([
    [response.eventId, 'SERVICE_RESPONSE', 'REQUEST_ID'],
    [request.eventId, 'SERVICE_REQUEST', 'REQUEST_ID'],
  ]);
  expect(context.triggers[1]).toMatchObject({ srvTitle: 'Update Security Credentials (KRP)', critical: true, originatorRole: 'OU', originatorId: null, sentByRecipient: false, flags: ['ROLE_NOT_ELIGIBLE'] });
});

test('an alert that arrives before its request waits for it, then is published with it', async () => {
  const supplier = randomEui64();
  const device = await ownedMeter(supplier);
  await drained(harness);
  const [request] = othersRequest(device, Date.now() - 2 * MINUTE);
  const raised = alert({ deviceId: device, recipientId: supplier, requestId: request.requestId, eventTime: request.eventTime + 1_000 });
  await sendAlerts(harness, [raised]);
  await waitFor(async () => (await harness.app.alertTriage!.state.allPending([0, 1, 2, 3, 4, 5])).some((w) => w.record.alertId === raised.alertId), { what: 'the alert to wait' });
  await harness.sendAudit([request]);
  const [context, ...more] = await contextsFor(harness, supplier, (c) => c.length >= 1);
  expect(more).toEqual([]);
  expect(context.status).toBe('CORRELATED');
  expect(context.triggers.map((t) => t.eventId)).toEqual([request.eventId]);
});

test('an alert naming a request that never comes is published after ALERT_WAIT_MS as NO_TRIGGER_FOUND', async () => {
  const supplier = randomEui64();
  const device = await ownedMeter(supplier);
  await drained(harness);
  const raised = alert({ deviceId: device, recipientId: supplier, requestId: `${randomEui64()}:${device}:77` });
  const sent = Date.now();
  await sendAlerts(harness, [raised]);
  const [context] = await contextsFor(harness, supplier, (c) => c.length >= 1);
  expect(Date.now() - sent).toBeGreaterThanOrEqual(3_000);
  expect(context).toMatchObject({ status: 'NO_TRIGGER_FOUND', triggers: [] });
});

test('an alert naming no request is matched to the Service Requests in the device window, newest first', async () => {
  const supplier = randomEui64();
  const device = await ownedMeter(supplier);
  const at = Date.now() - MINUTE;
  const old = auditEvent({ deviceId: device, originatorId: randomEui64(), originatorRole: 'OU', serviceReferenceVariant: '6.15.1', eventTime: at - 20 * MINUTE });
  const earlier = auditEvent({ deviceId: device, originatorId: randomEui64(), originatorRole: 'ED', serviceReferenceVariant: '6.15.1', eventTime: at - 10 * MINUTE });
  const later = auditEvent({ deviceId: device, originatorId: supplier, eventTime: at - 5 * MINUTE });
  const response = auditEvent({ ...later, eventId: uniqueId('evt'), messageType: 'SERVICE_RESPONSE', responseCode: 'I0', eventTime: at - 4 * MINUTE });
  await harness.sendAudit([old, earlier, later, response]);
  await drained(harness);
  await sendAlerts(harness, [alert({ deviceId: device, recipientId: supplier, eventTime: at })]);
  const [context] = await contextsFor(harness, supplier, (c) => c.length >= 1);
  expect(context.status).toBe('CORRELATED');
  expect(context.triggers.map((t) => [t.eventId, t.match])).toEqual([[later.eventId, 'DEVICE_WINDOW'], [earlier.eventId, 'DEVICE_WINDOW']]);
  // Its own request names it; another User's does not (disclosure default: own requests only).
  expect(context.triggers.map((t) => [t.sentByRecipient, t.originatorId])).toEqual([[true, supplier], [false, null]]);
});

test('a recipient that did not own the device when the trigger happened learns only that a trigger exists', async () => {
  const [previous, current] = [randomEui64(), randomEui64()];
  const cos = Date.now() - 2 * DAY;
  const device = await ownedMeter(previous, Date.now() - 30 * DAY, [{ partyId: current, from: cos }]);
  const [request] = othersRequest(device, cos - DAY);
  await harness.sendAudit([request]);
  await drained(harness);
  await sendAlerts(harness, [alert({ deviceId: device, recipientId: current, requestId: request.requestId })]);
  const [context] = await contextsFor(harness, current, (c) => c.length >= 1);
  expect(context).toMatchObject({ recipientPartyId: current, recipientRole: 'IS', status: 'TRIGGER_NOT_VISIBLE', triggers: [] });
});

test('a repeated alert is published once', async () => {
  const supplier = randomEui64();
  const device = await ownedMeter(supplier);
  const [request] = othersRequest(device, Date.now() - 3 * MINUTE);
  await harness.sendAudit([request]);
  await drained(harness);
  const raised = alert({ deviceId: device, recipientId: supplier, requestId: request.requestId });
  await sendAlerts(harness, [raised, raised]);
  await contextsFor(harness, supplier, (c) => c.length >= 1);
  await sendAlerts(harness, [raised]); // again, after it was published
  const contexts = await contextsFor(harness, supplier, () => false, 3_000);
  expect(contexts.map((c) => c.alertId)).toEqual([raised.alertId]);
});

test('failures on alert triage\'s write path: a crash after the commit, transactions that abort, a trigger batch that aborts; each alert is published once, a repeat later still not again', async () => {
  const supplier = randomEui64();
  const faults = harness.app.runtime.faults;
  const devices = [await ownedMeter(supplier), await ownedMeter(supplier), await ownedMeter(supplier)];
  const requests = devices.map((device) => othersRequest(device, Date.now() - 4 * MINUTE)[0]);
  // The trigger index's batch aborts twice before it is indexed (its replay writes the same keys).
  faults.arm('alert-triggers', 'before-commit', 2);
  await harness.sendAudit(requests);
  await drained(harness);
  // Alert transactions abort twice, then every committed one "dies" before its state is applied.
  faults.arm('alert-triage', 'before-commit', 2);
  faults.arm('alert-triage', 'after-commit', 1_000);
  const raised = devices.map((device, i) => alert({ deviceId: device, recipientId: supplier, requestId: requests[i].requestId }));
  await sendAlerts(harness, raised);
  const contexts = await contextsFor(harness, supplier, (c) => c.length >= raised.length);
  expect(contexts.map((c) => c.alertId).sort()).toEqual(raised.map((a) => a.alertId).sort());
  expect(contexts.every((c) => c.status === 'CORRELATED' && c.triggers.length === 1)).toBe(true);
  const fired = faults.fired.map((f) => `${f.stage}:${f.point}`);
  expect(fired.filter((f) => f === 'alert-triggers:before-commit')).toHaveLength(2);
  expect(fired.filter((f) => f === 'alert-triage:before-commit')).toHaveLength(2);
  expect(fired).toContain('alert-triage:after-commit');
  faults.disarm('alert-triage', 'after-commit');
  // The same alerts again: the recovered ledger knows them.
  await sendAlerts(harness, raised);
  const again = await contextsFor(harness, supplier, () => false, 3_000);
  expect(again.map((c) => c.alertId).sort()).toEqual(raised.map((a) => a.alertId).sort());
  expect(harness.logs.text).toContain('"outcome":"applied"');
  // The archiver's input got exactly what the party got, once each, the very bytes (same schema id),
  // nothing of the aborted transactions; and the archive serves each context as delivered.
  const { archived, delivered } = await archivedAndDelivered(harness, supplier, raised.map((a) => a.alertId));
  const hex = (buffers: Buffer[]) => buffers.map((b) => b.toString('hex')).sort();
  expect(archived).toHaveLength(raised.length);
  expect(hex(archived)).toEqual(hex(delivered));
  const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
  for (const context of again) {
    const read = () => harness.app.archive!.alertContext({ alertId: context.alertId, recipientPartyId: supplier, from: 0 });
    await waitFor(async () => (await read()) !== null, { what: `the archived AlertContext of ${context.alertId}` });
    expect(plain(await read())).toEqual(plain(context));
  }
});

test('bad alerts go to the DLQ with a reason; no payload byte of an alert or a request reaches a topic or a log', async () => {
  const supplier = randomEui64();
  const device = await ownedMeter(supplier);
  const [request, response] = othersRequest(device, Date.now() - 3 * MINUTE);
  await harness.sendAudit([request, response]);
  const run = uniqueId('bad-alerts');
  const cases: Array<[Partial<AlertEvent>, string]> = [
    [{ deviceId: 'not-a-device' }, 'INVALID_DEVICE_ID'],
    [{ recipientId: 'nobody' }, 'INVALID_USER_ID'],
    [{ alertId: ' ' }, 'MISSING_FIELD'],
    [{ requestId: 'not:a:request-id' }, 'INVALID_REQUEST_ID'],
    [{ eventTime: Date.now() + 3_600_000 }, 'FUTURE_EVENT_TIME'],
  ];
  for (const [i, [override]] of cases.entries()) {
    await sendAlerts(harness, [alert({ deviceId: device, recipientId: supplier, ...override })], { 'test.case': `${run}-${i}` });
  }
  const good = alert({ deviceId: device, recipientId: supplier, requestId: request.requestId });
  await sendAlerts(harness, [good]);
  const dlq = await readTopic<Buffer>(harness.kafka, harness.codec, TOPICS.dlq, {
    raw: true,
    filter: (m) => m.headers['test.case']?.startsWith(run) ?? false,
    done: (m) => m.length >= cases.length,
  });
  expect(dlq.map((m) => [m.headers['test.case'], m.headers['dlq.reason'], m.headers['dlq.source.topic']]).sort()).toEqual(
    cases.map(([, reason], i) => [`${run}-${i}`, reason, TOPICS.alerts]).sort(),
  );
  const contexts = await contextsFor(harness, supplier, (c) => c.length >= 1);
  expect(contexts.map((c) => c.alertId)).toEqual([good.alertId]);
  // The payload scan: the supplier's whole topic (copies and contexts) and every log line.
  const topic = (await readTopic<Buffer>(harness.kafka, harness.codec, partyTopic(supplier), { raw: true, toEnd: true })).map((m) => m.raw!.toString('latin1')).join('\n');
  for (const secret of ['alert-secret-bytes', 'gbcs:Alert', 'response-secret', '<sr:Request>secret']) {
    expect(topic).not.toContain(secret);
    expect(harness.logs.text).not.toContain(secret);
  }
  expect(topic).toContain(good.alertId); // the scan looks where the contexts are
});
