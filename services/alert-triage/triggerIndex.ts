// The audit records an alert may point at, kept in Redis by device and by request for
// ALERT_TRIGGER_RETENTION_MS (payload-free records from visibility.records), under <namespace>:
//   trigger:<eventId>        STRING  the record as JSON, expiring
//   device:<deviceId>        ZSET    eventId -> eventTime; entries older than the retention trimmed on write
//   request:<requestId>      SET     eventIds of the request's events, expiring
// Writes are idempotent (a replayed batch writes the same again). Lookups for a batch of alerts
// take two round trips.
import type Redis from 'ioredis';
import type { VisibilityRecord } from '../shared/contracts';
import { execAll } from '../shared/redis';
import type { AlertFacts } from './correlation';

export class TriggerIndex {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly retentionMs: number,
  ) {}

  private key(kind: 'trigger' | 'device' | 'request', id: string): string {
    return `${this.namespace}:${kind}:${id}`;
  }

  async add(records: VisibilityRecord[]): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.redis.pipeline();
    const newestByDevice = new Map<string, number>();
    for (const record of records) {
      pipeline.set(this.key('trigger', record.eventId), JSON.stringify(record), 'PX', this.retentionMs);
      pipeline.zadd(this.key('device', record.deviceId), String(record.eventTime), record.eventId);
      pipeline.sadd(this.key('request', record.requestId), record.eventId);
      pipeline.pexpire(this.key('request', record.requestId), this.retentionMs);
      newestByDevice.set(record.deviceId, Math.max(record.eventTime, newestByDevice.get(record.deviceId) ?? -Infinity));
    }
    for (const [deviceId, newest] of newestByDevice) {
      pipeline.zremrangebyscore(this.key('device', deviceId), '-inf', `(${newest - this.retentionMs}`);
      pipeline.pexpire(this.key('device', deviceId), this.retentionMs);
    }
    await execAll(pipeline);
  }

  /**
   * For each alert (by position): the records of the request it names, or its device's records
   * from `lookbackMs` before it up to it. Records whose body has expired are left out.
   */
  async candidates(alerts: AlertFacts[], lookbackMs: number): Promise<VisibilityRecord[][]> {
    if (alerts.length === 0) return [];
    const ids = this.redis.pipeline();
    for (const alert of alerts) {
      if (alert.requestId) ids.smembers(this.key('request', alert.requestId));
      else ids.zrangebyscore(this.key('device', alert.deviceId), String(alert.eventTime - lookbackMs), String(alert.eventTime));
    }
    const perAlert = (await execAll(ids)) as string[][];
    const unique = [...new Set(perAlert.flat())];
    if (unique.length === 0) return alerts.map(() => []);
    const bodies = await this.redis.mget(...unique.map((id) => this.key('trigger', id)));
    const byId = new Map<string, VisibilityRecord>();
    unique.forEach((id, i) => {
      if (bodies[i]) byId.set(id, JSON.parse(bodies[i]!) as VisibilityRecord);
    });
    return perAlert.map((eventIds) => eventIds.map((id) => byId.get(id)).filter((r): r is VisibilityRecord => r !== undefined));
  }
}
