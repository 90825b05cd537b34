// The fan-out's delivery state (shared/deliveryState.ts) under fanout:{<GROUP_PREFIX>}: the ledger
// of (eventId, party) copies, records waiting for owners, the late-ownership cursor, intents.
import type Redis from 'ioredis';
import type { VisibilityRecord } from '../shared/contracts';
import { DeliveryState, type WaitingChangelog } from '../shared/deliveryState';
import { execAll } from '../shared/redis';

export { deliveredPairs, emptyDelta, isEmptyDelta } from '../shared/deliveryState';
export type PendingRecord = import('../shared/deliveryState').PendingRecord<VisibilityRecord>;
export type StateDelta = import('../shared/deliveryState').StateDelta<VisibilityRecord>;

export class FanOutState extends DeliveryState<VisibilityRecord> {
  constructor(redis: Redis, ledgerTtlSeconds: number, deployment: string, changelog: WaitingChangelog) {
    super(redis, ledgerTtlSeconds, `fanout:{${deployment}}`, (record) => record.eventId, changelog);
  }

  /**
   * Moves records waiting under the single-instance layout of earlier versions (fanout:pending,
   * fanout:pending:records) to their partitions' sets, so none is stranded by an upgrade.
   */
  async migrateLegacyPending(partitionOf: (deviceId: string) => number): Promise<number> {
    const flat = await this.redis.zrange('fanout:pending', '0', '-1', 'WITHSCORES');
    if (flat.length === 0) return 0;
    const bodies = await this.redis.hgetall('fanout:pending:records');
    const multi = this.redis.multi();
    let moved = 0;
    for (let i = 0; i < flat.length; i += 2) {
      const body = bodies[flat[i]];
      if (!body) continue;
      const partition = partitionOf((JSON.parse(body) as VisibilityRecord).deviceId);
      multi.zadd(this.keys.pending(partition), 'NX', flat[i + 1], flat[i]);
      multi.hset(this.keys.pendingRecords(partition), flat[i], body);
      moved++;
    }
    multi.del('fanout:pending', 'fanout:pending:records');
    await execAll(multi);
    return moved;
  }

}
