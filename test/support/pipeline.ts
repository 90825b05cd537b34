// Integration-test harness on the real local stack: start the services in-process with a test
// configuration, write upstream events, read topics back, capture every log line.
import { STAGE_INPUTS, advanceGroupToTime, groupLag } from '../../services/shared/groups';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startApp, type App, type ServiceName } from '../../services/app';
import type { Archive } from '../../services/shared/archive';
import { loadConfig, type Config } from '../../services/shared/config';
import { TOPICS, type AuditEvent, type OwnershipEvent, type VisibilityRecord } from '../../services/shared/contracts';
import { createKafka, createProducer, type IHeaders, type Kafka, type Producer } from '../../services/shared/kafka';
import { readToEnd } from '../../services/shared/topicReader';
import { createLogger } from '../../services/shared/logger';
import { AvroCodec, createSchemaRegistry, type SchemaName } from '../../services/shared/schemaRegistry';
import { registerSchemas, type SchemaIds } from '../../services/shared/runtime';

/** Every log line the services wrote during a test, for payload scans. */

/** When this test file loaded the harness: before the suite wrote anything (each file loads its own copy). */
const SUITE_LOADED_AT = Date.now();
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export const TEST_ARCHIVE_PATH = path.join(os.tmpdir(), `srv-visibility-test-archive-${process.pid}`);

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    ...process.env,
    GROUP_PREFIX: 'srv-visibility-test',
    ARCHIVE_PATH: TEST_ARCHIVE_PATH,
    HTTP_PORT: '0',
    // Suites run beside each other and beside npm start: the lookup API on a free port too.
    LOOKUP_PORT: '0',
    OWNERSHIP_WAIT_MS: '4000',
    PENDING_SCAN_MS: '250',
    // The trigger index of a new test group starts an hour back, not at a day of earlier runs' records.
    ALERT_TRIGGER_RETENTION_MS: '3600000',
    LOG_LEVEL: 'debug',
    ...env,
  });
}

export interface Harness {
  app: App;
  logs: LogCapture;
  kafka: Kafka;
  producer: Producer;
  codec: AvroCodec;
  ids: SchemaIds;
  sendAudit(events: AuditEvent[]): Promise<void>;
  sendOwnership(events: OwnershipEvent[]): Promise<void>;
  sendRaw(topic: string, messages: Array<{ key?: string | Buffer | null; value: Buffer | null; headers?: IHeaders }>): Promise<void>;
  /** Errors that stopped a stage for good (the process would have exited). */
  fatal: Error[];
  stop(): Promise<void>;
}

export async function startHarness(options: { env?: Record<string, string>; services?: ServiceName[]; archive?: Archive } = {}): Promise<Harness> {
  const config = testConfig(options.env);
  const logs = new LogCapture();
  const logger = createLogger(config.logLevel, 'srv-visibility-test', logs);
  // A stage that stops for good would exit the process; in tests it is recorded and asserted on
  // (from the start: a stage can stop for good while the app is still starting).
  const fatal: Error[] = [];
  // The test deployment's groups start no earlier than this suite: its topics also carry other
  // suites', benches' and demos' traffic (hundreds of thousands of records on a long-used stack),
  // which a suite need not read and would time out catching up with. A group is only moved
  // forward, to the first record written since this file was loaded, before which the suite wrote
  // nothing; so a suite's own records (a backlog written before its services start, records
  // written while they are stopped) are never skipped.
  const setupKafka = createKafka(config, createLogger('warn', 'test-setup', logs));
  for (const [stage, topic] of Object.entries(STAGE_INPUTS)) await advanceGroupToTime(setupKafka, `${config.groupPrefix}-${stage}`, topic, SUITE_LOADED_AT);
  const app = await startApp({ config, logger, services: options.services, archive: options.archive, onFatal: (error) => fatal.push(error) });
  const kafka = createKafka(config, createLogger('warn', 'test-client', logs), 'srv-visibility-test-client');
  const producer = createProducer(kafka);
  await producer.connect();
  const codec = new AvroCodec(createSchemaRegistry(config));
  const ids = await registerSchemas(codec);
  return {
    app,
    fatal,
    logs,
    kafka,
    producer,
    codec,
    ids,
    async sendAudit(events) {
      await producer.send({
        topic: TOPICS.auditEvents,
        messages: events.map((e) => ({ key: e.requestId, value: codec.encodeSync(ids.auditEvent, e) })),
      });
    },
    async sendOwnership(events) {
      await producer.send({
        topic: TOPICS.ownershipEvents,
        messages: events.map((e) => ({ key: e.mpxn, value: codec.encodeSync(ids.ownershipEvent, e) })),
      });
    },
    async sendRaw(topic, messages) {
      await producer.send({ topic, messages });
    },
    async stop() {
      await producer.disconnect();
      await app.stop();
    },
  };
}

export interface ReadMessage<T> {
  topic: string;
  key: string | null;
  value: T;
  raw: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
  /** The Kafka timestamp (epoch millis, as a string). */
  timestamp: string;
}

export interface ReadOptions<T> {
  /** Stop as soon as this holds. */
  done?: (messages: Array<ReadMessage<T>>) => boolean;
  /** Stop once everything written before the read began has been read (no waiting for a timeout). */
  toEnd?: boolean;
  timeoutMs?: number;
  raw?: boolean;
  /** The record type values are decoded as (default VisibilityRecord). */
  decodeAs?: SchemaName;
  filter?: (m: ReadMessage<T>) => boolean;
}

/** Reads one topic from the beginning; see readTopics. */
export async function readTopic<T = VisibilityRecord>(kafka: Kafka, codec: AvroCodec, topic: string, options: ReadOptions<T>): Promise<Array<ReadMessage<T>>> {
  return readTopics(kafka, codec, [topic], options);
}

/**
 * Reads topics from the beginning with one consumer until `done` holds, the end is reached
 * (`toEnd`), or the timeout passes. Decodes Avro values unless `raw` is set.
 */
export async function readTopics<T = VisibilityRecord>(
  kafka: Kafka,
  codec: AvroCodec,
  topics: string[],
  { done, toEnd = false, timeoutMs = 30_000, raw = false, decodeAs = 'VisibilityRecord', filter }: ReadOptions<T>,
): Promise<Array<ReadMessage<T>>> {
  const messages: Array<ReadMessage<T>> = [];
  // A rebalance of the reader's own group starts it over from the beginning: each offset counts once.
  const seenOffsets = new Set<string>();
  for (const topic of topics) await waitFor(() => topicExists(kafka, topic), { timeoutMs, what: `topic ${topic}` });
  const onBatch = async ({ topic, partition, messages: batch }: { topic: string; partition: number; messages: import('../../services/shared/kafka').KafkaMessage[] }) => {
    if (!raw) await codec.prefetch(batch.map((m) => m.value));
    for (const m of batch) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      const message: ReadMessage<T> = {
        topic,
        key: m.key ? m.key.toString('utf8') : null,
        value: raw ? (m.value as unknown as T) : codec.decodeSync<T>(m.value, decodeAs).value,
        raw: m.value,
        headers,
        partition,
        offset: m.offset,
        timestamp: m.timestamp,
      };
      const position = `${message.topic}/${message.partition}/${message.offset}`;
      if (seenOffsets.has(position)) continue;
      seenOffsets.add(position);
      if (!filter || filter(message)) messages.push(message);
    }
  };
  if (toEnd) {
    await readToEnd(kafka, topics, onBatch, { timeoutMs, done: done ? () => done(messages) : undefined });
  } else {
    // Until `done` holds (or the timeout): the records may not have been written yet.
    await readToEnd(kafka, topics, onBatch, { timeoutMs, follow: true, done: done ? () => done(messages) : undefined });
  }
  return messages;
}

/** Does this topic exist yet? (party topics are created on first delivery) */
export async function topicExists(kafka: Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Lag of a consumer group on a topic: high watermarks minus committed offsets. */
export { groupLag };

/** Waits until the projector and the fan-out have committed everything written so far. */
export async function drained(harness: Harness, timeoutMs = 60_000): Promise<void> {
  const prefix = harness.app.runtime.config.groupPrefix;
  await waitFor(
    async () =>
      (await groupLag(harness.kafka, `${prefix}-projector`, TOPICS.auditEvents)) === 0 &&
      (await groupLag(harness.kafka, `${prefix}-ownership-projector`, TOPICS.ownershipEvents)) === 0 &&
      (await groupLag(harness.kafka, `${prefix}-fan-out`, TOPICS.visibilityRecords)) === 0 &&
      (!harness.app.stages.archiver ||
        ((await groupLag(harness.kafka, `${prefix}-archiver`, TOPICS.archive)) === 0 && (await groupLag(harness.kafka, `${prefix}-alert-archiver`, TOPICS.alertContexts)) === 0)) &&
      (!harness.app.stages['alert-triage'] ||
        ((await groupLag(harness.kafka, `${prefix}-alert-triage`, TOPICS.alerts)) === 0 &&
          (await groupLag(harness.kafka, `${prefix}-alert-triggers`, TOPICS.visibilityRecords)) === 0)),
    { timeoutMs, what: 'the pipeline to drain' },
  );
}

export type { OwnershipEvent, AuditEvent };

/**
 * Waits until every party topic holds at least its expected records, lets the pipeline drain and
 * the pending/late-ownership timers run, then returns what each topic really holds (by eventId).
 */
export async function partyContents(
  harness: Harness,
  expected: Record<string, string[]>,
  { settleMs = 600, timeoutMs = 30_000 } = {},
): Promise<Record<string, Array<ReadMessage<VisibilityRecord>>>> {
  const parties = Object.keys(expected);
  const awaited = parties.filter((p) => expected[p].length > 0);
  const total = awaited.reduce((n, p) => n + expected[p].length, 0);
  if (awaited.length > 0) {
    await readTopics(harness.kafka, harness.codec, awaited.map((p) => `${TOPICS.partyPrefix}${p}`), { done: (m) => m.length >= total, timeoutMs });
  }
  await drained(harness);
  await new Promise((r) => setTimeout(r, settleMs));
  await harness.app.fanOut!.punctuate();
  const existing: string[] = [];
  for (const party of parties) if (await topicExists(harness.kafka, `${TOPICS.partyPrefix}${party}`)) existing.push(party);
  const messages = existing.length
    ? await readTopics(harness.kafka, harness.codec, existing.map((p) => `${TOPICS.partyPrefix}${p}`), { toEnd: true, timeoutMs })
    : [];
  return Object.fromEntries(parties.map((p) => [p, messages.filter((m) => m.topic === `${TOPICS.partyPrefix}${p}`)]));
}

export function eventIdsByParty(contents: Record<string, Array<ReadMessage<VisibilityRecord>>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(contents).map(([party, messages]) => [party, messages.map((m) => m.value.eventId).sort()]));
}

/**
 * Starts a harness before the file's tests and stops it after them. Returns a stand-in that
 * forwards to the running harness, so tests write `harness.sendAudit(...)` as usual.
 */
export function useHarness(options: Parameters<typeof startHarness>[0] = {}): Harness {
  let current: Harness | undefined;
  beforeAll(async () => {
    current = await startHarness(options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  return new Proxy({} as Harness, {
    get: (_target, property) => {
      if (!current) throw new Error('the harness is used outside a test');
      return current[property as keyof Harness];
    },
  });
}

/** Deletes every key matching `pattern` (SCAN, never KEYS): what a Redis restarted empty does to them. */
export async function deleteMatching(redis: import('ioredis').default, pattern: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}
