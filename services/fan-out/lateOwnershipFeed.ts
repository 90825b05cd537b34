// What late registration data asks of one input partition: reads own:changes after the
// partition's cursor (a bounded number per step), keeps the devices that live on this partition,
// and finds their archived events from each change's effective date on. Entries trimmed from the
// stream before being read, and rebuild announcements, are never skipped silently. Changes are
// read only as far as the archive is known to hold every copy delivered before them.
import type Redis from 'ioredis';
import type { ArchiveReader, ArchivedRecord } from '../shared/archive';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import { EVERYTHING_CHANGED, KEYS, devicesAffected, isInitialised, readChanges } from '../shared/ownershipStore';
import { streamIdBefore, type ArchiveFrontier } from './archiveFrontier';
import type { FanOutState } from './fanOutState';
import { partitionOfKey } from './partitioning';

export interface LateWork {
  /** The cursor to store once this work has committed. */
  cursor: string;
  deviceIds: string[];
  archived: ArchivedRecord[];
}

export class LateOwnershipFeed {
  constructor(
    private readonly redis: Redis,
    private readonly state: FanOutState,
    private readonly archive: ArchiveReader,
    private readonly frontier: ArchiveFrontier,
    private readonly partitions: number,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly changesPerStep = 500,
  ) {}

  async next(partition: number): Promise<LateWork | undefined> {
    const archive = this.archive;
    // While the store is being rebuilt (own:initialised absent) it answers from part of the facts:
    // an owner missing from that answer would have its copies retracted, wrongly and for good. The
    // work waits; the cursor stays, and the rebuild's announcement brings what it delivered meanwhile.
    if (!(await isInitialised(this.redis))) return undefined;
    const cursor = await this.state.lateCursor(partition);
    if (cursor === null) {
      // A partition's first step starts at the stream's end: nothing before this fan-out existed.
      const { cursor: end } = await readChanges(this.redis, '');
      await this.state.setLateCursor(partition, end);
      return undefined;
    }
    const [first] = await this.redis.xrange(KEYS.changes, '-', '+', 'COUNT', 1);
    if (first && cursor !== '0-0' && streamIdBefore(cursor, first[0])) {
      this.metrics.lateOwnershipGaps.inc();
      this.log.error({ partition, cursor, oldest: first[0] }, 'own:changes was trimmed past this partition\'s cursor: registration changes may have been missed (run ownership:rebuild)');
    }
    // Only changes whose earlier copies the archiver has archived (archiveFrontier.ts).
    const through = await this.frontier.through(partition, cursor);
    if (through === undefined) return undefined;
    const { changes, cursor: next } = await readChanges(this.redis, cursor, this.changesPerStep, through);
    if (changes.length === 0) return undefined;

    const mine = (deviceId: string) => partitionOfKey(deviceId, this.partitions) === partition;
    const affected = new Map([...(await devicesAffected(this.redis, changes))].filter(([deviceId]) => mine(deviceId)));
    const rebuilds = changes.filter((c) => c.key === EVERYTHING_CHANGED);
    let archived: ArchivedRecord[] = [];
    if (affected.size > 0) {
      const earliest = Math.min(...affected.values());
      archived = (await archive.findForDevices([...affected.keys()], earliest)).filter((r) => r.eventTime >= affected.get(r.deviceId)!);
    }
    for (const rebuild of rebuilds) {
      // A rebuild restores facts without announcing each; whatever was delivered while the store
      // was being refilled is looked at again (rebuild.effectiveFrom = when the rebuild began).
      const since = (await archive.findArchivedSince(rebuild.effectiveFrom)).filter((r) => mine(r.deviceId));
      archived.push(...since);
      for (const r of since) if (!affected.has(r.deviceId)) affected.set(r.deviceId, r.eventTime);
    }
    if (archived.length === 0) {
      // Nothing delivered depends on these changes: the cursor moves on without a transaction.
      await this.state.setLateCursor(partition, next);
      return undefined;
    }
    return { cursor: next, deviceIds: [...affected.keys()], archived };
  }
}
