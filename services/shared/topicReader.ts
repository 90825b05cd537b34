// Reads topics from the beginning (or a point in time) to where they end now, committed records only, with a
// throwaway consumer group: for replays (the ownership cache), tools and tests. "The end" is where
// the client reports each partition's end (past transaction markers, see partitionEnds.ts) once
// every record fetched before it has been handed over.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from './kafka';
import { PartitionEnds } from './partitionEnds';
import { startNewGroupAtTime } from './groups';

export interface TopicBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
}

export interface ReadOptions {
  /** Stop early once this returns true (after a batch). */
  done?: () => boolean;
  /** Give up (resolve with what was read) after this long; default 60 s. */
  timeoutMs?: number;
  /** Throw on timeout instead of resolving. */
  failOnTimeout?: boolean;
  /** Keep reading past the end (records still to come) until `done` holds or the time is up. */
  follow?: boolean;
  /** Start at the first record written at or after this time instead of the beginning. */
  fromTimestamp?: number;
}

/** Readers join a throw-away consumer group named so (on a secured cluster: an ACL on this prefix). */
export const READER_GROUP_PREFIX = 'srv-visibility-reader-';

/** Calls `onBatch` for every batch until each partition's current end is reached; returns whether it was. */
export async function readToEnd(kafka: Kafka, topics: string[], onBatch: (batch: TopicBatch) => Promise<void> | void, options: ReadOptions = {}): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  const waiting = new Set<string>();
  try {
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) waiting.add(`${topic}/${p.partition}`);
    }
  } finally {
    await admin.disconnect();
  }
  if (waiting.size === 0 && !options.follow) return true;
  const groupId = `${READER_GROUP_PREFIX}${randomUUID()}`;
  const consumer = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false, maxWaitTimeInMs: 100 },
    'enable.partition.eof': true,
    'js.consumer.max.batch.size': 1_000,
  });
  const ends = new Map(topics.map((topic) => [topic, new PartitionEnds(topic)]));
  const handed = new Map<string, string>();
  if (options.fromTimestamp !== undefined) {
    for (const topic of topics) await startNewGroupAtTime(kafka, groupId, topic, options.fromTimestamp);
  }
  await consumer.connect();
  PartitionEnds.attach(consumer, [...ends.values()]);
  let reached = false;
  try {
    await consumer.subscribe({ topics });
    reached = await new Promise<boolean>((resolve, reject) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(value);
      };
      const timer = setTimeout(() => (options.failOnTimeout ? reject(new Error(`reading ${topics.join(', ')} to the end timed out`)) : finish(false)), options.timeoutMs ?? 60_000);
      // A partition is finished once its end is known and everything fetched before it was handed over.
      const check = () => {
        for (const key of [...waiting]) {
          const [topic, partition] = [key.slice(0, key.lastIndexOf('/')), Number(key.slice(key.lastIndexOf('/') + 1))];
          if (ends.get(topic)!.caughtUp(partition, handed.get(key))) waiting.delete(key);
        }
        if ((waiting.size === 0 && !options.follow) || options.done?.()) finish(true);
      };
      const poll = setInterval(check, 50);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            await onBatch({ topic: batch.topic, partition: batch.partition, messages: batch.messages });
            handed.set(`${batch.topic}/${batch.partition}`, (BigInt(batch.lastOffset()) + 1n).toString());
            check();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  return reached;
}
