// A stage reads one topic in batches and processes each batch exactly once:
//   parse every message (anything that fails, for any reason, goes to the DLQ untouched)
//   -> the service's handler writes its output
//   -> the DLQ entries, the output and the consumed offsets commit in ONE Kafka transaction
//   -> the handler's after-commit work (e.g. applying a state delta) runs.
// Partitions are processed concurrently, each with its own transactional producer (fencing by
// input partition, see transactions.ts) and its own lock, which timer work on the partition
// (runOnPartition) shares. Every offset commit carries a fresh transaction id as its metadata:
// the witness a service uses after a crash to tell whether its last transaction committed.
import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { isFatalClientError, sendOffsetsWithMetadata, watchFatalErrors, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from './kafka';
import { sendBounded, type Sender } from './boundedSend';
import { deadLetterMessages, type DeadLetter, type SourceMessage } from './dlq';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Config } from './config';
import type { Faults } from './faults';
import { KeyedLock } from './partitionLock';
import { PartitionEnds } from './partitionEnds';
import { DlqReason, RejectedRecord } from './rejection';
import { PartitionProducers } from './transactions';

export type { Sender } from './boundedSend';

export interface Parsed<T> {
  source: SourceMessage;
  value: T;
}

/** Work to run once the batch's transaction has committed (e.g. applying a state delta to Redis). */
export type AfterCommit = (() => Promise<void>) | void;

/** What a handler knows about the transaction it writes in. */
export interface TransactionContext {
  partition: number;
  /** Written as the offset commit's metadata; after a crash it tells whether this transaction committed. */
  transactionId: string;
}

/** The committed position of a partition and the id of the transaction that wrote it. */
export interface CommitWitness {
  offset: string;
  transactionId: string | null;
}

export interface StageDefinition<T> {
  /** Service name, used in logs, metrics and transactional ids. */
  name: string;
  groupId: string;
  topic: string;
  /** Prefix of the per-partition transactional ids (unique per deployment, shared by its instances). */
  transactionalIdPrefix: string;
  /** Where the group starts when it has no committed offsets (default: the beginning). */
  fromBeginning?: boolean;
  /** Input partitions processed at once (default: all of them). */
  concurrency?: number;
  /** Upper bound of one produce request (default DEFAULT_MAX_SEND_BYTES). */
  maxSendBytes?: number;
  /** A batch that has been received but not committed for this long makes the stage unhealthy. */
  stallMs?: number;
  /** Consumer group session timeout (default 10 s): bounds how long a killed member holds its partitions. */
  sessionTimeoutMs?: number;
  /**
   * Static group membership (KIP-345): a stable id for this instance. A restarted instance with
   * the same id takes its partitions back at once, without waiting for the session timeout.
   * Must be unique among the running instances of the deployment.
   */
  instanceId?: string;
  /** Most records handed to one batch (default 1,000). */
  maxBatchSize?: number;
  /** Async work before parsing a batch (e.g. fetching unseen schema ids). */
  prepare?(messages: KafkaMessage[]): Promise<void>;
  /** Turns one message into a value, or throws (RejectedRecord for a known reason). Synchronous. */
  parse(source: SourceMessage): T;
  /** Processes the good messages of a batch inside its transaction. Throwing replays the batch. */
  handle(batch: Array<Parsed<T>>, sender: Sender, context: TransactionContext): Promise<AfterCommit>;
  /**
   * Runs once on a newly assigned partition, after its producer has fenced earlier owners and
   * before any work on it: finish what a crash interrupted (see CommitWitness).
   */
  recover?(partition: number, witness: CommitWitness | undefined): Promise<void>;
  /**
   * The id of a transaction whose outcome recovery needs (e.g. the one a leftover intent belongs
   * to). The stage waits briefly for the witness to name it before deciding it did not commit.
   */
  unresolvedTransaction?(partition: number): Promise<string | null>;
  /** The instance lost this partition (after any work on it finished). */
  revoked?(partition: number): Promise<void>;
}

export interface RunningStage {
  consumer: Consumer;
  /** Resolves once the consumer has joined its group and owns partitions. */
  joined: Promise<void>;
  /** Partitions this instance owns now. */
  assigned(): number[];
  /**
   * Runs timer work on an owned partition under its lock: `plan` reads what there is to do
   * (undefined: nothing), then `write` runs in one transaction that also re-commits the
   * partition's offset with a new witness. Skipped (false) when the partition is not owned (any
   * more) or has no committed offset yet.
   */
  runOnPartition<P>(
    partition: number,
    plan: () => Promise<P | undefined>,
    write: (plan: P, sender: Sender, context: TransactionContext) => Promise<AfterCommit>,
  ): Promise<boolean>;
  /** Healthy unless a received batch has gone uncommitted for longer than stallMs, or the consumer crashed. */
  healthy(): boolean;
  stop(): Promise<void>;
}

export interface StageEnvironment {
  kafka: Kafka;
  logger: Logger;
  metrics: Metrics;
  /** Called when the consumer has stopped for good; the process should exit and be restarted. */
  onFatal(error: Error): void;
  /** Failure injection for tests (nothing armed in production). */
  faults: Faults;
}

/** The settings every stage takes from the configuration, by stage name. */
export function stageSettings(config: Config, name: string) {
  return {
    name,
    groupId: `${config.groupPrefix}-${name}`,
    transactionalIdPrefix: `${config.transactionalIdPrefix}-${name}`,
    fromBeginning: config.consumeFrom === 'earliest',
    maxSendBytes: config.maxSendBytes,
    stallMs: config.stageStallMs,
    sessionTimeoutMs: config.sessionTimeoutMs,
    instanceId: config.kafkaInstanceId ? `${config.kafkaInstanceId}-${name}` : undefined,
  } satisfies Partial<StageDefinition<unknown>>;
}

const DEFAULT_STALL_MS = 120_000;
const WITNESS_GRACE_MS = 3_000;
const WITNESS_FETCH_TIMEOUT_MS = 30_000;
/** Errors that mean a bug, not a passing condition: replaying the batch would fail the same way (fatal). */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);
/** Longest a rebalance waits for the new partitions' producers to fence earlier owners. */
const FENCE_BEFORE_FETCH_MS = 15_000;
/** How often idle partitions are checked for trailing transaction markers to commit past. */
const MARKER_COMMIT_INTERVAL_MS = 500;

/**
 * The committed offset as the client reports it, or undefined when there is none. The compatible
 * API turns offset 0 into null (`offset ? String(offset) : null`) while "none" arrives as a
 * negative sentinel (-1001), so null means 0 (seen on a fresh broker: a group started at the end
 * of an empty topic).
 */
export function committedOffset(reported: string | number | null | undefined): string | undefined {
  if (reported === null) return '0';
  if (reported === undefined || reported === '' || !/^-?[0-9]+$/.test(String(reported))) return undefined;
  return BigInt(reported) < 0n ? undefined : String(reported);
}

export async function startStage<T>(env: StageEnvironment, definition: StageDefinition<T>): Promise<RunningStage> {
  const { kafka, metrics } = env;
  const log = env.logger.child({ stage: definition.name });
  const maxSendBytes = definition.maxSendBytes;
  const producers = new PartitionProducers(kafka, `${definition.transactionalIdPrefix}-${definition.topic}`, log, (outcome) =>
    metrics.transactions.inc({ service: definition.name, outcome }),
  );
  const locks = new KeyedLock<number>();

  let assignment = new Set<number>();
  /** Per owned partition: recovery done (a promise, so concurrent callers wait for the same one). */
  const ready = new Map<number, Promise<void>>();
  const committed = new Map<number, string>();
  /** Per partition: when a batch was received that has not been committed yet. */
  const uncommittedSince = new Map<number, number>();
  let crashed = false;
  let stopping = false;

  let resolveJoined: () => void = () => undefined;
  const joined = new Promise<void>((resolve) => (resolveJoined = resolve));
  const consumer: Consumer = kafka.consumer({
    kafkaJS: {
      groupId: definition.groupId,
      fromBeginning: definition.fromBeginning ?? true,
      autoCommit: false,
      sessionTimeout: definition.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.max(500, Math.floor((definition.sessionTimeoutMs ?? 10_000) / 10)),
      maxWaitTimeInMs: 100,
      // Read committed only (the client's default): an aborted upstream transaction is never seen.
      readUncommitted: false,
    },
    'js.consumer.max.batch.size': definition.maxBatchSize ?? 1_000,
    'enable.partition.eof': true, // see partitionEnds.ts
    ...(definition.instanceId ? { 'group.instance.id': definition.instanceId } : {}),
    // The client fetches committed offsets with require_stable (KIP-447) and grows its fetch size
    // past an oversized record, so such a record is still read whole and can be dead-lettered.
    rebalance_cb: async (error: { code: number }, partitions: Array<{ topic: string; partition: number }>) => {
      const mine = partitions.filter((p) => p.topic === definition.topic).map((p) => p.partition);
      if (error.code === KafkaJS.ErrorCodes.ERR__ASSIGN_PARTITIONS) {
        // Fence before the client fetches the committed offsets: a killed owner's open
        // transaction holds them "unstable" (KIP-447) until it is aborted, which registering its
        // transactional id does at once; otherwise only its timeout would (a minute).
        await fenceBeforeFetch(mine);
        onAssignment([...new Set([...assignment, ...mine])]);
        resolveJoined();
      } else {
        onAssignment([...assignment].filter((p) => !mine.includes(p)));
      }
    },
  } as KafkaJS.ConsumerConstructorConfig);

  async function fetchWitness(partition: number): Promise<CommitWitness | undefined> {
    // Through the group's own consumer, which asks for stable offsets (read_committed): a
    // transaction still completing makes the broker answer "retry", never an older offset.
    const [entry] = await consumer.committed([{ topic: definition.topic, partition }], WITNESS_FETCH_TIMEOUT_MS);
    const offset = committedOffset(entry?.offset);
    if (offset === undefined) return undefined;
    return { offset, transactionId: (entry as { metadata?: string | null }).metadata ?? null };
  }

  async function committedAfterAll(partition: number, transactionId: string): Promise<boolean> {
    try {
      await producers.producer(partition);
      return (await fetchWitness(partition))?.transactionId === transactionId;
    } catch {
      return false; // unknown: the batch is retried, and recovery (ensureReady) runs first
    }
  }

  /** First use of a partition after it was assigned: fence, learn the committed position, recover. */
  function ensureReady(partition: number): Promise<void> {
    let pending = ready.get(partition);
    if (!pending) {
      pending = (async () => {
        await producers.producer(partition);
        let witness = await fetchWitness(partition);
        // Fencing waits for the previous owner's last transaction to complete and the offset fetch
        // asks for stable offsets; a transaction recovery asks about still gets a short grace
        // period to appear, in case the coordinator moved (a broker restart) in between.
        const asked = await definition.unresolvedTransaction?.(partition);
        for (const deadline = Date.now() + WITNESS_GRACE_MS; asked && witness?.transactionId !== asked && Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          witness = await fetchWitness(partition);
        }
        if (witness) committed.set(partition, witness.offset);
        else committed.delete(partition);
        await definition.recover?.(partition, witness);
      })();
      pending.catch(() => ready.delete(partition));
      ready.set(partition, pending);
    }
    return pending;
  }

  /** Registers the partitions' transactional ids (bounded: a broker outage must not hold the rebalance). */
  async function fenceBeforeFetch(partitions: number[]): Promise<void> {
    const fenced = Promise.all(partitions.map((p) => producers.producer(p).catch(() => undefined)));
    await Promise.race([fenced, new Promise((resolve) => setTimeout(resolve, FENCE_BEFORE_FETCH_MS))]);
  }

  function stopForGood(error: Error, why: string): void {
    if (crashed || stopping) return;
    crashed = true;
    log.fatal({ err: { name: error.name, message: error.message, code: (error as { code?: number }).code } }, why);
    env.onFatal(error);
  }

  const ends = new PartitionEnds(definition.topic);
  const markerCommits = new Set<number>();
  /**
   * Moves an idle partition's offset past trailing transaction markers (partitionEnds.ts), in a
   * transaction of its own, so a caught-up group reports zero lag, as a Java consumer's would.
   */
  function commitPastMarkers(): void {
    for (const partition of assignment) {
      if (stopping || markerCommits.has(partition) || uncommittedSince.has(partition) || locks.busy(partition)) continue;
      if (ends.markerOffset(partition, committed.get(partition)) === undefined) continue;
      markerCommits.add(partition);
      void locks
        .run(partition, async () => {
          if (!assignment.has(partition) || stopping) return;
          await ensureReady(partition);
          const target = ends.markerOffset(partition, committed.get(partition));
          if (target !== undefined) await commitTransaction(partition, target, async () => undefined);
        })
        .catch((error: Error) => log.warn({ partition, err: { message: error.message } }, 'committing past transaction markers failed; retried later'))
        .finally(() => markerCommits.delete(partition));
    }
  }

  function onAssignment(partitions: number[]): void {
    const next = new Set(partitions);
    const lost = [...assignment].filter((p) => !next.has(p));
    assignment = next;
    for (const partition of lost) {
      void locks.run(partition, async () => {
        if (assignment.has(partition)) return;
        ready.delete(partition);
        committed.delete(partition);
        uncommittedSince.delete(partition);
        ends.forget(partition);
        await producers.release(partition);
        await definition.revoked?.(partition);
      });
    }
  }

  /** One transaction: DLQ entries, the handler's output, the offsets with a fresh witness. */
  async function commitTransaction(
    partition: number,
    offset: string,
    work: (sender: Sender, context: TransactionContext) => Promise<AfterCommit>,
    onCommitted: () => void = () => undefined,
  ): Promise<void> {
    const transactionId = randomUUID();
    let written: AfterCommit = undefined;
    let afterCommit: AfterCommit;
    try {
      afterCommit = await producers.run(partition, async (transaction) => {
        written = await work(transaction, { partition, transactionId });
        env.faults.check(definition.name, 'before-commit');
        await sendOffsetsWithMetadata(transaction, consumer, [{ topic: definition.topic, partition, offset, metadata: transactionId }]);
        return written;
      });
    } catch (error) {
      // A commit whose answer was lost (the broker went away during EndTxn) may have committed.
      // A fresh producer with the partition's id completes or aborts it; the witness then says
      // which. Treating a committed transaction as failed would process its batch a second time.
      if (!(await committedAfterAll(partition, transactionId))) {
        // Before the retry: fence again, re-read the witness (the committed offset becomes the
        // floor below which records are skipped) and recover any state the witness confirms.
        ready.delete(partition);
        throw error;
      }
      log.warn({ partition, transactionId }, 'the commit reported a failure but had committed; carrying on');
      afterCommit = written;
    }
    committed.set(partition, offset);
    onCommitted();
    if (!afterCommit) return;
    try {
      env.faults.check(definition.name, 'after-commit');
      await afterCommit();
    } catch (error) {
      // Committed, but the follow-up did not finish (e.g. Redis unreachable): before any further
      // work on this partition, recovery finishes it from what the commit witness says.
      ready.delete(partition);
      throw error;
    }
  }

  function parseAll(batch: EachBatchPayload['batch'], messages: KafkaMessage[]): { good: Array<Parsed<T>>; dead: DeadLetter[] } {
    const good: Array<Parsed<T>> = [];
    const dead: DeadLetter[] = [];
    for (const message of messages) {
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
        // Whatever one record makes parsing throw, it is that record's fault: dead-letter it.
        const rejection =
          error instanceof RejectedRecord
            ? error
            : new RejectedRecord(DlqReason.PARSE_ERROR, `${(error as Error)?.name ?? 'Error'}: ${String((error as Error)?.message ?? error).slice(0, 500)}`);
        dead.push({ source, rejection });
      }
    }
    return { good, dead };
  }

  const processBatch = async ({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload) => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    if (!uncommittedSince.has(batch.partition)) uncommittedSince.set(batch.partition, Date.now());
    await ensureReady(batch.partition);
    // Defence in depth: once fenced, the committed offset is stable, and what lies below it was
    // processed in a committed transaction; should the consumer start below it (a position
    // fetched before a previous owner's transaction completed), those records are skipped.
    const floor = committed.get(batch.partition);
    const messages = floor === undefined ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= BigInt(floor));
    if (messages.length < batch.messages.length) log.info({ partition: batch.partition, skipped: batch.messages.length - messages.length, committed: floor }, 'skipped records a previous owner already committed');
    if (messages.length === 0) {
      resolveOffset(batch.lastOffset());
      uncommittedSince.delete(batch.partition);
      return;
    }
    const timer = metrics.batchSeconds.startTimer({ service: definition.name });
    metrics.consumed.inc({ service: definition.name, topic: batch.topic }, messages.length);
    if (definition.prepare) await definition.prepare(messages);
    const { good, dead } = parseAll(batch, messages);
    // Past any transaction markers that came with the batch, so a drained group shows no lag.
    const last = batch.lastOffset();
    await commitTransaction(
      batch.partition,
      (BigInt(last) + 1n).toString(),
      async (sender, context) => {
        await sendBounded(sender, deadLetterMessages(dead), maxSendBytes);
        env.faults.check(definition.name, 'handler-bug');
        return good.length > 0 ? definition.handle(good, sender, context) : undefined;
      },
      // Resolved as soon as the transaction commits, so a failing follow-up does not replay the batch.
      () => {
        resolveOffset(last);
        uncommittedSince.delete(batch.partition);
      },
    );
    log.debug({ partition: batch.partition, messages: messages.length, dead: dead.length, ms: Math.round(timer() * 1000) }, 'batch committed');
    for (const { source, rejection } of dead) {
      metrics.dlq.inc({ service: definition.name, reason: rejection.reason });
      log.warn({ reason: rejection.reason, error: rejection.message, topic: source.topic, partition: source.partition, offset: source.offset }, 'record sent to DLQ');
    }
  };

  await consumer.connect();
  ends.attach(consumer);
  watchFatalErrors(consumer, (error) => stopForGood(error, 'the Kafka client failed for good'));
  await consumer.subscribe({ topics: [definition.topic] });
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: definition.concurrency ?? 6,
    eachBatch: async (fetched) => {
      const { partition } = fetched.batch;
      try {
        await locks.run(partition, () => processBatch(fetched));
      } catch (error) {
        const { name, message } = error as Error;
        if (PROGRAMMING_ERRORS.has(name)) {
          // A bug replays the same way every time: stop, so the supervisor restarts the process
          // (and an operator sees it) instead of looping on the batch.
          stopForGood(error as Error, 'stage stopped for good');
        } else if (isFatalClientError(error)) {
          stopForGood(error as Error, 'this member was fenced or its client failed for good');
        } else {
          log.error({ partition, err: { message, name, code: (error as { code?: number }).code } }, 'batch failed; it will be retried');
        }
        // The batch's transaction was aborted (its producer replaced if need be): the client
        // seeks back and hands the batch over again.
        throw error;
      }
    },
  });
  const markerTimer = setInterval(commitPastMarkers, MARKER_COMMIT_INTERVAL_MS);
  log.info({ topic: definition.topic, groupId: definition.groupId }, 'stage started');

  return {
    consumer,
    joined,
    assigned: () => [...assignment].sort((a, b) => a - b),
    runOnPartition: (partition, plan, write) =>
      locks.run(partition, async () => {
        if (!assignment.has(partition) || stopping) return false;
        await ensureReady(partition);
        const offset = committed.get(partition);
        if (offset === undefined) return false;
        const planned = await plan();
        if (planned === undefined) return false;
        try {
          await commitTransaction(partition, offset, (sender, context) => write(planned, sender, context));
        } catch (error) {
          if (isFatalClientError(error)) stopForGood(error as Error, 'this member was fenced or its client failed for good');
          throw error;
        }
        return true;
      }),
    healthy: () => !crashed && [...uncommittedSince.values()].every((since) => Date.now() - since < (definition.stallMs ?? DEFAULT_STALL_MS)),
    stop: async () => {
      stopping = true;
      clearInterval(markerTimer);
      await consumer.disconnect();
      await locks.idle();
      await producers.close();
    },
  };
}
