// A backlog of 100,000 audit events waiting before the services start: fetches of many MB per
// partition must become produce requests the broker accepts (max.message.bytes), and every copy
// must arrive exactly once.
import { TOPICS, partyTopic, type AuditEvent, type OwnershipEvent } from '../../services/shared/contracts';
import { createKafka, createProducer } from '../../services/shared/kafka';
import { createLogger } from '../../services/shared/logger';
import { registerSchemas } from '../../services/shared/runtime';
import { AvroCodec, createSchemaRegistry } from '../../services/shared/schemaRegistry';
import { auditEvent, ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';
import { drained, readTopic, startHarness, testConfig } from '../support/pipeline';

const BACKLOG = Number(process.env.BACKLOG_EVENTS ?? 100_000);
const DEVICES = 40;
const DAY = 86_400_000;

test(`a backlog of ${BACKLOG.toLocaleString('en-GB')} audit events before the services start is delivered exactly once`, async () => {
  const config = testConfig();
  const kafka = createKafka(config, createLogger('error', 'backlog-writer'), 'srv-visibility-test-backlog');
  const producer = createProducer(kafka);
  await producer.connect();
  const codec = new AvroCodec(createSchemaRegistry(config));
  const ids = await registerSchemas(codec);

  const supplier = randomEui64();
  const devices = Array.from({ length: DEVICES }, () => randomEui64());
  const ownership: OwnershipEvent[] = devices.flatMap((deviceId) => {
    const mpxn = randomMpan();
    return [
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn, deviceId, deviceType: 'ESME', effectiveFrom: Date.now() - 30 * DAY }),
      ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn, partyId: supplier, role: 'IS', effectiveFrom: Date.now() - 30 * DAY }),
    ];
  });
  await producer.send({ topic: TOPICS.ownershipEvents, messages: ownership.map((e) => ({ key: e.mpxn, value: codec.encodeSync(ids.ownershipEvent, e) })) });
  const eventIds = new Set<string>();
  for (let sent = 0; sent < BACKLOG; ) {
    const chunk: AuditEvent[] = [];
    for (; chunk.length < 5_000 && sent < BACKLOG; sent++) chunk.push(auditEvent({ deviceId: devices[sent % DEVICES], originatorId: supplier }));
    for (const e of chunk) eventIds.add(e.eventId);
    await producer.send({ topic: TOPICS.auditEvents, messages: chunk.map((e) => ({ key: e.requestId, value: codec.encodeSync(ids.auditEvent, e) })) });
  }
  await producer.disconnect();

  const harness = await startHarness({ env: { LOG_LEVEL: 'info' } });
  try {
    const wanted = new Set(devices);
    await readTopic(harness.kafka, harness.codec, partyTopic(supplier), { filter: (m) => wanted.has(m.value.deviceId), done: (m) => m.length >= BACKLOG, timeoutMs: 240_000 });
    await drained(harness, 120_000);
    const copies = await readTopic(harness.kafka, harness.codec, partyTopic(supplier), { toEnd: true, filter: (m) => wanted.has(m.value.deviceId) });
    const seen = new Map<string, number>();
    for (const m of copies) seen.set(m.value.eventId, (seen.get(m.value.eventId) ?? 0) + 1);
    expect(seen.size).toBe(BACKLOG);
    expect([...seen.keys()].every((id) => eventIds.has(id))).toBe(true);
    expect([...seen.values()].filter((n) => n !== 1)).toHaveLength(0);
    expect(harness.fatal).toEqual([]);
    expect(harness.logs.text).not.toContain('MESSAGE_TOO_LARGE');
    expect(harness.logs.text).not.toMatch(/larger than the max message size/i);
  } finally {
    await harness.stop();
  }
}, 420_000);
