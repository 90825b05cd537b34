// Moves idle partitions' offsets past trailing transaction markers (see partitionEnds.ts), each in
// a transaction of its own under the partition's lock, so a caught-up group reports zero lag, as a
// Java consumer's would. A timer: it runs every interval until stopped.
import type { Logger } from './logger';
import type { PartitionCommits } from './partitionCommits';
import type { PartitionEnds } from './partitionEnds';
import type { KeyedLock } from './partitionLock';

export interface MarkerCommitsOptions {
  ends: PartitionEnds;
  commits: PartitionCommits;
  locks: KeyedLock<number>;
  /** Partitions owned now. */
  owned(): Iterable<number>;
  owns(partition: number): boolean;
  /** Is the partition free of received-but-uncommitted work? */
  idle(partition: number): boolean;
  stopping(): boolean;
  log: Logger;
}

export class MarkerCommits {
  private readonly inFlight = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: MarkerCommitsOptions) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const { ends, commits, locks, log } = this.options;
    for (const partition of this.options.owned()) {
      if (this.options.stopping() || this.inFlight.has(partition) || !this.options.idle(partition) || locks.busy(partition)) continue;
      if (ends.markerOffset(partition, commits.committed(partition)) === undefined) continue;
      this.inFlight.add(partition);
      void locks
        .run(partition, async () => {
          if (this.options.stopping() || !this.options.owns(partition)) return;
          await commits.ensureReady(partition);
          const target = ends.markerOffset(partition, commits.committed(partition));
          if (target !== undefined) await commits.commit(partition, target, async () => undefined);
        })
        .catch((error: Error) => log.warn({ partition, err: { message: error.message } }, 'committing past transaction markers failed; retried later'))
        .finally(() => this.inFlight.delete(partition));
    }
  }
}
