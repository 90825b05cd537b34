// Fan-out topology, read top to bottom:
//   visibility.records -> decode -> drop repeats within the batch
//     -> resolve owners at eventTime (Redis, O(1) round trips per batch, exact cache)
//     -> owned:   one copy per owner -> drop copies already delivered -> visibility.party.<partyId> -> archive -> ledger
//     -> unknown: pending store (durable); re-resolved every PENDING_SCAN_MS;
//                 past OWNERSHIP_WAIT_MS -> visibility.unowned (header unowned.reason) -> archive
//   own:changes (registration data that arrived late) -> archived events of the devices it
//     touches -> owners that lack a copy get one, flagged LATE_OWNERSHIP
// Party-topic writes and the consumed offsets commit in one Kafka transaction per batch; the
// ledger of delivered (eventId, party) pairs is written after the commit.
import os from 'node:os';
import type { Admin } from 'kafkajs';
import { createProducer, inTransaction } from '../shared/kafka';
import type Redis from 'ioredis';
import { Archive } from '../shared/archive';
import { FLAGS, TOPICS, partyTopic, type VisibilityRecord } from '../shared/contracts';
import { resolveOwners, type Owner } from '../shared/ownership';
import { OwnershipReader, devicesAffected, readChanges } from '../shared/ownershipStore';
import type { Runtime } from '../shared/runtime';
import { startStage, type RunningStage, type Sender } from '../shared/stage';
import { ensureTopics, partyTopicConfig } from '../shared/topics';
import { DeliveryLedger, PendingStore } from './fanOutStores';
import { copiesFor, unownedCopy } from './routing';
import { planLateDeliveries } from './lateOwnership';

export const FAN_OUT = 'fan-out';
const PENDING_SCAN_LIMIT = 5_000;
const LATE_OWNERSHIP_CURSOR = 'fanout:late-ownership:cursor';

export interface RunningFanOut extends RunningStage {
  archive: Archive;
  pending: PendingStore;
  /** Re-resolves waiting records now (also runs on a timer). */
  scanPending(): Promise<void>;
  /** Handles registration data that arrived after the events it governs (also runs on a timer). */
  reconcileLateOwnership(): Promise<void>;
}

export async function startFanOut(runtime: Runtime, archive?: Archive): Promise<RunningFanOut> {
  const { config, codec, producer, schemaIds, metrics, logger } = runtime;
  const log = logger.child({ stage: FAN_OUT });
  const redis: Redis = await runtime.redis(FAN_OUT);
  const reader = new OwnershipReader(redis);
  const ledger = new DeliveryLedger(redis, config.dedupTtlSeconds);
  const pending = new PendingStore(redis);
  const archiveStore = archive ?? (await Archive.open(config));
  const admin: Admin = runtime.kafka.admin();
  await admin.connect();
  const transactional = createProducer(runtime.kafka, config.fanOutTransactionalId ?? `${config.groupPrefix}-${FAN_OUT}-${os.hostname()}`);
  if (config.fanOutTransactions) await transactional.connect();

  /** Once copies are committed: remember them in the ledger and count them. */
  async function committed(copies: VisibilityRecord[]): Promise<void> {
    await ledger.markDelivered(copies);
    metrics.produced.inc({ service: FAN_OUT, destination: 'party' }, copies.length);
  }

  /** Runs `work` in one transaction (when enabled), then records what it delivered. */
  async function deliverCommitted(work: (sender: Sender) => Promise<VisibilityRecord[]>): Promise<VisibilityRecord[]> {
    const delivered = config.fanOutTransactions ? await inTransaction(transactional, work) : await work(producer);
    await committed(delivered);
    return delivered;
  }
  const knownPartyTopics = new Set<string>();

  // Batches and pending scans both deliver; running them one at a time keeps the ledger exact.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  async function ensurePartyTopics(partyIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(partyIds)].map(partyTopic).filter((t) => !knownPartyTopics.has(t));
    if (missing.length === 0) return;
    await ensureTopics(admin, missing.map((t) => partyTopicConfig(t, config.topicReplicationFactor)), log);
    for (const t of missing) knownPartyTopics.add(t);
  }

  /**
   * Writes each record's copies for its owners, skipping (eventId, party) pairs already delivered,
   * and archives them. Returns the copies written; the caller records them once they commit.
   */
  async function deliver(sender: Sender, items: Array<{ record: VisibilityRecord; owners: Owner[] }>, extraFlags: string[] = []): Promise<VisibilityRecord[]> {
    if (items.length === 0) return [];
    const delivered = await ledger.deliveredTo(items.map((i) => i.record.eventId));
    const fresh: VisibilityRecord[] = [];
    const inBatch = new Set<string>();
    for (const { record, owners } of items) {
      for (const copy of copiesFor(record, owners, config.originatorDisclosure, extraFlags)) {
        const id = `${copy.eventId}\u0000${copy.recipientPartyId}`;
        if (delivered.get(copy.eventId)?.has(copy.recipientPartyId!) || inBatch.has(id)) {
          metrics.duplicates.inc();
          continue;
        }
        inBatch.add(id);
        fresh.push(copy);
      }
    }
    if (fresh.length === 0) return [];
    const t0 = performance.now();
    await ensurePartyTopics(fresh.map((c) => c.recipientPartyId!));
    const byTopic = new Map<string, VisibilityRecord[]>();
    for (const copy of fresh) {
      const topic = partyTopic(copy.recipientPartyId!);
      const list = byTopic.get(topic) ?? [];
      list.push(copy);
      byTopic.set(topic, list);
    }
    await sender.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, copies]) => ({
        topic,
        messages: copies.map((copy) => ({
          key: copy.deviceId,
          value: codec.encodeSync(schemaIds.party, copy),
          timestamp: String(copy.eventTime),
        })),
      })),
    });
    const t1 = performance.now();
    await archiveStore.insert(fresh.map((record) => ({ record, delivery: 'party' as const })));
    log.debug({ copies: fresh.length, produceMs: Math.round(t1 - t0), archiveMs: Math.round(performance.now() - t1) }, 'delivered');
    return fresh;
  }

  /** Ownership for these devices, with cache and round-trip figures attributed to `purpose`. */
  async function loadOwnership(deviceIds: string[], purpose: 'batch' | 'pending' | 'late') {
    const before = { ...reader.stats };
    const histories = await reader.load(deviceIds);
    const after = reader.stats;
    metrics.cache.inc({ outcome: 'hit' }, after.hits - before.hits);
    metrics.cache.inc({ outcome: 'miss' }, after.misses - before.misses);
    metrics.cache.inc({ outcome: 'invalidated' }, after.invalidated - before.invalidated);
    metrics.redisRoundTrips.inc({ purpose }, after.roundTrips - before.roundTrips);
    return histories;
  }

  async function route(sender: Sender, records: VisibilityRecord[]): Promise<{ delivered: VisibilityRecord[]; unknown: VisibilityRecord[] }> {
    const { devices, mpxns } = await loadOwnership(records.map((r) => r.deviceId), 'batch');
    const owned: Array<{ record: VisibilityRecord; owners: Owner[] }> = [];
    const unknown: VisibilityRecord[] = [];
    for (const record of records) {
      const resolution = resolveOwners(devices.get(record.deviceId), mpxns, record.eventTime);
      if (resolution.status === 'owned') owned.push({ record, owners: resolution.owners });
      else unknown.push(record);
    }
    return { delivered: await deliver(sender, owned), unknown };
  }

  async function scanPending(): Promise<void> {
    const waiting = await pending.list(PENDING_SCAN_LIMIT);
    metrics.pending.set(waiting.length);
    if (waiting.length === 0) return;
    const now = Date.now();
    const { devices, mpxns } = await loadOwnership(waiting.map((w) => w.record.deviceId), 'pending');
    const owned: Array<{ record: VisibilityRecord; owners: Owner[] }> = [];
    const expired: Array<{ record: VisibilityRecord; reason: string }> = [];
    for (const { record, deadline } of waiting) {
      const resolution = resolveOwners(devices.get(record.deviceId), mpxns, record.eventTime);
      if (resolution.status === 'owned') owned.push({ record, owners: resolution.owners });
      else if (deadline <= now) expired.push({ record, reason: resolution.reason });
    }
    if (owned.length === 0 && expired.length === 0) return;
    await deliverCommitted(async (sender) => {
      const delivered = await deliver(sender, owned);
      if (expired.length > 0) await giveUp(sender, expired);
      return delivered;
    });
    await pending.remove([...owned.map((o) => o.record.eventId), ...expired.map((e) => e.record.eventId)]);
    metrics.pending.set(waiting.length - owned.length - expired.length);
  }

  /** Records that waited OWNERSHIP_WAIT_MS without owners: to visibility.unowned and the archive. */
  async function giveUp(sender: Sender, expired: Array<{ record: VisibilityRecord; reason: string }>): Promise<void> {
    const copies = expired.map(({ record, reason }) => ({ record: unownedCopy(record), reason }));
    await sender.send({
      topic: TOPICS.unowned,
      acks: -1,
      messages: copies.map(({ record, reason }) => ({
        key: record.deviceId,
        value: codec.encodeSync(schemaIds.unowned, record),
        headers: { 'unowned.reason': reason, 'unowned.waited.ms': String(config.ownershipWaitMs) },
        timestamp: String(record.eventTime),
      })),
    });
    await archiveStore.insert(copies.map(({ record }) => ({ record, delivery: 'unowned' as const })));
    for (const { reason } of expired) metrics.unowned.inc({ reason });
    metrics.produced.inc({ service: FAN_OUT, destination: 'unowned' }, expired.length);
    log.info({ count: expired.length }, 'records without owners sent to visibility.unowned');
  }

  /**
   * Registration data that arrives after the events it governs (a late or retrospective CoS, a
   * late association): archived events of the devices it touches are resolved again, and owners
   * without a copy get one. Copies already delivered stand; Kafka cannot take them back.
   */
  async function reconcileLateOwnership(): Promise<void> {
    const stored = (await redis.get(LATE_OWNERSHIP_CURSOR)) ?? '';
    const { changes, cursor } = await readChanges(redis, stored);
    const started = performance.now();
    if (changes.length > 0) {
      const affected = await devicesAffected(redis, changes);
      const deviceIds = [...affected.keys()];
      const earliest = Math.min(...affected.values());
      const archived = (await archiveStore.findForDevices(deviceIds, earliest)).filter((r) => r.eventTime >= affected.get(r.deviceId)!);
      if (archived.length > 0) {
        const { devices, mpxns } = await loadOwnership(deviceIds, 'late');
        const plan = planLateDeliveries(archived, (record) => resolveOwners(devices.get(record.deviceId), mpxns, record.eventTime));
        const sent = (await deliverCommitted((sender) => deliver(sender, plan, [FLAGS.LATE_OWNERSHIP]))).length;
        if (sent > 0) {
          metrics.lateDeliveries.inc(sent);
          log.info({ copies: sent, devices: deviceIds.length }, 'late registration data: delivered to owners that lacked a copy');
        }
      }
    }
    if (cursor !== stored) await redis.set(LATE_OWNERSHIP_CURSOR, cursor);
    if (changes.length > 0) log.debug({ changes: changes.length, ms: Math.round(performance.now() - started) }, 'late-ownership check');
  }

  const stage = await startStage(
    runtime.kafka,
    producer,
    {
      name: FAN_OUT,
      groupId: `${config.groupPrefix}-${FAN_OUT}`,
      fromBeginning: config.consumeFrom === 'earliest',
      topic: TOPICS.visibilityRecords,
      prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
      parse: (source) => codec.decodeSync<VisibilityRecord>(source.value, 'VisibilityRecord').value,
      transactionalProducer: config.fanOutTransactions ? transactional : undefined,
      exclusive: serial,
      handle: async (batch, sender) => {
        const unique = new Map<string, VisibilityRecord>();
        for (const { value } of batch) if (!unique.has(value.eventId)) unique.set(value.eventId, value);
        metrics.duplicates.inc(batch.length - unique.size);
        const { delivered, unknown } = await route(sender, [...unique.values()]);
        // Waiting records are stored before the commit: a replay finds them there (NX keeps the deadline).
        await pending.add(unknown, Date.now() + config.ownershipWaitMs);
        if (unknown.length > 0) metrics.pending.inc(unknown.length);
        return () => committed(delivered);
      },
    },
    logger,
    metrics,
  );

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    timer = setTimeout(() => {
      serial(async () => {
        await reconcileLateOwnership();
        await scanPending();
      })
        .catch((error: Error) => log.error({ err: { message: error.message } }, 'pending scan failed; will retry'))
        .finally(() => {
          if (!stopped) tick();
        });
    }, config.pendingScanMs);
  };
  tick();

  return {
    ...stage,
    archive: archiveStore,
    pending,
    scanPending: () => serial(scanPending),
    reconcileLateOwnership: () => serial(reconcileLateOwnership),
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await stage.stop();
      await queue;
      if (config.fanOutTransactions) await transactional.disconnect();
      await admin.disconnect();
      if (!archive) await archiveStore.close();
    },
  };
}
