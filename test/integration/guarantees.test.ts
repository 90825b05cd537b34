// Delivery guarantees on the real stack, with failures injected on the write path: every copy
// exactly once, whatever fails and wherever.
import { createProducer } from '../../services/shared/kafka';
import { TOPICS, partyTopic, type AuditEvent, type OwnershipEvent } from '../../services/shared/contracts';
import { auditEvent, ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';
import { drained, groupLag, readTopic, startHarness, waitFor, type Harness } from '../support/pipeline';

const DAY = 24 * 3600_000;

/** n devices, each on its own MPAN with `supplier` as IS from 30 days ago. */
function estate(n: number, supplier: string): { devices: string[]; ownership: OwnershipEvent[] } {
  const from = Date.now() - 30 * DAY;
  const devices: string[] = [];
  const ownership: OwnershipEvent[] = [];
  for (let i = 0; i < n; i++) {
    const [device, mpan] = [randomEui64(), randomMpan()];
    devices.push(device);
    ownership.push(ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: from }));
    ownership.push(ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: from }));
  }
  return { devices, ownership };
}

/** What the supplier's topic holds for these devices: eventId -> number of copies. */
async function copiesOn(harness: Harness, supplier: string, devices: string[], expected: number): Promise<Map<string, number>> {
  const wanted = new Set(devices);
  const messages = await readTopic(harness.kafka, harness.codec, partyTopic(supplier), {
    filter: (m) => wanted.has(m.value.deviceId),
    done: (m) => m.length >= expected,
    timeoutMs: 60_000,
  });
  // Anything more that arrived by now counts too: wait for the pipeline to settle, then read to the end.
  await drained(harness);
  const all = await readTopic(harness.kafka, harness.codec, partyTopic(supplier), { toEnd: true, filter: (m) => wanted.has(m.value.deviceId) });
  expect(all.length).toBeGreaterThanOrEqual(messages.length);
  const counts = new Map<string, number>();
  for (const m of all) counts.set(m.value.eventId, (counts.get(m.value.eventId) ?? 0) + 1);
  return counts;
}

function expectExactlyOnce(counts: Map<string, number>, events: AuditEvent[]): void {
  expect([...counts.keys()].sort()).toEqual(events.map((e) => e.eventId).sort());
  expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
}

/** Starts a harness, registers n devices to a new supplier, waits until that is stored, runs `body`, stops. */
async function withOwnedEstate(n: number, body: (harness: Harness, supplier: string, devices: string[]) => Promise<void>): Promise<void> {
  const supplier = randomEui64();
  const { devices, ownership } = estate(n, supplier);
  const harness = await startHarness();
  try {
    await harness.sendOwnership(ownership);
    await drained(harness);
    await body(harness, supplier, devices);
  } finally {
    await harness.stop();
  }
}

const eventsFor = (devices: string[], supplier: string, perDevice: number, extra: Partial<AuditEvent> = {}) =>
  devices.flatMap((deviceId) => Array.from({ length: perDevice }, () => auditEvent({ deviceId, originatorId: supplier, ...extra })));

test('a crash between the commit and the state update: recovery applies the committed state, so a repeated event is not delivered again', async () => {
  await withOwnedEstate(6, async (harness, supplier, devices) => {
    // Every fan-out transaction's follow-up (the ledger) fails once, as if the process died there.
    harness.app.runtime.faults.arm('fan-out', 'after-commit', 1_000);
    const events = eventsFor(devices, supplier, 3);
    await harness.sendAudit(events);
    expectExactlyOnce(await copiesOn(harness, supplier, devices, events.length), events);
    expect(harness.app.runtime.faults.fired.length).toBeGreaterThan(0);
    harness.app.runtime.faults.disarm('fan-out', 'after-commit');
    // The same audit entries again (an upstream replay): the recovered ledger knows them.
    await harness.sendAudit(events);
    await drained(harness);
    await harness.app.fanOut!.punctuate();
    expectExactlyOnce(await copiesOn(harness, supplier, devices, events.length), events);
    expect(harness.logs.text).toContain('"outcome":"applied"');
  });
});

test('a transaction that fails before its commit leaves no copy and no state behind; the replay delivers once', async () => {
  await withOwnedEstate(6, async (harness, supplier, devices) => {
    harness.app.runtime.faults.arm('fan-out', 'before-commit', 3);
    harness.app.runtime.faults.arm('projector', 'before-commit', 2);
    harness.app.runtime.faults.arm('archiver', 'before-commit', 2);
    const events = eventsFor(devices, supplier, 2);
    await harness.sendAudit(events);
    expectExactlyOnce(await copiesOn(harness, supplier, devices, events.length), events);
    await drained(harness);
    expect(harness.app.runtime.faults.fired.length).toBe(7);
    // The archive holds each copy once: aborted fan-out transactions never reach the archiver
    // (read committed), and the archiver's own aborted attempts inserted rows its replay inserted again.
    const archived = await harness.app.archive!.find({ recipientPartyId: supplier, limit: 1000 });
    expect(archived.map((r) => r.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
  });
});

test('a producer fenced by another with its transactional id is replaced, and delivery goes on exactly once', async () => {
  await withOwnedEstate(12, async (harness, supplier, devices) => {
    const first = eventsFor(devices, supplier, 1);
    await harness.sendAudit(first);
    await copiesOn(harness, supplier, devices, first.length);
    // A zombie's successor: a producer with the fan-out instance's transactional id fences its producer.
    const rival = createProducer(harness.kafka, harness.app.stages['fan-out']!.transactionalId);
    await rival.connect();
    await (await rival.transaction()).abort(); // connecting registered the id: the broker fenced the older producer
    await rival.disconnect();
    const second = eventsFor(devices, supplier, 2);
    await harness.sendAudit(second);

    expectExactlyOnce(await copiesOn(harness, supplier, devices, first.length + second.length), [...first, ...second]);
    const metrics = await harness.app.runtime.metrics.registry.getSingleMetricAsString('visibility_transactions_total');
    expect(metrics).toMatch(/service="fan-out",outcome="producer_recreated"} [1-9]/);
  });
});

test('two fan-out instances share the partitions and deliver every copy exactly once', async () => {
  const supplier = randomEui64();
  const { devices, ownership } = estate(30, supplier);
  const one = await startHarness();
  // The second instance runs only the fan-out, in the same groups, sharing the embedded archive
  // (one engine per process).
  const two = await startHarness({ services: ['fan-out'], archive: one.app.archive! });
  try {
    await Promise.all([one.app.ready(), two.app.ready()]);
    await waitFor(async () => one.app.stages['fan-out']!.assigned().length > 0 && two.app.stages['fan-out']!.assigned().length > 0, {
      what: 'both fan-out instances to own partitions',
    });
    await one.sendOwnership(ownership);
    await drained(one);
    const events = eventsFor(devices, supplier, 3);
    await one.sendAudit(events);
    expectExactlyOnce(await copiesOn(one, supplier, devices, events.length), events);
    const batches = (h: Harness) => h.logs.lines.filter((l) => l.includes('"stage":"fan-out"') && l.includes('batch committed')).length;
    expect(batches(one)).toBeGreaterThan(0);
    expect(batches(two)).toBeGreaterThan(0);
  } finally {
    await two.stop();
    await one.stop();
  }
});

test('party delivery goes on while the archiver is down; afterwards the archive catches up, each copy once', async () => {
  const supplier = randomEui64();
  const { devices, ownership } = estate(6, supplier);
  // No archiver in this process: the fan-out would read the archive over HTTP (only late
  // registration data does, and there is none here).
  const pipeline = await startHarness({ services: ['ownership-projector', 'projector', 'fan-out'], env: { ARCHIVE_QUERY_URL: 'http://127.0.0.1:9' } });
  let archiver: Harness | undefined;
  try {
    await pipeline.sendOwnership(ownership);
    await drained(pipeline);
    const events = eventsFor(devices, supplier, 3);
    await pipeline.sendAudit(events);
    expectExactlyOnce(await copiesOn(pipeline, supplier, devices, events.length), events);
    const lag = await groupLag(pipeline.kafka, `${pipeline.app.runtime.config.groupPrefix}-archiver`, TOPICS.archive);
    expect(lag).toBeGreaterThanOrEqual(events.length);

    archiver = await startHarness({ services: ['archiver'] });
    const archive = archiver.app.archive!;
    const rows = await waitFor(async () => {
      const found = await archive.find({ recipientPartyId: supplier, limit: 1000 });
      return found.length >= events.length && found;
    }, { what: 'the archiver to catch up', timeoutMs: 60_000 });
    await drained(archiver);
    expect(rows.map((r) => r.eventId).sort()).toEqual(events.map((e) => e.eventId).sort());
    expect(await archive.find({ recipientPartyId: supplier, limit: 1000 })).toHaveLength(events.length);
  } finally {
    await archiver?.stop();
    await pipeline.stop();
  }
});

test('copies of old events carry the time of writing as their Kafka timestamp, so retention does not delete them on arrival', async () => {
  const supplier = randomEui64();
  const { devices, ownership } = estate(1, supplier);
  const harness = await startHarness();
  try {
    await harness.sendOwnership(ownership.map((o) => ({ ...o, effectiveFrom: Date.now() - 60 * DAY })));
    const events = [auditEvent({ deviceId: devices[0], originatorId: supplier, eventTime: Date.now() - 40 * DAY })];
    const before = Date.now();
    await harness.sendAudit(events);
    expectExactlyOnce(await copiesOn(harness, supplier, devices, 1), events);
    const [copy] = await readTopic(harness.kafka, harness.codec, partyTopic(supplier), { toEnd: true, filter: (m) => m.value.deviceId === devices[0] });
    expect(Number(copy.timestamp)).toBeGreaterThanOrEqual(before - 1000);
    expect(copy.value.eventTime).toBe(events[0].eventTime);
  } finally {
    await harness.stop();
  }
});

test('a stage whose consumer stops for good reports it: the process is told to exit and /health fails', async () => {
  const harness = await startHarness();
  try {
    harness.app.runtime.faults.arm('projector', 'handler-bug', 1, () => new TypeError('injected programming error'));
    const device = randomEui64();
    await harness.sendAudit([auditEvent({ deviceId: device, originatorId: randomEui64() })]);
    await waitFor(async () => harness.fatal.length > 0, { what: 'the fatal handler' });
    expect(harness.fatal[0].message).toContain('injected programming error');
    const health = await fetch(`http://127.0.0.1:${harness.app.httpPort}/health`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { checks: Record<string, boolean> }).checks["stage:projector"]).toBe(false);
  } finally {
    await harness.stop();
  }
});

test('a stage that cannot commit reports unhealthy while it has work, and healthy again once it catches up', async () => {
  const harness = await startHarness({ env: { STAGE_STALL_MS: '1500' } });
  try {
    const health = async () => ((await (await fetch(`http://127.0.0.1:${harness.app.httpPort}/health`)).json()) as { checks: Record<string, boolean> }).checks["stage:projector"];
    harness.app.runtime.faults.arm('projector', 'before-commit', 1_000_000);
    await harness.sendAudit([auditEvent({ deviceId: randomEui64(), originatorId: randomEui64() })]);
    await waitFor(async () => (await health()) === false, { what: 'the projector to report itself stalled', timeoutMs: 20_000 });
    harness.app.runtime.faults.disarm('projector', 'before-commit');
    await waitFor(async () => (await health()) === true, { what: 'the projector to recover', timeoutMs: 30_000 });
    expect(harness.fatal).toEqual([]);
  } finally {
    await harness.stop();
  }
});
