// Foundation end to end on the real stack: registration, SRVs from the supplier and another
// user, a Change of Supplier, more SRVs; each party topic holds exactly its records, the archive
// holds every copy, and no payload byte appears anywhere.
import { partyTopic } from '../../services/shared/contracts';
import { auditEvent, ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';
import { drained, readTopic, useHarness, waitFor } from '../support/pipeline';

const DAY = 24 * 3600_000;
const harness = useHarness();

test('records reach exactly the owners at their event time, across a Change of Supplier', async () => {
  const now = Date.now();
  const device = randomEui64();
  const mpan = randomMpan();
  const supplierA = randomEui64();
  const supplierB = randomEui64();
  const distributor = randomEui64();
  const otherUser = randomEui64();
  const cos = now - 3 * DAY;

  await harness.sendOwnership([
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - 30 * DAY }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplierA, role: 'IS', effectiveFrom: now - 30 * DAY }),
    ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: distributor, role: 'ED', effectiveFrom: now - 30 * DAY }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplierB, role: 'IS', effectiveFrom: cos }),
  ]);
  const secret = (n: number) => Buffer.from(`<sr:Body><sr:Tariff>SECRET-PAYLOAD-${n}-${device}</sr:Tariff></sr:Body>`);
  const beforeCos = [
    auditEvent({ deviceId: device, originatorId: supplierA, originatorRole: 'IS', eventTime: cos - DAY, payload: secret(1) }),
    auditEvent({ deviceId: device, originatorId: otherUser, originatorRole: 'OU', serviceReference: '4.8', serviceReferenceVariant: '4.8.1', eventTime: cos - DAY + 1000, payload: secret(2) }),
  ];
  const afterCos = [
    auditEvent({ deviceId: device, originatorId: supplierB, originatorRole: 'IS', serviceReference: '1.1', serviceReferenceVariant: '1.1.1', eventTime: cos, payload: secret(3) }),
    auditEvent({ deviceId: device, originatorId: otherUser, originatorRole: 'OU', serviceReference: '4.8', serviceReferenceVariant: '4.8.1', eventTime: cos + DAY, payload: secret(4) }),
    auditEvent({ deviceId: device, originatorId: supplierB, originatorRole: 'IS', messageType: 'SERVICE_RESPONSE', serviceReference: '1.1', serviceReferenceVariant: '1.1.1', responseCode: 'I0', eventTime: cos + DAY + 5000, payload: secret(5) }),
  ];
  // Registration data is processed before the audit events are sent, so nothing waits.
  await drained(harness);
  await harness.sendAudit([...beforeCos, ...afterCos]);

  const read = async (party: string, expected: number) =>
    (await readTopic(harness.kafka, harness.codec, partyTopic(party), { done: (m) => m.length >= expected })).map((m) => m);
  await read(distributor, 5);
  await drained(harness);

  const ids = (messages: Awaited<ReturnType<typeof read>>) => messages.map((m) => m.value.eventId).sort();
  const a = await read(supplierA, 2);
  const b = await read(supplierB, 3);
  const d = await read(distributor, 5);
  expect(ids(a)).toEqual(beforeCos.map((e) => e.eventId).sort());
  expect(ids(b)).toEqual(afterCos.map((e) => e.eventId).sort());
  expect(ids(d)).toEqual([...beforeCos, ...afterCos].map((e) => e.eventId).sort());
  for (const m of [...a, ...b, ...d]) expect(m.key).toBe(device);

  // Titles, roles and the disclosure default: the originator's User ID only on its own requests.
  const bResponse = b.find((m) => m.value.messageType === 'SERVICE_RESPONSE')!.value;
  expect(bResponse).toMatchObject({ srvTitle: 'Update Import Tariff (Primary Element)', critical: true, responseCode: 'I0', recipientPartyId: supplierB, recipientRole: 'IS', sentByRecipient: true, originatorId: supplierB });
  const dView = d.find((m) => m.value.eventId === afterCos[0].eventId)!.value;
  expect(dView).toMatchObject({ recipientPartyId: distributor, recipientRole: 'ED', sentByRecipient: false, originatorId: null, originatorRole: 'IS' });

  // The archive holds every copy (the archiver writes it after the fan-out commits).
  const copies = a.length + b.length + d.length;
  const archived = await waitFor(async () => {
    const rows = await harness.app.archive!.find({ deviceId: device });
    return rows.length >= copies && rows;
  }, { what: 'every copy in the archive' });
  expect(archived.map((r) => `${r.eventId}>${r.recipientPartyId}`).sort()).toEqual(
    [...a, ...b, ...d].map((m) => `${m.value.eventId}>${m.value.recipientPartyId}`).sort(),
  );

  // No payload byte anywhere: party topics, archive, logs.
  const everything = [...a, ...b, ...d].map((m) => m.raw!.toString('latin1')).join('\n') + JSON.stringify(archived) + harness.logs.text;
  expect(everything).not.toContain('SECRET-PAYLOAD');
  expect(everything).not.toContain('sr:Tariff');
});
