// Nothing is lost across restarts: ownership comes back from Kafka when Redis loses it, and
// records waiting for registration data survive a restart of the fan-out.
import { TOPICS, partyTopic, type OwnershipEvent } from '../../services/shared/contracts';
import { clearOwnership, isInitialised } from '../../services/shared/ownershipStore';
import { auditEvent, ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';
import { deleteMatching, drained, partyContents, readTopic, startHarness, waitFor } from '../support/pipeline';

const DAY = 86_400_000;

test('the ownership projector rebuilds an empty store from sat.ownership.events by itself', async () => {
  const now = Date.now();
  const [device, mpan, supplier] = [randomEui64(), randomMpan(), randomEui64()];
  const first = await startHarness({ services: ['ownership-projector'] });
  const redis = (first.app.stages['ownership-projector'] as unknown as { redis: import('ioredis').default }).redis;
  try {
    await first.sendOwnership([
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - DAY }),
      ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: now - DAY }),
    ]);
    await waitFor(async () => (await redis.hlen(`own:mpxn:${mpan}`)) === 1, { what: 'the registration in Redis' });
  } finally {
    await first.stop();
  }

  // Redis loses its data.
  const probe = await startHarness({ services: [] });
  const probeRedis = await probe.app.runtime.redis('probe');
  try {
    expect(await clearOwnership(probeRedis)).toBeGreaterThan(0);
    expect(await isInitialised(probeRedis)).toBe(false);
    expect(await probeRedis.exists(`own:mpxn:${mpan}`)).toBe(0);
  } finally {
    await probe.stop();
  }

  // On start, the projector sees an empty store and replays the topic before it does anything else.
  const second = await startHarness({ services: ['ownership-projector'] });
  try {
    const restored = (second.app.stages['ownership-projector'] as unknown as { redis: import('ioredis').default }).redis;
    expect(await restored.hgetall(`own:mpxn:${mpan}`)).toEqual({ [`IS|${now - DAY}`]: supplier });
    expect(Object.values(await restored.hgetall(`own:dev:${device}`))).toEqual(['A|ESME']);
    expect(await isInitialised(restored)).toBe(true);
    expect(second.logs.text).toContain('rebuilt from sat.ownership.events');
    // The changelog holds each fact under its identity, whatever compaction does to the source topic
    // (a fact may appear twice before compaction: the first projector was stopped mid-batch).
    const changelog = await readTopic<OwnershipEvent>(second.kafka, second.codec, TOPICS.ownershipFacts, {
      toEnd: true,
      raw: false,
      decodeAs: 'OwnershipEvent',
      filter: (m) => m.value.mpxn === mpan,
    });
    expect([...new Set(changelog.map((m) => m.key))].sort()).toEqual([`device|${device}|${mpan}|${now - DAY}`, `registration|${mpan}|IS|${now - DAY}`]);
  } finally {
    await second.stop();
  }
}, 300_000); // a rebuild replays the whole topic, which grows on a long-lived local stack

test('records waiting for owners survive a restart of the fan-out and are delivered afterwards', async () => {
  const now = Date.now();
  const [device, mpan, supplier] = [randomEui64(), randomMpan(), randomEui64()];
  const waiting = [auditEvent({ deviceId: device, originatorId: supplier, eventTime: now - 1000 })];
  const first = await startHarness({ env: { OWNERSHIP_WAIT_MS: '120000' } });
  try {
    await first.sendAudit(waiting);
    await drained(first);
    expect((await first.app.fanOut!.allPending()).map((p) => p.record.eventId)).toContain(waiting[0].eventId);
  } finally {
    await first.stop();
  }
  const second = await startHarness({ env: { OWNERSHIP_WAIT_MS: '120000' } });
  try {
    await second.sendOwnership([
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - DAY }),
      ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: now - DAY }),
    ]);
    const contents = await partyContents(second, { [supplier]: [waiting[0].eventId] });
    expect(contents[supplier].map((m) => m.value.eventId)).toEqual([waiting[0].eventId]);
    expect((await second.app.fanOut!.allPending()).map((p) => p.record.eventId)).not.toContain(waiting[0].eventId);
    // And it was never given up on.
    const unowned = await readTopic(second.kafka, second.codec, TOPICS.unowned, { toEnd: true, filter: (m) => m.value.deviceId === device });
    expect(unowned).toHaveLength(0);
    expect(partyTopic(supplier)).toBe(`visibility.party.${supplier}`);
  } finally {
    await second.stop();
  }
});

test('records waiting for owners survive Redis losing the fan-out state: the fan-out stops, and its next start restores them from the changelog', async () => {
  const now = Date.now();
  const [device, mpan, supplier] = [randomEui64(), randomMpan(), randomEui64()];
  const waiting = [auditEvent({ deviceId: device, originatorId: supplier, eventTime: now - 1000 })];
  const env = { OWNERSHIP_WAIT_MS: '120000' };
  const first = await startHarness({ env });
  try {
    await first.sendAudit(waiting);
    await drained(first);
    expect((await first.app.fanOut!.allPending()).map((p) => p.record.eventId)).toContain(waiting[0].eventId);
    // Redis loses the fan-out's state (what a restart with no data does to these keys).
    const redis = await first.app.runtime.redis('probe');
    expect(await deleteMatching(redis, `fanout:{${first.app.runtime.config.groupPrefix}}:*`)).toBeGreaterThan(0);
    expect((await first.app.fanOut!.allPending()).map((p) => p.record.eventId)).not.toContain(waiting[0].eventId);
    // The next scan of waiting records finds the marker gone: the stage stops for good (the process would exit).
    await waitFor(async () => first.fatal.some((e) => e.name === 'StateLostError'), { what: 'the fan-out to stop on lost state' });
  } finally {
    await first.stop();
  }
  const second = await startHarness({ env });
  try {
    // Restored on assignment, before any work: the record waits again, with nothing given up on.
    await waitFor(async () => (await second.app.fanOut!.allPending()).some((p) => p.record.eventId === waiting[0].eventId), { what: 'the waiting record restored' });
    expect(second.logs.text).toContain('restored from the changelog');
    await second.sendOwnership([
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - DAY }),
      ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: now - DAY }),
    ]);
    const contents = await partyContents(second, { [supplier]: [waiting[0].eventId] });
    expect(contents[supplier].map((m) => m.value.eventId)).toEqual([waiting[0].eventId]);
    await waitFor(async () => !(await second.app.fanOut!.allPending()).some((p) => p.record.eventId === waiting[0].eventId), { what: 'the record no longer waiting' });
    const unowned = await readTopic(second.kafka, second.codec, TOPICS.unowned, { toEnd: true, filter: (m) => m.value.deviceId === device });
    expect(unowned).toHaveLength(0);
  } finally {
    await second.stop();
  }
});

test('health and metrics endpoints answer for every part', async () => {
  const harness = await startHarness();
  try {
    const base = `http://127.0.0.1:${harness.app.httpPort}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      ok: true,
      checks: { 'redis:ownership': true, archive: true, kafka: true, 'stage:projector': true, 'stage:ownership-projector': true, 'stage:archiver': true, 'stage:fan-out': true, 'stage:alert-triage': true, 'lookup:redis': true },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of ['visibility_messages_consumed_total', 'visibility_dlq_total', 'visibility_pending_records', 'visibility_batch_seconds', 'process_resident_memory_bytes']) {
      expect(metrics).toContain(name);
    }
    const bad = await fetch(`${base}/archive?deviceId=nope`);
    expect(bad.status).toBe(400);
    const lookup = await fetch(`${base}/archive?deviceId=${randomEui64().toLowerCase()}&from=2026-01-01`);
    expect(lookup.status).toBe(200);
    expect(await lookup.json()).toEqual({ count: 0, records: [] });
  } finally {
    await harness.stop();
  }
});
