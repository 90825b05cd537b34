// The one place Kafka clients are built. The client is @confluentinc/kafka-javascript (librdkafka)
// through its KafkaJS-compatible API: the README's "Kafka client" section has the measured reasons
// (transactions fenced by consumer-group generation, KIP-447; stable offset fetch; static
// membership). Its logs go through pino.
// The client runs its blocking calls (begin/commit a transaction, send offsets, consume, fetch
// committed offsets) on libuv's thread pool, 4 threads by default; with several stages per process
// (and, until 2026-12-01, a transactional producer per input partition) those calls queued behind
// each other (measured then: ~90 ms to begin a transaction; the bench 1,635 -> 2,435 events/s with
// 64). Must be set before the pool's first use.
process.env.UV_THREADPOOL_SIZE ??= '64';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Config, KafkaSecurity } from './config';
import type { Logger } from './logger';

export type Kafka = KafkaJS.Kafka;
export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type Admin = KafkaJS.Admin;
export type Transaction = KafkaJS.Transaction;
export type Message = KafkaJS.Message;
export type TopicMessages = KafkaJS.TopicMessages;
export type IHeaders = KafkaJS.IHeaders;
export type KafkaMessage = KafkaJS.KafkaMessage;
export type EachBatchPayload = KafkaJS.EachBatchPayload;
export type ITopicConfig = KafkaJS.ITopicConfig;

/** Producers and consumers hash keys the Java client's way (murmur2), as partitioning.ts assumes. */
export const PARTITIONER = 'murmur2_random';

function pinoAdapter(logger: Logger, traced: boolean): KafkaJS.Logger {
  const write =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (message: string, extra?: object) => {
      const { timestamp: _timestamp, ...rest } = (extra ?? {}) as Record<string, unknown>;
      // A transaction that aborts because its partition moved to another member is expected and
      // handled (the batch is replayed by the new owner); the client reports it as an error.
      const expected = /Fenced|ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|REBALANCE_IN_PROGRESS|Local: Broker transport failure/i.test(message);
      logger[expected && level === 'error' ? 'warn' : level](rest, message);
    };
  const adapter: KafkaJS.Logger = {
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    // Asked-for tracing (KAFKA_DEBUG) is logged at info, so it shows without lowering LOG_LEVEL.
    debug: write(traced ? 'info' : 'debug'),
    namespace: () => adapter,
    setLogLevel: () => undefined,
  };
  return adapter;
}

/** librdkafka's settings for KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_* (none for plaintext: the defaults). */
export function securitySettings(security: KafkaSecurity): Record<string, string> {
  if (security.protocol === 'plaintext') return {};
  return {
    'security.protocol': security.protocol,
    ...(security.sasl ? { 'sasl.mechanisms': security.sasl.mechanism, 'sasl.username': security.sasl.username, 'sasl.password': security.sasl.password } : {}),
    ...(security.sslCaLocation ? { 'ssl.ca.location': security.sslCaLocation } : {}),
  };
}

export function createKafka(config: Config, logger: Logger, clientId = config.kafkaClientId): Kafka {
  return new KafkaJS.Kafka({
    // librdkafka's own keys (outside the kafkaJS block), shared by every producer, consumer and admin of this client
    ...securitySettings(config.kafkaSecurity),
    // Leaders move when a broker is lost. An admin client finds out only from a metadata refresh
    // (every 5 min by default): until then its offset listings go to the lost broker and time out
    // (measured on the three-broker stack with one broker killed: every call for 30 s and more).
    'topic.metadata.refresh.interval.ms': 10_000,
    kafkaJS: {
      clientId,
      brokers: config.kafkaBrokers,
      // The client's INFO is chatty (every connection); its warnings and errors are what operators need.
      logLevel: KafkaJS.logLevel.WARN,
      logger: pinoAdapter(logger.child({ component: 'kafka' }), Boolean(config.kafkaDebug)),
    },
    // librdkafka's own tracing (e.g. "cgrp,eos,fetch"), for diagnosing the client in the field.
    ...(config.kafkaDebug ? { debug: config.kafkaDebug } : {}),
  });
}

/**
 * The services' producer: idempotent (acks=all), never creating topics, retrying without giving
 * up, so during an outage a stage blocks and replays rather than dropping records. With a
 * transactionalId it runs Kafka transactions; `connect()` then registers the id, which fences
 * earlier producers with the same id and aborts their open transaction.
 */
export function createProducer(kafka: Kafka, transactionalId?: string): Producer {
  return kafka.producer({
    kafkaJS: {
      // Only when set: the client treats the mere presence of the key as "transactional".
      ...(transactionalId ? { transactionalId } : {}),
      idempotent: true,
      allowAutoTopicCreation: false,
      acks: -1,
    },
    partitioner: PARTITIONER,
    // Oversized audit events are dead-lettered whole (topics that take them allow 16 MiB).
    'message.max.bytes': 17 * 1024 * 1024,
    // Small batches go out at once; under load librdkafka batches by itself.
    'linger.ms': 2,
    // No give-up time outside transactions; inside one, the transaction's timeout bounds it.
    ...(transactionalId ? { 'transaction.timeout.ms': 60_000, 'message.timeout.ms': 60_000 } : { 'message.timeout.ms': 0 }),
  });
}

/** An offset to commit in a transaction, with metadata (the stage's commit witness). */
export interface OffsetWithMetadata {
  topic: string;
  partition: number;
  offset: string;
  metadata: string;
}

/**
 * Adds consumed offsets to the producer's open transaction, bound to the consumer's group
 * generation (KIP-447: a member that has lost its partitions cannot commit for them). The
 * compatible API's `sendOffsets` drops offset metadata, which the stage needs as its commit
 * witness, so this calls the client's underlying method, which keeps it.
 */
export function sendOffsetsWithMetadata(transaction: Transaction, consumer: Consumer, offsets: OffsetWithMetadata[], timeoutMs = 30_000): Promise<void> {
  interface Internal {
    sendOffsetsToTransaction(offsets: unknown[], consumer: unknown, timeout: number, cb: (error: unknown) => void): void;
  }
  const producerClient = (transaction as unknown as { _getInternalClient(): Internal })._getInternalClient();
  const consumerClient = (consumer as unknown as { _getInternalClient(): unknown })._getInternalClient();
  const native = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset), metadata: o.metadata }));
  return new Promise((resolve, reject) =>
    producerClient.sendOffsetsToTransaction(native, consumerClient, timeoutMs, (error) => (error ? reject(error instanceof Error ? error : Object.assign(new Error(String((error as { message?: string }).message ?? error)), error)) : resolve())),
  );
}

/** What writes records: a producer, a transaction, or nativeSender's wrapper of one. */
export type Sender = Pick<Producer, 'send' | 'sendBatch'>;

interface NativeProducer {
  produce(topic: string, partition: number, value: Buffer | null, key: Buffer | string | null | undefined, timestamp: number, opaque: unknown, headers: unknown): void;
}

function nativeHeaders(headers: IHeaders | undefined): Array<Record<string, unknown>> | null {
  if (!headers) return null;
  const out: Array<Record<string, unknown>> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push({ [name]: v });
    else out.push({ [name]: value });
  }
  return out;
}

/**
 * Writes through the client's native produce with ONE completion per call, where the compatible
 * API's `send` makes a promise and a metadata object per message and sorts the reports per
 * partition (measured: ~8 % of the fan-out's main thread). Resolves when every message of the
 * call is acknowledged, rejects with the first failure; the per-partition order and acks are the
 * producer's. Records the compatible API would take are taken the same way (string values,
 * KafkaJS headers, `partition` absent for the partitioner).
 */
export function nativeSender(producer: Producer | Transaction): Sender {
  const client = (producer as unknown as { _getInternalClient(): NativeProducer })._getInternalClient();
  const write = (topicMessages: TopicMessages[]): Promise<never[]> =>
    new Promise((resolve, reject) => {
      let outstanding = 0;
      let queued = false;
      let failure: unknown;
      const settleIfDone = () => {
        if (outstanding > 0 || !queued) return;
        if (failure === undefined) resolve([]);
        else reject(failure instanceof Error ? failure : new Error(String((failure as { message?: string })?.message ?? failure)));
      };
      // The compatible API's delivery-report handler calls these (it requires both).
      const opaque = {
        resolve: () => {
          outstanding--;
          settleIfDone();
        },
        reject: (error: unknown) => {
          failure ??= error;
          outstanding--;
          settleIfDone();
        },
      };
      try {
        for (const { topic, messages } of topicMessages) {
          for (const m of messages) {
            const value = typeof m.value === 'string' ? Buffer.from(m.value) : (m.value ?? null);
            client.produce(topic, m.partition ?? -1, value, m.key, m.timestamp ? Number(m.timestamp) : 0, opaque, nativeHeaders(m.headers));
            outstanding++;
          }
        }
      } catch (error) {
        failure ??= error; // e.g. the local queue is full: what was queued is awaited, then this fails
      }
      queued = true;
      settleIfDone();
    });
  return {
    send: ({ topic, messages }) => write([{ topic, messages }]),
    sendBatch: ({ topicMessages }) => write(topicMessages ?? []),
  } as Sender;
}

/** librdkafka's code for "the client hit a fatal error and must be recreated". */
const ERR__FATAL = -150;
/** A static member replaced by another with the same group.instance.id: this one may not go on. */
export const ERR_FENCED_INSTANCE_ID = 82;

/** Group-coordinator codes a broker answers while a coordinator moves or loads (fresh or restarted broker). */
const COORDINATOR_NOT_READY = new Set([14, 15, 16]);

/**
 * Runs a group admin call again while the group's coordinator is not ready (a fresh broker is
 * still loading `__consumer_offsets`; seen in CI as "Not coordinator" on the first offset fetch).
 * Other errors, and a coordinator still not ready after `giveUpMs`, are thrown.
 */
export async function whenCoordinatorReady<T>(call: () => Promise<T>, giveUpMs = 30_000, pauseMs = 250): Promise<T> {
  const giveUpAt = Date.now() + giveUpMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      const code = (error as { code?: number } | undefined)?.code;
      if (code === undefined || !COORDINATOR_NOT_READY.has(code) || Date.now() >= giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}

/** Is this error one after which the client (or this member) cannot go on? */
export function isFatalClientError(error: unknown): boolean {
  const e = error as { code?: number; isFatal?: boolean; fatal?: boolean } | undefined;
  return Boolean(e && (e.isFatal === true || e.fatal === true || e.code === ERR__FATAL || e.code === ERR_FENCED_INSTANCE_ID));
}

interface WatchedClient {
  on(event: 'event.error', listener: (error: Error) => void): void;
  consume(size: number, callback: (error: Error | null, messages: unknown) => void): void;
}

/**
 * Calls `onFatal` when the client under a consumer reports a fatal error (e.g. its static
 * membership was fenced). The compatible API only logs such errors and retries for ever; the
 * process must instead be restarted with a fresh client. A fatal error reaches the application by
 * two roads, an error event and the failure of the consume call the compatible API loops on (seen:
 * only the second, after "Unknown member" on an offset commit), so both are watched.
 */
export function watchFatalErrors(consumer: Consumer, onFatal: (error: Error) => void): void {
  const client = (consumer as unknown as { _getInternalClient(): WatchedClient })._getInternalClient();
  client.on('event.error', (error) => {
    if (isFatalClientError(error)) onFatal(error);
  });
  const consume = client.consume.bind(client);
  client.consume = (size, callback) =>
    consume(size, (error, messages) => {
      if (error && isFatalClientError(error)) onFatal(error);
      callback(error, messages);
    });
}
