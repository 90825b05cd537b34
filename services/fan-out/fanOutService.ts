// Fan-out topology, read top to bottom:
//   visibility.records (partition p) -> decode -> drop repeats within the batch
//     -> resolve owners at eventTime (Redis, O(1) round trips per batch, exact cache)
//     -> owned:   one copy per owner, minus copies already delivered -> visibility.party.<partyId>
//                 and visibility.archive (the archiver stage writes it to ClickHouse)
//     -> unknown: waiting records of p
//   every PENDING_SCAN_MS, for each partition p this instance owns:
//     own:changes (registration data that arrived late; only as far as the archiver has archived
//       p's earlier copies) -> archived events of p's devices it touches -> owners that lack a
//       copy get one, flagged LATE_OWNERSHIP; recipients no longer named as owners at the event's
//       time get their copy again, flagged RETRACTED (once; the archive row is replaced by it)
//     waiting records of p -> owners known now: copies; waited OWNERSHIP_WAIT_MS: visibility.unowned
// Each batch and each timer step commits in the instance's Kafka transaction (shared with the other
// partitions' work in flight, shared/transactions.ts) with p's offsets; the state it changes (ledger, waiting records, late-ownership cursor) is
// applied after the commit from an intent the commit witnesses (fanOutState.ts).
import type { Admin } from '../shared/kafka';
import { committedOffsets } from '../shared/groups';
import type Redis from 'ioredis';
import type { ArchiveReader } from '../shared/archive';
import { FLAGS, TOPICS, type VisibilityRecord } from '../shared/contracts';
import { resolveOwners } from '../shared/ownership';
import { OwnershipReader, readChanges } from '../shared/ownershipStore';
import type { Runtime } from '../shared/runtime';
import { stageSettings, startStage, type RunningStage } from '../shared/stage';
import { ArchiveFrontier } from './archiveFrontier';
import { ARCHIVER } from '../archiver/archiverService';
import { Delivery, retractedPairs, type Expired, type Routed } from './delivery';
import { FanOutState, deliveredPairs, emptyDelta, type PendingRecord, type StateDelta } from './fanOutState';
import { checkChangelogPartitions } from '../shared/deliveryState';
import { LateOwnershipFeed, type LateWork } from './lateOwnershipFeed';
import { planLateDeliveries, planRetractions } from './lateOwnership';
import { partitionOfKey } from './partitioning';
import { Punctuator } from '../shared/punctuator';

export const FAN_OUT = 'fan-out';
/** Bounds on one timer step, so no partition's lock (and its consumer's heartbeat) waits long. */
const PENDING_PER_STEP = 5_000;

export interface RunningFanOut extends RunningStage {
  state: FanOutState;
  /** Every record waiting for its owners, on any partition (tests, operators). */
  allPending(): Promise<PendingRecord[]>;
  /** Runs the timer work (late registration data, waiting records) on every owned partition now. */
  punctuate(): Promise<void>;
}

/** `archive`: where late registration data looks up what was delivered (in this process, a server, or the archiver over HTTP). */
export async function startFanOut(runtime: Runtime, archive: ArchiveReader): Promise<RunningFanOut> {
  const { config, codec, schemaIds, metrics, logger } = runtime;
  const log = logger.child({ stage: FAN_OUT });
  const redis: Redis = await runtime.redis(FAN_OUT);
  const reader = new OwnershipReader(redis, { requireInitialised: true });
  const state = new FanOutState(redis, config.dedupTtlSeconds, config.groupPrefix, { kafka: runtime.kafka, topic: TOPICS.fanOutWaiting, maxSendBytes: config.maxSendBytes });
  const admin: Admin = runtime.kafka.admin();
  await admin.connect();
  const [{ partitions: recordPartitions }] = await admin.fetchTopicMetadata({ topics: [TOPICS.visibilityRecords] });
  await checkChangelogPartitions(admin, TOPICS.fanOutWaiting, TOPICS.visibilityRecords);
  const delivery = new Delivery(config, codec, schemaIds, admin, state, metrics, log);
  const frontier = new ArchiveFrontier({
    latestChange: async () => (await readChanges(redis, '')).cursor,
    highWatermarks: async () => new Map((await admin.fetchTopicOffsets(TOPICS.archive)).map((p) => [p.partition, BigInt(p.high)])),
    archiverCommitted: () => committedOffsets(runtime.kafka, `${config.groupPrefix}-${ARCHIVER}`, TOPICS.archive),
  });
  const lateFeed = new LateOwnershipFeed(redis, state, archive, frontier, recordPartitions.length, metrics, log);
  const migrated = await state.migrateLegacyPending((deviceId) => partitionOfKey(deviceId, recordPartitions.length));
  if (migrated > 0) log.info({ records: migrated }, 'waiting records moved from the single-instance layout to their partitions');

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

  /** Splits records into those whose owners at eventTime are known and those still unknown. */
  async function route(records: VisibilityRecord[], purpose: 'batch' | 'pending') {
    const { devices, mpxns } = await loadOwnership(records.map((r) => r.deviceId), purpose);
    const owned: Routed[] = [];
    const unknown: Array<{ record: VisibilityRecord; reason: string }> = [];
    for (const record of records) {
      const resolution = resolveOwners(devices.get(record.deviceId), mpxns, record.eventTime);
      if (resolution.status === 'owned') owned.push({ record, owners: resolution.owners });
      else unknown.push({ record, reason: resolution.reason });
    }
    return { owned, unknown };
  }



  const copiesCount = (copies: VisibilityRecord[]) => metrics.produced.inc({ service: FAN_OUT, destination: 'party' }, copies.length);

  const stage = await startStage(runtime.stageEnvironment(), {
    ...stageSettings(config, FAN_OUT),
    topic: TOPICS.visibilityRecords,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    parse: (source) => codec.decodeSync<VisibilityRecord>(source.value, 'VisibilityRecord').value,
    handle: async (batch, sender, context) => {
      const unique = new Map<string, VisibilityRecord>();
      for (const { value } of batch) if (!unique.has(value.eventId)) unique.set(value.eventId, value);
      metrics.duplicates.inc(batch.length - unique.size);
      const { owned, unknown } = await route([...unique.values()], 'batch');
      const delivered = await delivery.deliver(sender, owned);
      const delta: StateDelta = emptyDelta();
      delta.delivered = deliveredPairs(delivered);
      const deadline = Date.now() + config.ownershipWaitMs;
      delta.pendingAdded = unknown.map(({ record }) => ({ record, deadline }));
      return state.changeOnCommit(context, sender, delta, () => {
        copiesCount(delivered);
        if (unknown.length > 0) metrics.pending.inc(unknown.length);
      });
    },
    unresolvedTransaction: (partition) => state.intentTransaction(partition),
    revoked: async (partition) => frontier.forget(partition),
    recover: async (partition, witness) => {
      const restored = await state.restore(partition, witness?.transactionId != null);
      if (restored > 0) log.warn({ partition, restored }, 'Redis had lost the records waiting for owners: restored from the changelog');
      const outcome = await state.recover(partition, witness?.transactionId ?? null);
      if (outcome !== 'none') log.info({ partition, outcome }, 'state of an interrupted transaction recovered');
    },
  });

  /** Late registration data for partition p's devices: owners without a copy get one; copies sent to non-owners are retracted. */
  async function reconcileLate(partition: number): Promise<void> {
    await stage.runOnPartition<LateWork>(
      partition,
      () => lateFeed.next(partition),
      async (work, sender, context) => {
        let sent: VisibilityRecord[] = [];
        let retracted: VisibilityRecord[] = [];
        if (work.archived.length > 0) {
          const { devices, mpxns } = await loadOwnership(work.deviceIds, 'late');
          const ownersOf = (record: VisibilityRecord) => resolveOwners(devices.get(record.deviceId), mpxns, record.eventTime);
          sent = await delivery.deliver(sender, planLateDeliveries(work.archived, ownersOf), [FLAGS.LATE_OWNERSHIP]);
          retracted = await delivery.retract(sender, planRetractions(work.archived, ownersOf));
        }
        const delta: StateDelta = emptyDelta();
        delta.delivered = [...deliveredPairs(sent), ...retractedPairs(retracted)];
        delta.lateCursor = work.cursor;
        return state.changeOnCommit(context, sender, delta, () => {
          copiesCount(sent);
          if (sent.length > 0) {
            metrics.lateDeliveries.inc(sent.length);
            log.info({ partition, copies: sent.length, devices: work.deviceIds.length }, 'late registration data: delivered to owners that lacked a copy');
          }
          if (retracted.length > 0) {
            metrics.retractions.inc(retracted.length);
            log.info({ partition, copies: retracted.length, devices: work.deviceIds.length }, 'late registration data: copies sent to parties that were not owners retracted');
          }
        });
      },
    );
  }

  /** Partition p's waiting records: delivered once owners are known, to visibility.unowned once expired. */
  async function scanPending(partition: number): Promise<void> {
    await stage.runOnPartition<{ owned: Routed[]; expired: Expired[] }>(
      partition,
      async () => {
        const waiting: PendingRecord[] = await state.pending(partition, PENDING_PER_STEP);
        if (waiting.length === 0) return undefined;
        const now = Date.now();
        const deadlines = new Map(waiting.map((w) => [w.record.eventId, w.deadline]));
        const { owned, unknown } = await route(waiting.map((w) => w.record), 'pending');
        const expired = unknown.filter(({ record }) => deadlines.get(record.eventId)! <= now);
        return owned.length + expired.length > 0 ? { owned, expired } : undefined;
      },
      async ({ owned, expired }, sender, context) => {
        const delivered = await delivery.deliver(sender, owned);
        await delivery.giveUp(sender, expired);
        const delta: StateDelta = emptyDelta();
        delta.delivered = deliveredPairs(delivered);
        delta.pendingRemoved = [...owned.map((o) => o.record.eventId), ...expired.map((e) => e.record.eventId)];
        return state.changeOnCommit(context, sender, delta, () => {
          copiesCount(delivered);
          metrics.pending.dec(delta.pendingRemoved.length);
          for (const { reason } of expired) metrics.unowned.inc({ reason });
          metrics.produced.inc({ service: FAN_OUT, destination: 'unowned' }, expired.length);
          if (expired.length > 0) log.info({ partition, count: expired.length }, 'records without owners sent to visibility.unowned');
        });
      },
    );
  }

  // Two independent steps: a failure in one does not keep the other from running.
  const punctuator = new Punctuator(
    config.pendingScanMs,
    () => stage.assigned(),
    async (partition) => {
      await reconcileLate(partition).catch((error: Error) => log.error({ partition, err: { message: error.message } }, 'late-ownership step failed; retried next tick'));
      await scanPending(partition);
    },
    log,
  );
  punctuator.start();
  metrics.pending.set(await state.pendingCount(recordPartitions.map((p) => p.partitionId)));

  return {
    ...stage,
    state,
    allPending: () => state.allPending(recordPartitions.map((p) => p.partitionId)),
    punctuate: () => punctuator.runOnce(),
    stop: async () => {
      await punctuator.stop();
      await stage.stop();
      await admin.disconnect();
    },
  };
}
