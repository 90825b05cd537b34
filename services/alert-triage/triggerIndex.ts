// The audit records an alert may point at, kept in Redis by device and by request for
// ALERT_TRIGGER_RETENTION_MS (payload-free records from visibility.records), under <namespace>:
//   trigger:<eventId>        STRING  the record as JSON, expiring
//   device:<deviceId>        ZSET    eventId -> eventTime; entries older than the retention trimmed on write
//   request:<requestId>      SET     eventIds of the request's events, expiring
//   triggers:ready           marker: the index holds the retention window (set by a fresh start or a rebuild)
// Writes are idempotent (a replayed batch writes the same again). A batch is written by one Lua
// script call (the per-record commands run inside Redis: measured, ioredis's per-command objects
// were most of this stage's CPU); lookups for a batch of alerts take two round trips. All keys
// of a namespace share one hash tag, so the script touches one slot.
import type Redis from 'ioredis';
import type { VisibilityRecord } from '../shared/contracts';
import { execAll } from '../shared/redis';
import { StateLostError } from '../shared/stateLost';
import type { AlertFacts } from './correlation';

/**
 * KEYS: the ready marker, then trigger, device, request key per record; ARGV: retention ms, whether
 * to write without the marker (a rebuild), then eventTime, eventId, body per record. Returns -1,
 * writing nothing, when the marker is gone (Redis lost the index) and this is not a rebuild.
 */
const INDEX_SCRIPT = `
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local retention = tonumber(ARGV[1])
local newest = {}
for i = 0, (#KEYS - 1) / 3 - 1 do
  local triggerKey, deviceKey, requestKey = KEYS[3 * i + 2], KEYS[3 * i + 3], KEYS[3 * i + 4]
  local eventTime, eventId = ARGV[3 * i + 3], ARGV[3 * i + 4]
  redis.call('SET', triggerKey, ARGV[3 * i + 5], 'PX', retention)
  redis.call('ZADD', deviceKey, eventTime, eventId)
  redis.call('SADD', requestKey, eventId)
  redis.call('PEXPIRE', requestKey, retention)
  local t = tonumber(eventTime)
  if newest[deviceKey] == nil or t > newest[deviceKey] then newest[deviceKey] = t end
end
for deviceKey, t in pairs(newest) do
  redis.call('ZREMRANGEBYSCORE', deviceKey, '-inf', '(' .. string.format('%d', t - retention))
  redis.call('PEXPIRE', deviceKey, retention)
end
return (#KEYS - 1) / 3
`;
/** Records per script call: bounds how long one call holds Redis. */
const RECORDS_PER_CALL = 500;

type IndexingRedis = Redis & { indexTriggers(numberOfKeys: number, ...args: string[]): Promise<number> };

export class TriggerIndex {
  private readonly redis: IndexingRedis;

  constructor(
    redis: Redis,
    private readonly namespace: string,
    private readonly retentionMs: number,
  ) {
    if (!('indexTriggers' in redis)) redis.defineCommand('indexTriggers', { lua: INDEX_SCRIPT });
    this.redis = redis as IndexingRedis;
  }

  private key(kind: 'trigger' | 'device' | 'request', id: string): string {
    return `${this.namespace}:${kind}:${id}`;
  }

  private get readyKey(): string {
    return `${this.namespace}:triggers:ready`;
  }

  /** Whether the index holds its window (false after Redis lost it, or before a deployment's first start). */
  async ready(): Promise<boolean> {
    return (await this.redis.exists(this.readyKey)) === 1;
  }

  async markReady(): Promise<void> {
    await this.redis.set(this.readyKey, '1');
  }

  /** Indexes records (idempotent); refuses (StateLostError) if the index was lost, unless rebuilding it. */
  async add(records: VisibilityRecord[], { rebuilding = false } = {}): Promise<void> {
    for (let start = 0; start < records.length; start += RECORDS_PER_CALL) {
      const chunk = records.slice(start, start + RECORDS_PER_CALL);
      const keys: string[] = [this.readyKey];
      const args: string[] = [String(this.retentionMs), rebuilding ? '1' : '0'];
      for (const record of chunk) {
        keys.push(this.key('trigger', record.eventId), this.key('device', record.deviceId), this.key('request', record.requestId));
        args.push(String(record.eventTime), record.eventId, JSON.stringify(record));
      }
      if ((await this.redis.indexTriggers(keys.length, ...keys, ...args)) === -1) throw new StateLostError('the trigger index lost its data (triggers:ready is gone)');
    }
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
    ids.exists(this.readyKey);
    const replies = await execAll(ids);
    // Deciding on a lost index would call alerts unexplained: stop, and let the restart rebuild it.
    if (replies.pop() !== 1) throw new StateLostError('the trigger index lost its data (triggers:ready is gone)');
    const perAlert = replies as string[][];
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
