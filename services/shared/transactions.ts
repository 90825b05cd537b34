// Transactional producers, one per input partition, the way Kafka Streams' EOS-alpha fences:
// the transactional id names the partition (`<prefix>-<topic>-<partition>`), so whichever
// instance is given a partition initialises its producer and thereby fences any earlier owner
// (a paused "zombie" instance can no longer commit for that partition). KafkaJS has no
// consumer-group-aware fencing (KIP-447), so this is the fencing this client allows.
//
// A producer whose commit or abort failed is left in a state KafkaJS will not recover from; it
// is dropped and a fresh one (same transactional id) is made for the next transaction.
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { createProducer } from './kafka';
import type { Logger } from './logger';

function errorType(error: unknown): string | undefined {
  for (let e = error as { type?: string; originalError?: unknown; cause?: unknown } | undefined; e; e = (e.originalError ?? e.cause) as typeof e) {
    if (e.type) return e.type;
  }
  return undefined;
}

export type TransactionOutcome = 'committed' | 'aborted' | 'producer_recreated';

export class PartitionProducers {
  private readonly producers = new Map<number, Promise<Producer>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalIdPrefix: string,
    private readonly logger: Logger,
    private readonly onOutcome: (outcome: TransactionOutcome) => void = () => undefined,
  ) {}

  transactionalId(partition: number): string {
    return `${this.transactionalIdPrefix}-${partition}`;
  }

  /**
   * The partition's producer, connected and initialised. KafkaJS registers the transactional id
   * (InitProducerId, which fences earlier producers with that id and aborts their open
   * transaction) only when the first transaction begins, so an empty one is begun and ended here.
   */
  producer(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition);
    if (!producer) {
      const created = createProducer(this.kafka, this.transactionalId(partition));
      producer = (async () => {
        await created.connect();
        const fence = await created.transaction();
        await fence.abort();
        return created;
      })();
      producer.catch(() => this.producers.delete(partition));
      this.producers.set(partition, producer);
    }
    return producer;
  }

  /**
   * Runs `work` in one transaction of the partition's producer: commit on success, abort on
   * failure. CONCURRENT_TRANSACTIONS (the coordinator still finishing the previous commit; the
   * Java client retries it internally, KafkaJS does not) retries the whole transaction, so `work`
   * must be safe to run again.
   */
  async run<T>(partition: number, work: (transaction: Transaction) => Promise<T>, attempts = 20): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const producer = await this.producer(partition);
      const transaction = await producer.transaction();
      try {
        const result = await work(transaction);
        await transaction.commit();
        this.onOutcome('committed');
        return result;
      } catch (error) {
        const aborted = await transaction.abort().then(
          () => true,
          () => false,
        );
        this.onOutcome('aborted');
        const retriable = errorType(error) === 'CONCURRENT_TRANSACTIONS';
        if (!aborted || !retriable) await this.recreate(partition, error as Error);
        if (!retriable || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
      }
    }
  }

  /** Drops a producer whose state cannot be trusted; the next transaction makes a fresh one. */
  private async recreate(partition: number, cause: Error): Promise<void> {
    const producer = this.producers.get(partition);
    this.producers.delete(partition);
    this.onOutcome('producer_recreated');
    this.logger.warn({ partition, transactionalId: this.transactionalId(partition), err: { message: cause.message, type: errorType(cause) } }, 'transaction failed; the producer will be recreated');
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  /** Disconnects the producer of a partition this instance no longer owns. */
  async release(partition: number): Promise<void> {
    const producer = this.producers.get(partition);
    this.producers.delete(partition);
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  partitions(): number[] {
    return [...this.producers.keys()];
  }

  async close(): Promise<void> {
    await Promise.all(this.partitions().map((p) => this.release(p)));
  }
}
