// Who sees what, on the real stack: for each ownership story, the exact records on every party topic.
import { TOPICS } from '../../services/shared/contracts';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, randomMprn } from '../support/fixtures';
import { drained, eventIdsByParty, partyContents, readTopic, useHarness, waitFor } from '../support/pipeline';
import type { AuditEvent, OwnershipEvent } from '../../services/shared/contracts';

const DAY = 24 * 3600_000;
const harness = useHarness();

const ids = (events: AuditEvent[]) => events.map((e) => e.eventId).sort();
const assoc = (deviceId: string, mpxn: string, effectiveFrom: number, deviceType: OwnershipEvent['deviceType'] = 'CHF') =>
  ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn, deviceId, deviceType, effectiveFrom });
const dissoc = (deviceId: string, mpxn: string, effectiveFrom: number) => ownershipEvent({ type: 'DEVICE_DISSOCIATED', mpxn, deviceId, effectiveFrom });
const supplier = (mpxn: string, partyId: string, role: 'IS' | 'ES' | 'GS', effectiveFrom: number) =>
  ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn, partyId, role, effectiveFrom });
const operator = (mpxn: string, partyId: string, role: 'ED' | 'GT', effectiveFrom: number) =>
  ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn, partyId, role, effectiveFrom });

async function sendOwnershipAndWait(events: OwnershipEvent[]): Promise<void> {
  await harness.sendOwnership(events);
  await drained(harness);
}

test('two suppliers across a CoS, events on both sides of the boundary', async () => {
  const now = Date.now();
  const [device, a, b, ed, ou] = [randomEui64(), randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const mpan = randomMpan();
  const cos = now - 2 * DAY;
  await sendOwnershipAndWait([assoc(device, mpan, now - 30 * DAY, 'ESME'), supplier(mpan, a, 'IS', now - 30 * DAY), operator(mpan, ed, 'ED', now - 30 * DAY), supplier(mpan, b, 'IS', cos)]);
  const before = [auditEvent({ deviceId: device, originatorId: a, eventTime: cos - 1 }), auditEvent({ deviceId: device, originatorId: ou, originatorRole: 'OU', serviceReferenceVariant: '4.8.1', eventTime: cos - DAY })];
  const after = [auditEvent({ deviceId: device, originatorId: b, eventTime: cos }), auditEvent({ deviceId: device, originatorId: ou, originatorRole: 'OU', serviceReferenceVariant: '4.8.1', eventTime: cos + 1 })];
  await harness.sendAudit([...before, ...after]);
  const expected = { [a]: ids(before), [b]: ids(after), [ed]: ids([...before, ...after]), [ou]: [] };
  expect(eventIdsByParty(await partyContents(harness, expected))).toEqual(expected);
});

test('a CoS that arrives after the events it governs: the events wait, then go to the owner at their time', async () => {
  const now = Date.now();
  const [device, a, b] = [randomEui64(), randomEui64(), randomEui64()];
  const mpan = randomMpan();
  const cos = now - DAY;
  const before = [auditEvent({ deviceId: device, originatorId: a, eventTime: cos - 1000 })];
  const after = [auditEvent({ deviceId: device, originatorId: b, eventTime: cos + 1000 }), auditEvent({ deviceId: device, originatorId: b, eventTime: cos + 2000 })];
  await harness.sendAudit([...before, ...after]);
  // Nothing is known about the device yet: the records are waiting, durably, in the pending store.
  // (Asked directly rather than after a full drain: they wait OWNERSHIP_WAIT_MS, 4 s here.)
  await waitFor(async () => {
    const waiting = (await harness.app.fanOut!.allPending()).map((w) => w.record.eventId);
    return ids([...before, ...after]).every((id) => waiting.includes(id));
  }, { what: 'the records to wait for their owners' });
  // Registration data arrives, newest first (the CoS before the original registration).
  await harness.sendOwnership([supplier(mpan, b, 'IS', cos), assoc(device, mpan, now - 10 * DAY, 'ESME'), supplier(mpan, a, 'IS', now - 10 * DAY)]);
  const expected = { [a]: ids(before), [b]: ids(after) };
  const contents = await partyContents(harness, expected);
  expect(eventIdsByParty(contents)).toEqual(expected);
  expect(contents[b].every((m) => !m.value.flags.includes('LATE_OWNERSHIP'))).toBe(true);
});

test('a retrospective CoS after delivery: the new supplier gets what happened since its effective date, the old one has it retracted', async () => {
  const now = Date.now();
  const [device, a, b, ed] = [randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const mpan = randomMpan();
  const cos = now - 3 * DAY;
  await sendOwnershipAndWait([assoc(device, mpan, now - 30 * DAY, 'ESME'), supplier(mpan, a, 'IS', now - 30 * DAY), operator(mpan, ed, 'ED', now - 30 * DAY)]);
  const before = [auditEvent({ deviceId: device, originatorId: a, eventTime: cos - DAY })];
  const after = [auditEvent({ deviceId: device, originatorId: a, eventTime: cos + DAY }), auditEvent({ deviceId: device, originatorId: ed, originatorRole: 'ED', serviceReferenceVariant: '4.1.1', eventTime: cos + 2 * DAY })];
  await harness.sendAudit([...before, ...after]);
  await partyContents(harness, { [a]: ids([...before, ...after]) });
  // Only now does the registration feed say B took over three days ago.
  await sendOwnershipAndWait([supplier(mpan, b, 'IS', cos)]);
  // A is told, once per copy, that the copies after B's effective date were not its to have.
  const expected = { [a]: ids([...before, ...after, ...after]), [b]: ids(after), [ed]: ids([...before, ...after]) };
  const contents = await partyContents(harness, expected);
  expect(eventIdsByParty(contents)).toEqual(expected);
  // B's copies say they came late; A's second copies of the later events say they are retracted.
  expect(contents[b].map((m) => m.value.flags)).toEqual([['LATE_OWNERSHIP'], ['LATE_OWNERSHIP']]);
  expect(contents[b].every((m) => m.value.recipientRole === 'IS' && m.value.sentByRecipient === false)).toBe(true);
  expect(contents[a].filter((m) => m.value.flags.includes('RETRACTED')).map((m) => m.value.eventId).sort()).toEqual(ids(after));
});

test('a device moved from one MPxN to another', async () => {
  const now = Date.now();
  const [device, a, b, edA, edB] = [randomEui64(), randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const [mpan1, mpan2] = [randomMpan(), randomMpan()];
  const move = now - 2 * DAY;
  await sendOwnershipAndWait([
    assoc(device, mpan1, now - 30 * DAY),
    supplier(mpan1, a, 'IS', now - 40 * DAY),
    operator(mpan1, edA, 'ED', now - 40 * DAY),
    supplier(mpan2, b, 'IS', now - 40 * DAY),
    operator(mpan2, edB, 'ED', now - 40 * DAY),
    dissoc(device, mpan1, move),
    assoc(device, mpan2, move),
  ]);
  const before = [auditEvent({ deviceId: device, originatorId: a, eventTime: move - 1 })];
  const after = [auditEvent({ deviceId: device, originatorId: b, eventTime: move }), auditEvent({ deviceId: device, originatorId: b, eventTime: move + DAY })];
  await harness.sendAudit([...before, ...after]);
  const expected = { [a]: ids(before), [edA]: ids(before), [b]: ids(after), [edB]: ids(after) };
  expect(eventIdsByParty(await partyContents(harness, expected))).toEqual(expected);
});

test('a dual-fuel premises: the hub is seen by IS, GS, ED and GT; the gas meter by GS and GT only', async () => {
  const now = Date.now();
  const [chf, gsme, esme, is, gs, ed, gt] = [randomEui64(), randomEui64(), randomEui64(), randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const [mpan, mprn] = [randomMpan(), randomMprn()];
  const t0 = now - 30 * DAY;
  await sendOwnershipAndWait([
    assoc(chf, mpan, t0),
    assoc(chf, mprn, t0),
    assoc(esme, mpan, t0, 'ESME'),
    assoc(gsme, mprn, t0, 'GSME'),
    supplier(mpan, is, 'IS', t0),
    supplier(mprn, gs, 'GS', t0),
    operator(mpan, ed, 'ED', t0),
    operator(mprn, gt, 'GT', t0),
  ]);
  const hub = [auditEvent({ deviceId: chf, originatorId: is, serviceReferenceVariant: '8.2', serviceReference: '8.2', eventTime: now - DAY })];
  const gas = [auditEvent({ deviceId: gsme, originatorId: gs, originatorRole: 'GS', eventTime: now - DAY })];
  const elec = [auditEvent({ deviceId: esme, originatorId: is, eventTime: now - DAY })];
  await harness.sendAudit([...hub, ...gas, ...elec]);
  const expected = { [is]: ids([...hub, ...elec]), [gs]: ids([...hub, ...gas]), [ed]: ids([...hub, ...elec]), [gt]: ids([...hub, ...gas]) };
  const contents = await partyContents(harness, expected);
  expect(eventIdsByParty(contents)).toEqual(expected);
  expect(contents[gt].find((m) => m.value.deviceId === gsme)!.value).toMatchObject({ recipientRole: 'GT', originatorRole: 'GS', originatorId: null, sentByRecipient: false });
});

test('an export supplier sees the meter on its export MPAN', async () => {
  const now = Date.now();
  const [esme, importer, exporter, ed] = [randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const [importMpan, exportMpan] = [randomMpan(), randomMpan()];
  const t0 = now - 30 * DAY;
  await sendOwnershipAndWait([
    assoc(esme, importMpan, t0, 'ESME'),
    assoc(esme, exportMpan, t0, 'ESME'),
    supplier(importMpan, importer, 'IS', t0),
    supplier(exportMpan, exporter, 'ES', t0),
    operator(importMpan, ed, 'ED', t0),
    operator(exportMpan, ed, 'ED', t0),
  ]);
  const events = [
    auditEvent({ deviceId: esme, originatorId: exporter, originatorRole: 'ES', serviceReferenceVariant: '4.2', serviceReference: '4.2', eventTime: now - DAY }),
    auditEvent({ deviceId: esme, originatorId: importer, eventTime: now - DAY + 1 }),
  ];
  await harness.sendAudit(events);
  const expected = { [importer]: ids(events), [exporter]: ids(events), [ed]: ids(events) };
  const contents = await partyContents(harness, expected);
  expect(eventIdsByParty(contents)).toEqual(expected);
  expect(contents[exporter].find((m) => m.value.serviceReferenceVariant === '4.2')!.value).toMatchObject({ recipientRole: 'ES', sentByRecipient: true, originatorId: exporter, flags: [] });
  expect(contents[ed]).toHaveLength(2); // one copy per (event, party), though ED holds both MPANs
});

test('a decommissioned device: activity after decommissioning has no owner and goes to visibility.unowned', async () => {
  const now = Date.now();
  const [device, a] = [randomEui64(), randomEui64()];
  const mpan = randomMpan();
  const decommissioned = now - DAY;
  await sendOwnershipAndWait([assoc(device, mpan, now - 30 * DAY, 'ESME'), supplier(mpan, a, 'IS', now - 30 * DAY), dissoc(device, mpan, decommissioned)]);
  const before = [auditEvent({ deviceId: device, originatorId: a, serviceReferenceVariant: '8.3', serviceReference: '8.3', eventTime: decommissioned - 1000 })];
  const after = [auditEvent({ deviceId: device, originatorId: a, eventTime: decommissioned + 1000 })];
  await harness.sendAudit([...before, ...after]);
  const expected = { [a]: ids(before) };
  expect(eventIdsByParty(await partyContents(harness, expected))).toEqual(expected);
  const unowned = await readTopic(harness.kafka, harness.codec, TOPICS.unowned, {
    filter: (m) => m.value.deviceId === device,
    done: (m) => m.length >= 1,
    timeoutMs: 20_000,
  });
  expect(unowned.map((m) => m.value.eventId)).toEqual(ids(after));
  expect(unowned[0].headers['unowned.reason']).toBe('NO_DEVICE_ASSOCIATION');
  expect(unowned[0].value).toMatchObject({ recipientPartyId: null, flags: ['NO_OWNER'] });
  await waitFor(async () => (await harness.app.archive!.find({ deviceId: device, recipientPartyId: '' })).length === 1, { what: 'the unowned record in the archive' });
});
