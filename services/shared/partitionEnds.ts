// Where each partition's committed records end, as far as this consumer knows. A transactional
// topic's partitions end in commit markers (and may hold aborted records), which the client never
// hands over, so a stage that commits "last record + 1" shows a lag of one per partition for good.
// The client reports the true end of a partition (`partition.eof`, past markers, never past an
// open transaction); once every data record seen below that end is committed, the stage may move
// its offset to it. Records the client has fetched but not yet handed to the stage count as seen,
// so an end is never committed over them.
import type { Consumer } from './kafka';

interface ClientEvents {
  on(event: 'data', listener: (message: { topic: string; partition: number; offset: number }) => void): void;
  on(event: 'partition.eof', listener: (end: { topic: string; partition: number; offset: number }) => void): void;
}

export class PartitionEnds {
  /** Per partition: the offset after the last data record the client fetched. */
  private readonly seen = new Map<number, bigint>();
  /** Per partition: the end the client last reported. */
  private readonly ends = new Map<number, bigint>();

  constructor(private readonly topic: string) {}

  /** Listens to the client under the consumer (after connect); needs `enable.partition.eof`. */
  attach(consumer: Consumer): void {
    PartitionEnds.attach(consumer, [this]);
  }

  /** One pair of listeners for several topics' trackers (a reader of many topics). */
  static attach(consumer: Consumer, trackers: PartitionEnds[]): void {
    const byTopic = new Map(trackers.map((tracker) => [tracker.topic, tracker]));
    const client = (consumer as unknown as { _getInternalClient(): ClientEvents })._getInternalClient();
    client.on('data', ({ topic, partition, offset }) => byTopic.get(topic)?.sawRecord(partition, offset));
    client.on('partition.eof', ({ topic, partition, offset }) => byTopic.get(topic)?.sawEnd(partition, offset));
  }

  private sawRecord(partition: number, offset: number): void {
    const next = BigInt(offset) + 1n;
    if (next > (this.seen.get(partition) ?? -1n)) this.seen.set(partition, next);
  }

  private sawEnd(partition: number, offset: number): void {
    if (offset >= 0) this.ends.set(partition, BigInt(offset));
  }

  /**
   * The offset to commit to move past trailing markers, or undefined: nothing to move past, or
   * data records fetched but not committed yet.
   */
  markerOffset(partition: number, committed: string | undefined): string | undefined {
    const end = this.ends.get(partition);
    if (end === undefined) return undefined;
    const seen = this.seen.get(partition);
    const done = committed === undefined ? undefined : BigInt(committed);
    if (seen !== undefined && (done === undefined || done < seen)) return undefined;
    if (done !== undefined && end <= done) return undefined;
    return end.toString();
  }

  /** Has the client reported the partition's end, with every record fetched before it handed over (`handed` = next offset)? */
  caughtUp(partition: number, handed: string | undefined): boolean {
    const end = this.ends.get(partition);
    if (end === undefined) return false;
    const seen = this.seen.get(partition);
    return seen === undefined || (handed !== undefined && BigInt(handed) >= seen);
  }

  /** The partition went to another member: what was seen here says nothing any more. */
  forget(partition: number): void {
    this.seen.delete(partition);
    this.ends.delete(partition);
  }
}
