// A stage's commits, per input partition, the way Kafka Streams commits a task: the output and
// the consumed offsets commit in one transaction (transactions.ts: the instance's one producer,
// shared by the partitions working at the same time). Every offset commit carries the
// transaction's id as its metadata, the witness by which, after a crash or a commit whose answer
// was lost, the stage (and the service's recovery) tells whether that transaction committed. A
// partition is "ready" once its committed offset and witness are read (stable: an earlier owner's
// transaction still open on them holds the read until it ends) and the service has recovered
// from the witness.
import type { Sender } from './boundedSend';
import type { Faults } from './faults';
import type { Consumer } from './kafka';
import type { Logger } from './logger';
import type { InstanceTransactions } from './transactions';

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

export interface PartitionCommitsOptions {
  stage: string;
  topic: string;
  consumer: Consumer;
  transactions: InstanceTransactions;
  faults: Faults;
  log: Logger;
  /** Finishes what a crash interrupted, from the witness (see StageDefinition.recover). */
  recover?(partition: number, witness: CommitWitness | undefined): Promise<void>;
  /** A transaction whose outcome recovery needs; its witness gets a short grace period to appear. */
  unresolvedTransaction?(partition: number): Promise<string | null>;
}

const WITNESS_GRACE_MS = 3_000;
const WITNESS_FETCH_TIMEOUT_MS = 30_000;
/** Longest a start waits for the instance's producer to fence its predecessor. */
const FENCE_BEFORE_FETCH_MS = 15_000;

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

export class PartitionCommits {
  /** Per owned partition: recovery done (a promise, so concurrent callers wait for the same one). */
  private readonly ready = new Map<number, Promise<void>>();
  private readonly offsets = new Map<number, string>();
  /** When any partition last committed (the progress watch reads it). */
  lastCommitAt = Date.now();

  constructor(private readonly options: PartitionCommitsOptions) {}

  /** The partition's committed offset as this instance knows it (after ensureReady). */
  committed(partition: number): string | undefined {
    return this.offsets.get(partition);
  }

  /**
   * Registers the instance's transactional id, which fences a crashed predecessor with the same
   * id (a restarted instance) and aborts its open transaction. Done when partitions are assigned,
   * before the client fetches their committed offsets: that open transaction keeps them
   * "unstable" (KIP-447) until it is aborted, otherwise only by its timeout. Bounded, so a broker
   * outage does not hold the rebalance.
   */
  async fence(): Promise<void> {
    const fenced = this.options.transactions.producer().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([fenced, new Promise((resolve) => (timer = setTimeout(resolve, FENCE_BEFORE_FETCH_MS)))]);
    clearTimeout(timer);
  }

  /** First use of a partition after it was assigned: fence, learn the committed position, recover. */
  ensureReady(partition: number): Promise<void> {
    let pending = this.ready.get(partition);
    if (!pending) {
      pending = (async () => {
        await this.options.transactions.producer();
        let witness = await this.fetchWitness(partition);
        // Fencing waits for the previous owner's last transaction to complete and the offset fetch
        // asks for stable offsets; a transaction recovery asks about still gets a short grace
        // period to appear, in case the coordinator moved (a broker restart) in between.
        const asked = await this.options.unresolvedTransaction?.(partition);
        for (const deadline = Date.now() + WITNESS_GRACE_MS; asked && witness?.transactionId !== asked && Date.now() < deadline; ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          witness = await this.fetchWitness(partition);
        }
        if (witness) this.offsets.set(partition, witness.offset);
        else this.offsets.delete(partition);
        await this.options.recover?.(partition, witness);
      })();
      pending.catch(() => this.ready.delete(partition));
      this.ready.set(partition, pending);
    }
    return pending;
  }

  /**
   * The work's output and the offset, with the transaction's id as witness, in the instance's
   * transaction; `onCommitted` runs as soon as it has committed, then the work's after-commit
   * follow-up.
   */
  async commit(
    partition: number,
    offset: string,
    work: (sender: Sender, context: TransactionContext) => Promise<AfterCommit>,
    onCommitted: () => void = () => undefined,
  ): Promise<void> {
    const { transactions, topic, faults, stage, log } = this.options;
    let transactionId: string | undefined;
    let written: AfterCommit = undefined;
    let afterCommit: AfterCommit;
    try {
      ({ result: afterCommit } = await transactions.run([{ topic, partition, offset }], async (sender, id) => {
        transactionId = id;
        written = await work(sender, { partition, transactionId: id });
        faults.check(stage, 'before-commit');
        return written;
      }));
    } catch (error) {
      // A commit whose answer was lost (the broker went away during EndTxn) may have committed.
      // A fresh producer with the instance's id completes or aborts it; the witness then says
      // which. Treating a committed transaction as failed would process its batch a second time.
      if (transactionId === undefined || !(await this.committedAfterAll(partition, transactionId))) {
        // Before the retry: re-read the witness (the committed offset becomes the floor below
        // which records are skipped) and recover any state the witness confirms.
        this.ready.delete(partition);
        throw error;
      }
      log.warn({ partition, transactionId }, 'the commit reported a failure but had committed; carrying on');
      afterCommit = written;
    }
    this.offsets.set(partition, offset);
    this.lastCommitAt = Date.now();
    onCommitted();
    if (!afterCommit) return;
    try {
      faults.check(stage, 'after-commit');
      await afterCommit();
    } catch (error) {
      // Committed, but the follow-up did not finish (e.g. Redis unreachable): before any further
      // work on this partition, recovery finishes it from what the commit witness says.
      this.ready.delete(partition);
      throw error;
    }
  }

  /** The partition went to another member: forget what this instance knew of it. */
  forget(partition: number): void {
    this.ready.delete(partition);
    this.offsets.delete(partition);
  }

  close(): Promise<void> {
    return this.options.transactions.close();
  }

  private async fetchWitness(partition: number): Promise<CommitWitness | undefined> {
    // Through the group's own consumer, which asks for stable offsets (read_committed): a
    // transaction still completing makes the broker answer "retry", never an older offset.
    const [entry] = await this.options.consumer.committed([{ topic: this.options.topic, partition }], WITNESS_FETCH_TIMEOUT_MS);
    const offset = committedOffset(entry?.offset);
    if (offset === undefined) return undefined;
    return { offset, transactionId: (entry as { metadata?: string | null }).metadata ?? null };
  }

  private async committedAfterAll(partition: number, transactionId: string): Promise<boolean> {
    try {
      await this.options.transactions.producer();
      return (await this.fetchWitness(partition))?.transactionId === transactionId;
    } catch {
      return false; // unknown: the batch is retried, and recovery (ensureReady) runs first
    }
  }
}
