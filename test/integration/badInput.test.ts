// Every service survives every malformed record: the original bytes go to sat.dlq untouched,
// with reason headers, the record is counted, and good records after it still flow.
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { TOPICS, partyTopic } from '../../services/shared/contracts';
import { createSchemaRegistry, readSchema } from '../../services/shared/schemaRegistry';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, uniqueId } from '../support/fixtures';
import { drained, readTopic, useHarness, waitFor } from '../support/pipeline';

const harness = useHarness();

test('malformed records go to the DLQ untouched with a reason; good ones still arrive; duplicates are delivered once', async () => {
  const run = uniqueId('bad');
  const device = randomEui64();
  const mpan = randomMpan();
  const supplier = randomEui64();
  const now = Date.now();
  await harness.sendOwnership([
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - 86_400_000 }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: now - 86_400_000 }),
  ]);
  await drained(harness);

  const { codec, ids } = harness;
  const good = (overrides = {}) => auditEvent({ deviceId: device, originatorId: supplier, ...overrides });
  const encode = (value: object) => codec.encodeSync(ids.auditEvent, value);
  // A writer schema without deviceId: same record name, so only the field check can catch it.
  const noDeviceSchema = JSON.parse(readSchema('AuditEvent'));
  noDeviceSchema.fields = noDeviceSchema.fields.filter((f: { name: string }) => f.name !== 'deviceId');
  const { id: noDeviceId } = await createSchemaRegistry(harness.app.runtime.config).register(
    { type: SchemaType.AVRO, schema: JSON.stringify(noDeviceSchema) },
    { subject: 'test-audit-event-without-device-value' },
  );
  await codec.prefetch([Buffer.from([0, ...int32(noDeviceId)])]);
  const { deviceId: _omit, ...withoutDevice } = good();

  const cases: Array<{ reason: string; topic: string; value: Buffer }> = [
    { reason: 'UNDECODABLE', topic: TOPICS.auditEvents, value: Buffer.from('this is not avro at all') },
    { reason: 'UNDECODABLE', topic: TOPICS.auditEvents, value: Buffer.from([0, ...int32(ids.auditEvent), 0xff, 0xff]) },
    { reason: 'SCHEMA_UNKNOWN', topic: TOPICS.auditEvents, value: Buffer.from([0, ...int32(987_654_321), 1, 2, 3]) },
    { reason: 'MISSING_FIELD', topic: TOPICS.auditEvents, value: codec.encodeSync(noDeviceId, withoutDevice) },
    { reason: 'INVALID_DEVICE_ID', topic: TOPICS.auditEvents, value: encode(good({ deviceId: '00-DB-12-34-56-78-90' })) },
    { reason: 'INVALID_REQUEST_ID', topic: TOPICS.auditEvents, value: encode(good({ requestId: 'REQ-12345' })) },
    { reason: 'FUTURE_EVENT_TIME', topic: TOPICS.auditEvents, value: encode(good({ eventTime: now + 365 * 86_400_000 })) },
    // A valid Avro long beyond the Date range: it used to throw a RangeError and stop the projector.
    { reason: 'INVALID_EVENT_TIME', topic: TOPICS.auditEvents, value: encode(good({ eventTime: 9e15 })) },
    { reason: 'INVALID_FIELD', topic: TOPICS.auditEvents, value: encode(good({ responseCode: 'not a code' })) },
    { reason: 'OVERSIZED', topic: TOPICS.auditEvents, value: encode(good({ payload: Buffer.alloc(10 * 1024 * 1024, 'A') })) },
    {
      reason: 'ROLE_MISMATCH',
      topic: TOPICS.ownershipEvents,
      value: codec.encodeSync(ids.ownershipEvent, ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'ED', effectiveFrom: now })),
    },
    { reason: 'UNDECODABLE', topic: TOPICS.ownershipEvents, value: Buffer.from('{"json":"is not avro"}') },
    {
      reason: 'INVALID_MPXN',
      topic: TOPICS.ownershipEvents,
      value: codec.encodeSync(ids.ownershipEvent, ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: 'MPAN-1', partyId: supplier, role: 'IS', effectiveFrom: now })),
    },
    { reason: 'SCHEMA_MISMATCH', topic: TOPICS.visibilityRecords, value: encode(good()) },
    { reason: 'UNDECODABLE', topic: TOPICS.visibilityRecords, value: Buffer.from('garbage on the internal topic') },
  ];
  // A tombstone (null value) on the compacted ownership topic is compaction's delete marker, not bad input.
  await harness.sendRaw(TOPICS.ownershipEvents, [{ key: randomMpan(), value: null, headers: { 'test.case': `${run}-tombstone` } }]);
  for (const [i, c] of cases.entries()) {
    await harness.sendRaw(c.topic, [{ key: `${run}-${i}`, value: c.value, headers: { 'test.case': `${run}-${i}` } }]);
  }
  // Good records after the bad ones, one of them twice (a duplicate eventId).
  const first = good();
  const second = good({ serviceReferenceVariant: '4.8.1', serviceReference: '4.8' });
  await harness.sendAudit([first, second, first]);

  // visibility.records is read by two stages (fan-out, alert triage's trigger index): each refuses
  // a bad record, and says so in dlq.stage.
  const readers = (topic: string) => (topic === TOPICS.visibilityRecords ? ['fan-out', 'alert-triggers'] : [stageOf[topic]]);
  const stageOf: Record<string, string> = { [TOPICS.auditEvents]: 'projector', [TOPICS.ownershipEvents]: 'ownership-projector' };
  const expectedLetters = cases.reduce((n, c) => n + readers(c.topic).length, 0);
  const dlq = await readTopic<Buffer>(harness.kafka, harness.codec, TOPICS.dlq, {
    raw: true,
    filter: (m) => (m.headers['test.case'] ?? '').startsWith(run),
    done: (m) => m.length >= expectedLetters,
  });
  expect(dlq).toHaveLength(expectedLetters);
  for (const [i, c] of cases.entries()) {
    expect(dlq.filter((m) => m.headers['test.case'] === `${run}-${i}`).map((m) => m.headers['dlq.stage']).sort()).toEqual(readers(c.topic).sort());
    const letter = dlq.find((m) => m.headers['test.case'] === `${run}-${i}`)!;
    expect(letter).toBeDefined();
    expect(letter.headers['dlq.reason']).toBe(c.reason);
    expect(letter.headers['dlq.error']).toMatch(/\w/);
    expect(letter.headers['dlq.source.topic']).toBe(c.topic);
    expect(letter.headers['dlq.source.partition']).toMatch(/^\d+$/);
    expect(letter.headers['dlq.source.offset']).toMatch(/^\d+$/);
    expect(letter.key).toBe(`${run}-${i}`);
    expect(Buffer.compare(letter.raw!, c.value)).toBe(0);
  }

  const delivered = await readTopic(harness.kafka, harness.codec, partyTopic(supplier), { done: (m) => m.length >= 2 });
  await drained(harness);
  const all = await readTopic(harness.kafka, harness.codec, partyTopic(supplier), { timeoutMs: 3000 });
  expect(delivered.length).toBeGreaterThanOrEqual(2);
  expect(all.map((m) => m.value.eventId).sort()).toEqual([first.eventId, second.eventId].sort());

  const metrics = await harness.app.runtime.metrics.registry.getSingleMetricAsString('visibility_dlq_total');
  for (const reason of ['UNDECODABLE', 'SCHEMA_UNKNOWN', 'MISSING_FIELD', 'INVALID_FIELD', 'INVALID_DEVICE_ID', 'INVALID_REQUEST_ID', 'FUTURE_EVENT_TIME', 'INVALID_EVENT_TIME', 'OVERSIZED']) {
    expect(metrics).toMatch(new RegExp(`visibility_dlq_total\\{service="projector",reason="${reason}"\\} [1-9]`));
  }
  for (const reason of ['ROLE_MISMATCH', 'UNDECODABLE', 'INVALID_MPXN']) {
    expect(metrics).toMatch(new RegExp(`visibility_dlq_total\\{service="ownership-projector",reason="${reason}"\\} [1-9]`));
  }
  expect(metrics).toMatch(/visibility_dlq_total\{service="fan-out",reason="SCHEMA_MISMATCH"\} [1-9]/);
  await waitFor(
    async () => /visibility_ownership_tombstones_total [1-9]/.test(await harness.app.runtime.metrics.registry.getSingleMetricAsString('visibility_ownership_tombstones_total')),
    { what: 'the tombstone to be counted' },
  );
  expect(dlq.map((m) => m.headers['test.case'])).not.toContain(`${run}-tombstone`);
  expect(await harness.app.runtime.metrics.registry.getSingleMetricAsString('visibility_duplicates_suppressed_total')).toMatch(/ [1-9]/);
});

function int32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return [...b];
}
