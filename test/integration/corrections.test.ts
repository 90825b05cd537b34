// Corrections on the real stack: registration data that arrives late and shows a party was sent a
// copy it was not entitled to. Both sides: the party now named gets the copy (LATE_OWNERSHIP), the
// party no longer named gets the same record once more flagged RETRACTED (once, however often the
// late work runs), its archive row carries RETRACTED, and no party lookup or replay serves it.
import { FLAGS, TOPICS, type AuditEvent, type OwnershipEvent, type VisibilityRecord } from '../../services/shared/contracts';
import type { ArchivedRecord } from '../../services/shared/archive';
import { mintToken, readSigningKey } from '../../services/lookup/keys';
import { auditEvent, ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';
import { drained, readTopics, useHarness, waitFor, type ReadMessage } from '../support/pipeline';

const DAY = 24 * 3600_000;
// A deployment of its own: a suite someone else runs at the same time under the default test groups
// takes partitions from this one. (Any other fan-out running on the shared stack meanwhile, under
// any group, also delivers this suite's records, under its own ledger: copies then appear twice.
// Run this file alone.)
const harness = useHarness({ env: { GROUP_PREFIX: 'srv-visibility-test-corrections' } });

const ids = (events: AuditEvent[]) => events.map((e) => e.eventId).sort();
const assoc = (deviceId: string, mpxn: string, effectiveFrom: number) => ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn, deviceId, deviceType: 'ESME', effectiveFrom });
const dissoc = (deviceId: string, mpxn: string, effectiveFrom: number) => ownershipEvent({ type: 'DEVICE_DISSOCIATED', mpxn, deviceId, effectiveFrom });
const supplier = (mpxn: string, partyId: string, effectiveFrom: number) => ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn, partyId, role: 'IS', effectiveFrom });
const operator = (mpxn: string, partyId: string, effectiveFrom: number) => ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn, partyId, role: 'ED', effectiveFrom });

const secret = (n: number, device: string) => Buffer.from(`<sr:Body><sr:Tariff>CORRECTION-SECRET-${n}-${device}</sr:Tariff></sr:Body>`);

async function sendOwnershipAndWait(events: OwnershipEvent[]): Promise<void> {
  await harness.sendOwnership(events);
  await drained(harness);
}

/** Each party topic's records once at least `atLeast` of them are there, after the pipeline drained and the late work ran. */
async function topics(atLeast: Record<string, number>): Promise<Record<string, Array<ReadMessage<VisibilityRecord>>>> {
  const parties = Object.keys(atLeast);
  const names = parties.map((p) => `${TOPICS.partyPrefix}${p}`);
  const byTopic = (messages: Array<ReadMessage<VisibilityRecord>>, p: string) => messages.filter((m) => m.topic === `${TOPICS.partyPrefix}${p}`);
  await readTopics(harness.kafka, harness.codec, names, { done: (m) => parties.every((p) => byTopic(m, p).length >= atLeast[p]), timeoutMs: 60_000 });
  await drained(harness);
  await harness.app.fanOut!.punctuate();
  await drained(harness);
  const all = await readTopics(harness.kafka, harness.codec, names, { toEnd: true });
  return Object.fromEntries(parties.map((p) => [p, byTopic(all, p)]));
}

/** "eventId flags" per record on a topic, sorted: what a party consumer was told. */
const told = (messages: Array<ReadMessage<VisibilityRecord>>) => messages.map((m) => `${m.value.eventId} ${m.value.flags.join(',')}`).sort();
const plain = (events: AuditEvent[]) => ids(events).map((id) => `${id} `);
const flagged = (events: AuditEvent[], flag: string) => ids(events).map((id) => `${id} ${flag}`);

const retractedSoFar = async () => (await harness.app.runtime.metrics.retractions.get()).values.reduce((n, v) => n + v.value, 0);

async function archiveRows(deviceId: string, partyId: string): Promise<ArchivedRecord[]> {
  return harness.app.archive!.find({ deviceId, recipientPartyId: partyId });
}

/** What the lookup and the replay read for a party (the Archive queries they run), and whether the device counts as seen by it. */
async function partyReads(deviceId: string, partyId: string, from: number, to: number) {
  const archive = harness.app.archive!;
  const activity = await archive.activity({ deviceId, scope: { kind: 'party', partyId, beforeOwnershipUntil: null }, from, to, after: null, limit: 100 });
  const asCurrentOwner = await archive.activity({ deviceId, scope: { kind: 'party', partyId, beforeOwnershipUntil: to }, from, to, after: null, limit: 100 });
  const replay = await archive.readPartyRange({ partyId, deviceId, from, to }, undefined, 100);
  const seen = await archive.seen({ deviceId, partyId, from });
  return { activity: activity.map((r) => r.eventId).sort(), asCurrentOwner: asCurrentOwner.filter((r) => !r.beforeOwnership).map((r) => r.eventId).sort(), replay: replay.map((r) => r.eventId).sort(), seen };
}

/** The lookup API over HTTP, as the party (or an operator) with a token signed by the stack's key. */
async function lookup(deviceId: string, subject: string, operator = false): Promise<{ status: number; items: VisibilityRecord[]; text: string }> {
  const config = harness.app.runtime.config;
  const token = await mintToken(readSigningKey(config.stackDir), { subject, operator, issuer: config.lookupIssuer, audience: config.lookupAudience, ttlSeconds: 600 });
  const response = await fetch(`http://127.0.0.1:${harness.app.lookup!.port}/v1/devices/${deviceId}/activity?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, items: response.status === 200 ? (JSON.parse(text) as { items: VisibilityRecord[] }).items : [], text };
}

function expectNoPayload(device: string, contents: Record<string, Array<ReadMessage<VisibilityRecord>>>, archived: unknown): void {
  const everything = Object.values(contents).flat().map((m) => m.raw!.toString('latin1')).join('\n') + JSON.stringify(archived) + harness.logs.text;
  expect(everything).not.toContain(`CORRECTION-SECRET`);
  expect(everything).not.toContain('sr:Tariff');
  expect(everything).toContain(device); // the scan did read this test's records
}

test('a retrospective CoS: B gets the copies since its effective date, A gets each of them back once flagged RETRACTED', async () => {
  const now = Date.now();
  const [device, a, b, ed] = [randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const mpan = randomMpan();
  const cos = now - 3 * DAY;
  await sendOwnershipAndWait([assoc(device, mpan, now - 30 * DAY), supplier(mpan, a, now - 30 * DAY), operator(mpan, ed, now - 30 * DAY)]);
  const before = [auditEvent({ deviceId: device, originatorId: a, eventTime: cos - DAY, payload: secret(1, device) })];
  const after = [
    auditEvent({ deviceId: device, originatorId: a, eventTime: cos + DAY, payload: secret(2, device) }),
    auditEvent({ deviceId: device, originatorId: ed, originatorRole: 'ED', serviceReferenceVariant: '4.1.1', eventTime: cos + 2 * DAY, payload: secret(3, device) }),
  ];
  await harness.sendAudit([...before, ...after]);
  await topics({ [a]: 3, [ed]: 3 });
  await waitFor(async () => (await archiveRows(device, a)).length === 3, { what: 'A\'s copies in the archive', timeoutMs: 60_000 });
  const retractedBefore = await retractedSoFar();

  // Only now does the registration feed say B has held the MPAN for three days.
  await sendOwnershipAndWait([supplier(mpan, b, cos)]);
  let contents = await topics({ [a]: 5, [b]: 2, [ed]: 3 });
  expect(told(contents[b])).toEqual(flagged(after, FLAGS.LATE_OWNERSHIP));
  expect(told(contents[a])).toEqual([...plain([...before, ...after]), ...flagged(after, FLAGS.RETRACTED)].sort());
  expect(told(contents[ed])).toEqual(plain([...before, ...after]));
  // A retraction is the record as A received it: same key, recipient, role and fields, plus the flag.
  for (const event of after) {
    const [original, retraction] = contents[a].filter((m) => m.value.eventId === event.eventId);
    expect(retraction.key).toBe(original.key);
    expect(retraction.value).toEqual({ ...original.value, flags: [...original.value.flags, FLAGS.RETRACTED] });
    expect(retraction.value).toMatchObject({ recipientPartyId: a, recipientRole: 'IS' });
  }

  // The ledger records each retraction beside the copy (what keeps a replayed step from sending it again).
  const ledger = await harness.app.fanOut!.state.deliveredTo(ids(after));
  for (const id of ids(after)) expect([...ledger.get(id)!].sort()).toEqual([a, `${a}#retracted`, b, ed].sort());

  // The archive's rows for A's retracted copies carry RETRACTED (read with FINAL); the earlier one does not.
  await waitFor(async () => (await archiveRows(device, a)).filter((r) => r.flags.includes(FLAGS.RETRACTED)).length === 2, { what: 'the RETRACTED rows in the archive', timeoutMs: 60_000 });
  const rows = await archiveRows(device, a);
  expect(rows).toHaveLength(3);
  expect(rows.filter((r) => r.flags.includes(FLAGS.RETRACTED)).map((r) => r.eventId).sort()).toEqual(ids(after));

  // Registration data touching the device again (the operator's registration re-stated earlier):
  // the late work runs over the same events and retracts nothing twice.
  await sendOwnershipAndWait([operator(mpan, ed, cos - 5 * DAY)]);
  await new Promise((r) => setTimeout(r, 1_000));
  contents = await topics({ [a]: 5, [b]: 2, [ed]: 3 });
  expect(told(contents[a])).toEqual([...plain([...before, ...after]), ...flagged(after, FLAGS.RETRACTED)].sort());
  expect(told(contents[b])).toEqual(flagged(after, FLAGS.LATE_OWNERSHIP));
  expect((await retractedSoFar()) - retractedBefore).toBe(2);

  // A's lookup and replay no longer serve the retracted copies; B's do serve its late ones; operators see both, flagged.
  const from = now - 30 * DAY;
  expect(await partyReads(device, a, from, now)).toEqual({ activity: ids(before), asCurrentOwner: ids(before), replay: ids(before), seen: true });
  expect(await partyReads(device, b, from, now)).toEqual({ activity: ids(after), asCurrentOwner: ids(after), replay: ids(after), seen: true });
  const operatorView = await harness.app.archive!.activity({ deviceId: device, scope: { kind: 'operator' }, from, to: now, after: null, limit: 100 });
  expect(operatorView.filter((r) => r.recipientPartyId === a && r.flags.includes(FLAGS.RETRACTED)).map((r) => r.eventId).sort()).toEqual(ids(after));
  // The same over HTTP: A's view holds only what it may keep; B, the current owner, sees its late
  // copies and the earlier event as BEFORE_OWNERSHIP; an operator sees A's retracted copies, flagged.
  const [byA, byB, byOperator] = [await lookup(device, a), await lookup(device, b), await lookup(device, randomEui64(), true)];
  expect(byA.status).toBe(200);
  expect(byA.items.map((i) => `${i.eventId} ${i.flags.join(',')}`)).toEqual(plain(before));
  expect(byB.items.map((i) => `${i.eventId} ${i.flags.join(',')}`).sort()).toEqual([...flagged(after, FLAGS.LATE_OWNERSHIP), ...flagged(before, 'BEFORE_OWNERSHIP')].sort());
  expect(byOperator.items.filter((i) => i.recipientPartyId === a && i.flags.includes(FLAGS.RETRACTED)).map((i) => i.eventId).sort()).toEqual(ids(after));
  expectNoPayload(device, contents, [rows, byA.text, byB.text, byOperator.text]);
}, 180_000);

test('a corrected association: the right MPxN\'s parties get the copies, the wrong MPxN\'s parties get them back flagged RETRACTED', async () => {
  const now = Date.now();
  const [device, a, edA, b, edB] = [randomEui64(), randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const [wrong, right] = [randomMpan(), randomMpan()];
  const t0 = now - 30 * DAY;
  await sendOwnershipAndWait([
    supplier(wrong, a, now - 40 * DAY),
    operator(wrong, edA, now - 40 * DAY),
    supplier(right, b, now - 40 * DAY),
    operator(right, edB, now - 40 * DAY),
    assoc(device, wrong, t0),
  ]);
  const events = [
    auditEvent({ deviceId: device, originatorId: a, eventTime: now - 2 * DAY, payload: secret(4, device) }),
    auditEvent({ deviceId: device, originatorId: a, eventTime: now - DAY, payload: secret(5, device) }),
  ];
  await harness.sendAudit(events);
  await topics({ [a]: 2, [edA]: 2 });
  await waitFor(async () => (await harness.app.archive!.find({ deviceId: device })).length === 4, { what: 'the copies in the archive', timeoutMs: 60_000 });

  // The correction: the association with the wrong MPAN is withdrawn (same fact identity, now a
  // dissociation) and the device is associated with the right one from the same instant.
  await sendOwnershipAndWait([dissoc(device, wrong, t0), assoc(device, right, t0)]);
  const contents = await topics({ [a]: 4, [edA]: 4, [b]: 2, [edB]: 2 });
  for (const party of [a, edA]) expect(told(contents[party])).toEqual([...plain(events), ...flagged(events, FLAGS.RETRACTED)].sort());
  for (const party of [b, edB]) expect(told(contents[party])).toEqual(flagged(events, FLAGS.LATE_OWNERSHIP));

  await waitFor(async () => (await harness.app.archive!.find({ deviceId: device })).filter((r) => r.flags.includes(FLAGS.RETRACTED)).length === 4, { what: 'the RETRACTED rows in the archive', timeoutMs: 60_000 });
  const rows = await harness.app.archive!.find({ deviceId: device });
  expect(rows.map((r) => `${r.recipientPartyId} ${r.flags.join(',')}`).sort()).toEqual(
    [`${a} RETRACTED`, `${a} RETRACTED`, `${edA} RETRACTED`, `${edA} RETRACTED`, `${b} LATE_OWNERSHIP`, `${b} LATE_OWNERSHIP`, `${edB} LATE_OWNERSHIP`, `${edB} LATE_OWNERSHIP`].sort(),
  );
  // The wrong MPAN's parties never held the device: nothing to show them, not even that it exists.
  const from = now - 30 * DAY;
  for (const party of [a, edA]) expect(await partyReads(device, party, from, now)).toEqual({ activity: [], asCurrentOwner: [], replay: [], seen: false });
  for (const party of [b, edB]) expect(await partyReads(device, party, from, now)).toEqual({ activity: ids(events), asCurrentOwner: ids(events), replay: ids(events), seen: true });
  // Over HTTP: the same 404 as for a device they never heard of; the right MPAN's parties see the events.
  const answers = [await lookup(device, a), await lookup(device, edA), await lookup(device, b), await lookup(device, edB)];
  expect(answers.map((x) => x.status)).toEqual([404, 404, 200, 200]);
  expect(answers[0].text).toBe((await lookup(randomEui64(), a)).text);
  for (const x of answers.slice(2)) expect(x.items.map((i) => i.eventId).sort()).toEqual(ids(events));
  expectNoPayload(device, contents, [rows, ...answers.map((x) => x.text)]);
}, 180_000);
