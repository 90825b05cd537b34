// One transactional producer per stage instance, and group commit: the batches (and timer work) of
// every partition the instance is working on at the moment join ONE Kafka transaction, which
// commits their output and all their offsets together. This is Kafka Streams' exactly-once v2
// (KIP-447): a member that lost a partition in a rebalance cannot commit for it, because the
// offsets go with the consumer's group generation, and the broker then aborts the whole
// transaction. Why one transaction and not one per partition: librdkafka sends one produce request
// per partition, so six per-partition transactions writing to the same ~60 party-topic partitions
// made six times the produce requests, transaction markers and round trips (README, Benchmarks).
//
// The transactional id is stable per instance (`<prefix>-<instance id>` with KAFKA_INSTANCE_ID),
// so a restarted instance fences its crashed predecessor and aborts its open transaction at once.
// Without an instance id it is random, and a crashed instance's open transaction holds its
// partitions' offsets until the transaction times out.
//
// A producer whose commit or abort failed may be in a state it will not recover from; it is
// dropped and a fresh one (same transactional id) is made for the next transaction. Connecting
// the fresh one completes or aborts whatever the old one left open.
import { randomUUID } from 'node:crypto';
import { createProducer, nativeSender, sendOffsetsWithMetadata, type Consumer, type Kafka, type Producer, type Sender, type Transaction } from './kafka';
import type { Logger } from './logger';

export type TransactionOutcome = 'committed' | 'aborted' | 'producer_recreated';

/** An offset a member commits, without metadata: the transaction's id is added as its witness. */
export interface MemberOffset {
  topic: string;
  partition: number;
  offset: string;
}

export interface InstanceTransactionsOptions {
  kafka: Kafka;
  transactionalId: string;
  /** The stage's consumer: offsets are sent with its group generation (KIP-447). */
  consumer: Consumer;
  logger: Logger;
  onOutcome?: (outcome: TransactionOutcome, members: number) => void;
  /** Longest a transaction admits new members; after that it commits as soon as its members are done. */
  maxOpenMs?: number;
}

function describe(error: unknown): { message: string; code?: number } {
  const e = error as { message?: string; code?: number } | undefined;
  return { message: String(e?.message ?? error), code: e?.code };
}

interface OpenTransaction {
  /** Written as every member's offset metadata: the commit witness. */
  id: string;
  begun: Promise<Transaction>;
  /** Members still working in it. */
  members: number;
  /** Members that joined it, in all. */
  joined: number;
  admitting: boolean;
  ending: boolean;
  offsets: Array<MemberOffset & { metadata: string }>;
  /** The first member failure: the transaction aborts, and every member gets this error. */
  failure?: unknown;
  /** Settles when the transaction has committed (resolves) or aborted (rejects). */
  settled: Promise<void>;
  settle(error?: unknown): void;
}

const DEFAULT_MAX_OPEN_MS = 200;

export class InstanceTransactions {
  private current?: Promise<Producer>;
  private open?: OpenTransaction;
  private closed = false;

  constructor(private readonly options: InstanceTransactionsOptions) {}

  get transactionalId(): string {
    return this.options.transactionalId;
  }

  /** The producer, connected; connecting registers the id (InitProducerId), which fences predecessors. */
  producer(): Promise<Producer> {
    if (!this.current) {
      const created = createProducer(this.options.kafka, this.options.transactionalId);
      const connected = created.connect().then(() => created);
      connected.catch(() => {
        if (this.current === connected) this.current = undefined;
      });
      this.current = connected;
    }
    return this.current;
  }

  /**
   * Runs `work` as one member of the instance's open transaction (beginning one if none admits
   * members) and resolves once that transaction has committed with `offsets` in it. If any member
   * fails, or the commit does, the transaction aborts and every member's call rejects: with its
   * own error, or else the one that ended the transaction.
   */
  async run<T>(offsets: MemberOffset[], work: (sender: Sender, transactionId: string) => Promise<T>): Promise<{ result: T; transactionId: string }> {
    const open = await this.join();
    let result: T | undefined;
    let own: { error: unknown } | undefined;
    try {
      const transaction = await open.begun;
      result = await work(nativeSender(transaction), open.id);
      open.offsets.push(...offsets.map((o) => ({ ...o, metadata: open.id })));
    } catch (error) {
      own = { error };
      open.failure ??= error;
      open.admitting = false;
    } finally {
      open.members--;
      if (open.members === 0) this.whenQuiet(open);
    }
    // A member's failure aborts the transaction, so `settled` rejects whenever `own` is set.
    await open.settled.catch((error: unknown) => {
      throw own ? own.error : error;
    });
    return { result: result as T, transactionId: open.id };
  }

  /** Stops admitting members to the open transaction and waits (at most `timeoutMs`) until it ends. */
  async drain(timeoutMs: number): Promise<void> {
    const open = this.open;
    if (!open) return;
    open.admitting = false;
    if (open.members === 0) this.whenQuiet(open);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([open.settled.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  async close(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    await this.drain(timeoutMs);
    const producer = this.current;
    this.current = undefined;
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** The open transaction if it admits members, else a new one once the one ending has ended. */
  private async join(): Promise<OpenTransaction> {
    for (;;) {
      if (this.closed) throw new Error('the stage is stopping; no new transaction is begun');
      const open = this.open;
      if (open?.admitting) {
        open.members++;
        open.joined++;
        return open;
      }
      if (open) {
        await open.settled.catch(() => undefined);
        continue;
      }
      const begun = this.begin();
      begun.members++;
      begun.joined++;
      return begun;
    }
  }

  private begin(): OpenTransaction {
    let settle: (error?: unknown) => void = () => undefined;
    const settled = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
    settled.catch(() => undefined); // members observe it; an unobserved abort is not an unhandled rejection
    const open: OpenTransaction = {
      id: randomUUID(),
      begun: this.producer().then((p) => p.transaction()),
      members: 0,
      joined: 0,
      admitting: true,
      ending: false,
      offsets: [],
      settled,
      settle,
    };
    open.begun.catch(() => undefined);
    this.open = open;
    const admission = setTimeout(() => {
      open.admitting = false;
      if (open.members === 0) this.whenQuiet(open);
    }, this.options.maxOpenMs ?? DEFAULT_MAX_OPEN_MS);
    void open.settled.catch(() => undefined).finally(() => clearTimeout(admission));
    return open;
  }

  /** The last member left: give partitions whose batches are on their way a turn to join, then end it. */
  private whenQuiet(open: OpenTransaction): void {
    setImmediate(() => {
      if (open.members > 0 || open.ending) return;
      void this.end(open);
    });
  }

  private async end(open: OpenTransaction): Promise<void> {
    open.ending = true;
    open.admitting = false;
    let transaction: Transaction | undefined;
    try {
      transaction = await open.begun;
      if (open.failure !== undefined) throw open.failure;
      if (open.offsets.length > 0) await sendOffsetsWithMetadata(transaction, this.options.consumer, open.offsets);
      await transaction.commit();
      this.options.onOutcome?.('committed', open.joined);
      open.settle();
    } catch (error) {
      if (transaction) {
        const aborted = await transaction.abort().then(
          () => true,
          () => false,
        );
        this.options.onOutcome?.('aborted', open.joined);
        if (!aborted) await this.recreate(error);
      } else {
        await this.recreate(error);
      }
      open.settle(error ?? new Error('transaction failed'));
    } finally {
      if (this.open === open) this.open = undefined;
    }
  }

  /** Drops a producer whose state cannot be trusted; the next transaction makes a fresh one. */
  private async recreate(cause: unknown): Promise<void> {
    const producer = this.current;
    this.current = undefined;
    this.options.onOutcome?.('producer_recreated', 0);
    this.options.logger.warn({ transactionalId: this.options.transactionalId, err: describe(cause) }, 'transaction failed; the producer will be recreated');
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }
}
