// A stage reads one topic in batches: parse every message (bad ones go to the DLQ untouched),
// hand the good ones to the service's batch handler, and only then commit the offsets, so a
// crash or an infrastructure error replays the batch instead of losing it.
// With a transactional producer the handler's writes, the DLQ writes and the offsets commit in one
// Kafka transaction: a replayed batch leaves no second copy for read_committed consumers.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { inTransaction } from './kafka';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import { sendToDlq, type DeadLetter, type SourceMessage } from './dlq';
import { RejectedRecord } from './rejection';

export interface Parsed<T> {
  source: SourceMessage;
  value: T;
}

/** Where a handler writes: the plain producer, or the batch's transaction. */
export type Sender = Pick<Producer, 'send' | 'sendBatch'>;

/** Work to run once the batch's writes are committed (e.g. marking a ledger). */
export type AfterCommit = (() => Promise<void>) | void;

export interface StageDefinition<T> {
  /** Service name, used in logs and metrics. */
  name: string;
  groupId: string;
  topic: string;
  /** Where the group starts when it has no committed offsets (default: the beginning). */
  fromBeginning?: boolean;
  /** Async work before parsing a batch (e.g. fetching unseen schema ids). */
  prepare?(messages: KafkaMessage[]): Promise<void>;
  /** Turns one message into a value, or throws RejectedRecord. Must be pure and synchronous. */
  parse(source: SourceMessage): T;
  /** Processes the good messages of a batch. Throwing replays the batch (nothing is committed). */
  handle(batch: Array<Parsed<T>>, sender: Sender): Promise<AfterCommit>;
  /** A producer with a transactionalId: makes the batch's writes and offsets one transaction. */
  transactionalProducer?: Producer;
  /** Runs each whole batch (through its commit) under the service's own lock. */
  exclusive?: <R>(work: () => Promise<R>) => Promise<R>;
}

export interface RunningStage {
  consumer: Consumer;
  /** Resolves once the consumer has joined its group and owns partitions. */
  joined: Promise<void>;
  stop(): Promise<void>;
}

export async function startStage<T>(
  kafka: Kafka,
  producer: Producer,
  definition: StageDefinition<T>,
  logger: Logger,
  metrics: Metrics,
): Promise<RunningStage> {
  const log = logger.child({ stage: definition.name });
  const consumer = kafka.consumer({
    groupId: definition.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: 100,
    // Oversized audit events must still be read whole, so they can be dead-lettered untouched.
    maxBytesPerPartition: 16 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  const joined = new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
  await consumer.connect();
  await consumer.subscribe({ topic: definition.topic, fromBeginning: definition.fromBeginning ?? true });

  const processBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const timer = metrics.batchSeconds.startTimer({ service: definition.name });
    metrics.consumed.inc({ service: definition.name, topic: batch.topic }, batch.messages.length);
    if (definition.prepare) await definition.prepare(batch.messages);

    const good: Array<Parsed<T>> = [];
    const dead: DeadLetter[] = [];
    for (const message of batch.messages) {
      const source: SourceMessage = {
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers,
      };
      try {
        good.push({ source, value: definition.parse(source) });
      } catch (error) {
        if (!(error instanceof RejectedRecord)) throw error;
        dead.push({ source, rejection: error });
      }
    }
    const last = batch.messages[batch.messages.length - 1].offset;
    const nextOffset = (BigInt(last) + 1n).toString();
    let afterCommit: AfterCommit = undefined;
    if (definition.transactionalProducer) {
      afterCommit = await inTransaction(definition.transactionalProducer, async (transaction) => {
        await sendToDlq(transaction, dead);
        const next = good.length > 0 ? await definition.handle(good, transaction) : undefined;
        await transaction.sendOffsets({
          consumerGroupId: definition.groupId,
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset }] }],
        });
        return next;
      });
    } else {
      await sendToDlq(producer, dead);
      if (good.length > 0) afterCommit = await definition.handle(good, producer);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]);
    }
    resolveOffset(last);
    if (afterCommit) await afterCommit();
    log.debug({ partition: batch.partition, messages: batch.messages.length, dead: dead.length, ms: Math.round(timer() * 1000) }, 'batch committed');
    for (const { source, rejection } of dead) {
      metrics.dlq.inc({ service: definition.name, reason: rejection.reason });
      log.warn(
        { reason: rejection.reason, error: rejection.message, topic: source.topic, partition: source.partition, offset: source.offset },
        'record sent to DLQ',
      );
    }
    await heartbeat();
  };

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      try {
        await (definition.exclusive ? definition.exclusive(() => processBatch(payload)) : processBatch(payload));
      } catch (error) {
        log.error({ err: { message: (error as Error).message, name: (error as Error).name } }, 'batch failed; it will be retried');
        throw error;
      }
    },
  });
  log.info({ topic: definition.topic, groupId: definition.groupId }, 'stage started');
  return {
    consumer,
    joined,
    stop: async () => {
      await consumer.disconnect();
    },
  };
}
