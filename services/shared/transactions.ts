// Transactional producers, one per input partition: the transactional id names the partition
// (`<prefix>-<topic>-<partition>`), so whichever instance is given a partition registers the id
// and thereby fences any earlier owner's producer and aborts its open transaction. Offsets are
// also sent with the consumer's group generation (KIP-447), so a member that lost the partition
// in a rebalance cannot commit for it either: two fences, one per failure mode.
//
// A producer whose commit or abort failed may be in a state it will not recover from; it is
// dropped and a fresh one (same transactional id) is made for the next transaction.
import { createProducer, type Kafka, type Producer, type Transaction } from './kafka';
import type { Logger } from './logger';

export type TransactionOutcome = 'committed' | 'aborted' | 'producer_recreated';

function describe(error: unknown): { message: string; code?: number } {
  const e = error as { message?: string; code?: number } | undefined;
  return { message: String(e?.message ?? error), code: e?.code };
}

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

  /** The partition's producer, connected; connecting registers the id (InitProducerId) and fences. */
  producer(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition);
    if (!producer) {
      const created = createProducer(this.kafka, this.transactionalId(partition));
      producer = created.connect().then(() => created);
      producer.catch(() => this.producers.delete(partition));
      this.producers.set(partition, producer);
    }
    return producer;
  }

  /** Runs `work` in one transaction of the partition's producer: commit on success, abort on failure. */
  async run<T>(partition: number, work: (transaction: Transaction) => Promise<T>): Promise<T> {
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
      if (!aborted) await this.recreate(partition, error);
      throw error;
    }
  }

  /** Drops a producer whose state cannot be trusted; the next transaction makes a fresh one. */
  private async recreate(partition: number, cause: unknown): Promise<void> {
    const producer = this.producers.get(partition);
    this.producers.delete(partition);
    this.onOutcome('producer_recreated');
    this.logger.warn({ partition, transactionalId: this.transactionalId(partition), err: describe(cause) }, 'transaction failed; the producer will be recreated');
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
