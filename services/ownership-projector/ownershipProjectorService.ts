// Ownership projector topology:
//   sat.ownership.events -> validate -> effective-dated facts in Redis (one MULTI per batch)
//                                    -> visibility.ownership.facts (changelog, compacted by fact identity)
// On an empty store it first replays both topics, so ownership survives Redis losing its data.
import type Redis from 'ioredis';
import type { Kafka } from '../shared/kafka';
import { readToEnd } from '../shared/topicReader';
import { TOPICS, type OwnershipEvent } from '../shared/contracts';
import type { OwnershipFact } from '../shared/ownership';
import { announceRebuild, isInitialised, writeFacts } from '../shared/ownershipStore';
import { watchStore } from '../shared/storeWatch';
import type { AvroCodec } from '../shared/schemaRegistry';
import type { Logger } from '../shared/logger';
import type { Runtime } from '../shared/runtime';
import { RejectedRecord } from '../shared/rejection';
import { sendBounded } from '../shared/boundedSend';
import { stageSettings, startStage, type Parsed, type RunningStage } from '../shared/stage';
import { factKey, factToEvent, validateOwnershipEvent } from './ownershipFacts';

export const OWNERSHIP_PROJECTOR = 'ownership-projector';

export interface RunningOwnershipProjector extends RunningStage {
  redis: Redis;
}

/**
 * A null value on sat.ownership.events (compacted by MPxN) is a tombstone: compaction's delete
 * marker, legitimate and carrying no fact. It is skipped and counted, never dead-lettered.
 */
interface Tombstone {
  tombstone: true;
}
interface FactEntry {
  tombstone?: false;
  eventId: string;
  fact: OwnershipFact;
}
type OwnershipEntry = Tombstone | FactEntry;

function isFactEntry(entry: Parsed<OwnershipEntry>): entry is Parsed<FactEntry> {
  return !entry.value.tombstone;
}

export async function startOwnershipProjector(runtime: Runtime): Promise<RunningOwnershipProjector> {
  const { config, codec, metrics, logger } = runtime;
  const redis = await runtime.redis(OWNERSHIP_PROJECTOR);
  if (!(await isInitialised(redis))) {
    const replayed = await replayOwnership(runtime.kafka, codec, redis, logger);
    logger.info({ facts: replayed }, 'ownership store was empty: rebuilt from sat.ownership.events and visibility.ownership.facts');
  }
  const stage = await startStage(runtime.stageEnvironment(), {
    ...stageSettings(config, OWNERSHIP_PROJECTOR),
    topic: TOPICS.ownershipEvents,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    parse: (source): OwnershipEntry => {
      if (source.value === null) return { tombstone: true };
      const event = codec.decodeSync<Partial<OwnershipEvent>>(source.value, 'OwnershipEvent').value;
      return { eventId: event.eventId!, fact: validateOwnershipEvent(event) };
    },
    handle: async (entries, sender) => {
      const batch = entries.filter(isFactEntry);
      for (const { source } of entries.filter((entry) => !isFactEntry(entry))) {
        metrics.ownershipTombstones.inc();
        logger.debug({ topic: source.topic, partition: source.partition, offset: source.offset, key: source.key?.toString() }, 'tombstone skipped');
      }
      if (batch.length === 0) return;
      // Never sets the marker: only a complete rebuild does, so a store that lost its data (Redis
      // restarted empty) stays unmarked, the deciding stages wait, and the watch below exits so
      // the next start rebuilds it. Facts written meanwhile are in Kafka (this transaction's
      // changelog records), so the rebuild has them too.
      await writeFacts(redis, batch.map((p) => p.value.fact), { markInitialised: false });
      const messages = batch.map(({ value: { eventId, fact } }) => ({
        key: factKey(fact),
        value: codec.encodeSync(runtime.schemaIds.ownershipFact, factToEvent(fact, eventId)),
      }));
      await sendBounded(sender, [{ topic: TOPICS.ownershipFacts, messages }], config.maxSendBytes);
      for (const { value } of batch) metrics.ownershipFacts.inc({ type: value.fact.kind });
    },
  });
  // Redis restarted empty while this runs: exit (the next start rebuilds the store), found within
  // seconds even when no registration arrives; meanwhile the deciding stages wait (the marker is gone).
  const watch = watchStore(() => isInitialised(redis), (error) => runtime.stageEnvironment().onFatal(error), 'the ownership store');
  return {
    ...stage,
    redis,
    stop: async () => {
      watch.stop();
      await stage.stop();
    },
  };
}

/**
 * Rebuilds the store: first sat.ownership.events (whatever compaction by MPxN has left of it),
 * then this project's changelog, which holds the newest version of every fact ever written.
 * Facts are idempotent, so replaying over a partly filled store is safe.
 */
export async function replayOwnership(
  kafka: Kafka,
  codec: AvroCodec,
  redis: Redis,
  logger: Logger,
  onProgress?: (topic: string, done: number, total: number) => void,
): Promise<number> {
  const startedAt = Date.now();
  let facts = 0;
  for (const topic of [TOPICS.ownershipEvents, TOPICS.ownershipFacts]) {
    facts += await replayTopic(kafka, codec, redis, logger, topic, (done, total) => onProgress?.(topic, done, total));
  }
  // Restored facts are not news: one 'everything changed' entry instead of one per fact, so
  // readers drop their caches and late-ownership work is not flooded.
  await announceRebuild(redis, startedAt);
  return facts;
}

/** Reads one topic from the beginning up to its current end and writes every valid fact. */
async function replayTopic(
  kafka: Kafka,
  codec: AvroCodec,
  redis: Redis,
  logger: Logger,
  topic: string,
  onProgress: (done: number, total: number) => void,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let total = 0;
  try {
    for (const end of await admin.fetchTopicOffsets(topic)) total += Number(BigInt(end.high) - BigInt(end.low));
  } finally {
    await admin.disconnect();
  }
  let written = 0;
  let seen = 0;
  await readToEnd(
    kafka,
    [topic],
    async ({ messages }) => {
      await codec.prefetch(messages.map((m) => m.value));
      const facts: OwnershipFact[] = [];
      for (const message of messages) {
        seen++;
        if (message.value === null) continue; // a tombstone: compaction's delete marker, no fact
        try {
          facts.push(validateOwnershipEvent(codec.decodeSync<Partial<OwnershipEvent>>(message.value, 'OwnershipEvent').value));
        } catch (error) {
          if (!(error instanceof RejectedRecord)) throw error;
        }
      }
      await writeFacts(redis, facts, { announce: false });
      written += facts.length;
      onProgress(seen, total);
    },
    { timeoutMs: 30 * 60_000, failOnTimeout: true },
  );
  logger.debug({ topic, seen, written }, 'ownership replay finished');
  return written;
}
