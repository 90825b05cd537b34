// A stage reads one topic in batches and processes each batch exactly once, top to bottom:
//   parse every message (anything that fails, for any reason, goes to the DLQ untouched)
//   -> the service's handler writes its output
//   -> the DLQ entries, the output and the consumed offsets commit in ONE Kafka transaction,
//      shared with the other partitions' batches in flight (transactions.ts: one producer per
//      instance, group commit; partitionCommits.ts: the commit witness, recovery)
//   -> the handler's after-commit work (e.g. applying a state delta) runs.
// Partitions are processed concurrently, each under its own lock, which timer work on the
// partition (runOnPartition, markerCommits.ts) shares. This file wires the consumer, its
// rebalances and the batch loop; the transactions, parsing and marker commits live beside it.
import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { parseBatch, type Parsed } from './batchParsing';
import { sendBounded, type Sender } from './boundedSend';
import type { Config } from './config';
import { deadLetterMessages, type SourceMessage } from './dlq';
import type { Faults } from './faults';
import { isFatalClientError, watchFatalErrors, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage } from './kafka';
import type { Logger } from './logger';
import { MarkerCommits } from './markerCommits';
import type { Metrics } from './metrics';
import { PartitionCommits, type AfterCommit, type CommitWitness, type TransactionContext } from './partitionCommits';
import { PartitionEnds } from './partitionEnds';
import { KeyedLock } from './partitionLock';
import { InstanceTransactions } from './transactions';
import { ProgressWatch } from './progressWatch';
import { isProgrammingError, isStateLost, isStoreUnavailable } from './stateLost';
import { groupLag } from './groups';

export type { Sender } from './boundedSend';
export type { Parsed } from './batchParsing';
export type { AfterCommit, CommitWitness, TransactionContext } from './partitionCommits';

export interface StageDefinition<T> {
  /** Service name, used in logs, metrics and transactional ids. */
  name: string;
  groupId: string;
  topic: string;
  /** Prefix of the instances' transactional ids (unique per deployment, shared by its instances). */
  transactionalIdPrefix: string;
  /** Where the group starts when it has no committed offsets (default: the beginning). */
  fromBeginning?: boolean;
  /** Input partitions processed at once (default: all of them). */
  concurrency?: number;
  /** Upper bound of one produce request (default DEFAULT_MAX_SEND_BYTES). */
  maxSendBytes?: number;
  /** A batch that has been received but not committed for this long makes the stage unhealthy. */
  stallMs?: number;
  /** Owning records waiting yet committing nothing for this long stops the stage for good (the process exits). */
  stuckExitMs?: number;
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
  /** This instance's transactional id (one producer per instance). */
  transactionalId: string;
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
    stuckExitMs: config.stageStuckExitMs,
    sessionTimeoutMs: config.sessionTimeoutMs,
    instanceId: config.kafkaInstanceId ? `${config.kafkaInstanceId}-${name}` : undefined,
  } satisfies Partial<StageDefinition<unknown>>;
}

const DEFAULT_STALL_MS = 120_000;
const DEFAULT_STUCK_EXIT_MS = 300_000;
/** How often idle partitions are checked for trailing transaction markers to commit past. */
const MARKER_COMMIT_INTERVAL_MS = 500;
/** Longest a revocation waits for the transaction in flight to commit. */
const REVOKE_DRAIN_MS = 10_000;

export async function startStage<T>(env: StageEnvironment, definition: StageDefinition<T>): Promise<RunningStage> {
  const { kafka, metrics } = env;
  const log = env.logger.child({ stage: definition.name });
  const locks = new KeyedLock<number>();
  let assignment = new Set<number>();
  /** Per partition: when a batch was received that has not been committed yet. */
  const uncommittedSince = new Map<number, number>();
  let crashed = false;
  let stopping = false;
  /** A new assignment starts the progress watch's count afresh. */
  let assignedAt = Date.now();

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
        await commits.fence(); // before the client fetches their offsets (partitionCommits.ts)
        onAssignment([...new Set([...assignment, ...mine])]);
        resolveJoined();
      } else {
        // Commit what is in flight while this member's generation still counts (Kafka Streams
        // commits on revocation); after the rebalance the broker would refuse its offsets and
        // abort the transaction, replaying every partition's batch in it.
        await transactions.drain(REVOKE_DRAIN_MS);
        onAssignment([...assignment].filter((p) => !mine.includes(p)));
      }
    },
  } as KafkaJS.ConsumerConstructorConfig);

  const transactions = new InstanceTransactions({
    kafka,
    // Stable per instance when it has an id, so a restarted instance fences its predecessor at once.
    transactionalId: `${definition.transactionalIdPrefix}-${definition.topic}-${definition.instanceId ?? randomUUID()}`,
    consumer,
    logger: log,
    onOutcome: (outcome, members) => {
      metrics.transactions.inc({ service: definition.name, outcome });
      if (outcome === 'committed') metrics.transactionMembers.inc({ service: definition.name }, members);
    },
  });
  const commits = new PartitionCommits({
    stage: definition.name,
    topic: definition.topic,
    consumer,
    transactions,
    faults: env.faults,
    log,
    recover: definition.recover?.bind(definition),
    unresolvedTransaction: definition.unresolvedTransaction?.bind(definition),
  });
  const ends = new PartitionEnds(definition.topic);
  const markers = new MarkerCommits({
    ends,
    commits,
    locks,
    owned: () => assignment,
    owns: (partition) => assignment.has(partition),
    idle: (partition) => !uncommittedSince.has(partition),
    stopping: () => stopping,
    log,
  });

  function stopForGood(error: Error, why: string): void {
    if (crashed || stopping) return;
    crashed = true;
    log.fatal({ err: { name: error.name, message: error.message, code: (error as { code?: number }).code } }, why);
    env.onFatal(error);
  }

  function onAssignment(partitions: number[]): void {
    const next = new Set(partitions);
    assignedAt = Date.now();
    const lost = [...assignment].filter((p) => !next.has(p));
    assignment = next;
    for (const partition of lost) {
      void locks.run(partition, async () => {
        if (assignment.has(partition)) return;
        uncommittedSince.delete(partition);
        ends.forget(partition);
        commits.forget(partition);
        await definition.revoked?.(partition);
      });
    }
  }

  const processBatch = async ({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload) => {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    if (!uncommittedSince.has(batch.partition)) uncommittedSince.set(batch.partition, Date.now());
    await commits.ensureReady(batch.partition);
    // Defence in depth: once fenced, the committed offset is stable, and what lies below it was
    // processed in a committed transaction; should the consumer start below it (a position
    // fetched before a previous owner's transaction completed), those records are skipped.
    const floor = commits.committed(batch.partition);
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
    const { good, dead } = parseBatch(batch.topic, batch.partition, messages, (source) => definition.parse(source));
    const last = batch.lastOffset();
    await commits.commit(
      batch.partition,
      (BigInt(last) + 1n).toString(),
      async (sender, context) => {
        await sendBounded(sender, deadLetterMessages(dead, definition.name), definition.maxSendBytes);
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

  /** Bugs and fatal client errors stop the process (its supervisor restarts it); the rest replays. */
  function classify(error: unknown, partition: number, what: string): void {
    const { name, message } = error as Error;
    if (isProgrammingError(error)) {
      // A bug replays the same way every time: stop instead of looping on the batch.
      stopForGood(error as Error, 'stage stopped for good');
    } else if (isStoreUnavailable(error)) {
      log.warn({ partition, reason: message }, 'a store this stage needs is not ready; the work waits');
    } else if (isStateLost(error)) {
      stopForGood(error as Error, 'state this stage relies on is gone; exiting so the next start restores it');
    } else if (isFatalClientError(error)) {
      stopForGood(error as Error, 'this member was fenced or its client failed for good');
    } else {
      log.error({ partition, err: { message, name, code: (error as { code?: number }).code } }, what);
    }
  }

  await consumer.connect();
  ends.attach(consumer);
  watchFatalErrors(consumer, (error) => stopForGood(error, 'the Kafka client failed for good'));
  await consumer.subscribe({ topics: [definition.topic] });
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: definition.concurrency ?? 6,
    eachBatch: async (fetched) => {
      try {
        await locks.run(fetched.batch.partition, () => processBatch(fetched));
      } catch (error) {
        classify(error, fetched.batch.partition, 'batch failed; it will be retried');
        // A store being restored: wait a little rather than replay the batch in a tight loop.
        if (isStoreUnavailable(error)) await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
        // The batch's transaction was aborted (its producer replaced if need be): the client
        // seeks back and hands the batch over again.
        throw error;
      }
    },
  });
  markers.start(MARKER_COMMIT_INTERVAL_MS);
  // A member that owns work but commits nothing for stuckExitMs is stuck: exit so the supervisor restarts it.
  const watch = new ProgressWatch({
    quietMs: definition.stuckExitMs ?? DEFAULT_STUCK_EXIT_MS,
    owned: () => [...assignment],
    lastProgressAt: () => Math.max(commits.lastCommitAt, assignedAt),
    lag: (partitions) => groupLag(kafka, definition.groupId, definition.topic, partitions),
    // If restarts do not help either, the usual cause is a transaction the broker left open on the
    // input or on __consumer_offsets (README, "Hanging transactions"): `infra/stack/kafka.sh hanging`.
    onStuck: (error) => stopForGood(error, 'stage made no progress while records wait; if this repeats after restarts, look for a hanging transaction (kafka-transactions find-hanging)'),
  });
  watch.start(Math.min(5_000, definition.stuckExitMs ?? DEFAULT_STUCK_EXIT_MS));
  log.info({ topic: definition.topic, groupId: definition.groupId }, 'stage started');

  return {
    consumer,
    transactionalId: transactions.transactionalId,
    joined,
    assigned: () => [...assignment].sort((a, b) => a - b),
    runOnPartition: (partition, plan, write) =>
      locks.run(partition, async () => {
        if (!assignment.has(partition) || stopping) return false;
        await commits.ensureReady(partition);
        const offset = commits.committed(partition);
        if (offset === undefined) return false;
        try {
          const planned = await plan();
          if (planned === undefined) return false;
          await commits.commit(partition, offset, (sender, context) => write(planned, sender, context));
        } catch (error) {
          if (isStoreUnavailable(error)) return false; // the next tick tries again
          if (isFatalClientError(error) || isStateLost(error)) classify(error, partition, 'timer work failed');
          throw error;
        }
        return true;
      }),
    healthy: () => !crashed && [...uncommittedSince.values()].every((since) => Date.now() - since < (definition.stallMs ?? DEFAULT_STALL_MS)),
    stop: async () => {
      stopping = true;
      markers.stop();
      watch.stop();
      await consumer.disconnect();
      await locks.idle();
      await commits.close();
    },
  };
}

