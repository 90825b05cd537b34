// Redis adapters the fan-out keeps its durable state in:
//  - the delivery ledger: which (eventId, party) copies went out, so a repeated eventId is delivered once;
//  - the pending store: records whose owners are not known yet, with the time they give up waiting.
import type Redis from 'ioredis';
import type { VisibilityRecord } from '../shared/contracts';
import { execAll } from '../shared/redis';

const DELIVERED = (eventId: string) => `fanout:delivered:${eventId}`;
const PENDING_BY_DEADLINE = 'fanout:pending';
const PENDING_RECORDS = 'fanout:pending:records';

export class DeliveryLedger {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  /** Parties each event was already delivered to: one round trip for the batch. */
  async deliveredTo(eventIds: string[]): Promise<Map<string, Set<string>>> {
    const unique = [...new Set(eventIds)];
    const result = new Map<string, Set<string>>();
    if (unique.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const id of unique) pipeline.smembers(DELIVERED(id));
    const replies = await execAll(pipeline);
    unique.forEach((id, i) => result.set(id, new Set(replies[i] as string[])));
    return result;
  }

  /** Records delivered copies (VisibilityRecords with a recipient): one round trip. */
  async markDelivered(copies: VisibilityRecord[]): Promise<void> {
    if (copies.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { eventId, recipientPartyId } of copies) {
      pipeline.sadd(DELIVERED(eventId), recipientPartyId!);
      pipeline.expire(DELIVERED(eventId), this.ttlSeconds);
    }
    await execAll(pipeline);
  }
}

export interface PendingRecord {
  record: VisibilityRecord;
  deadline: number;
}

export class PendingStore {
  constructor(private readonly redis: Redis) {}

  async add(records: VisibilityRecord[], deadline: number): Promise<void> {
    if (records.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const record of records) {
      // NX: a repeated event keeps the deadline of its first arrival.
      pipeline.zadd(PENDING_BY_DEADLINE, 'NX', String(deadline), record.eventId);
      pipeline.hset(PENDING_RECORDS, record.eventId, JSON.stringify(record));
    }
    await execAll(pipeline);
  }

  /** The records waiting longest first, at most `limit` of them. */
  async list(limit: number): Promise<PendingRecord[]> {
    const flat = await this.redis.zrange(PENDING_BY_DEADLINE, '0', String(limit - 1), 'WITHSCORES');
    if (flat.length === 0) return [];
    const ids: string[] = [];
    const deadlines: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i]);
      deadlines.push(Number(flat[i + 1]));
    }
    const bodies = await this.redis.hmget(PENDING_RECORDS, ...ids);
    const result: PendingRecord[] = [];
    bodies.forEach((body, i) => {
      if (body) result.push({ record: JSON.parse(body) as VisibilityRecord, deadline: deadlines[i] });
    });
    return result;
  }

  async remove(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    pipeline.zrem(PENDING_BY_DEADLINE, ...eventIds);
    pipeline.hdel(PENDING_RECORDS, ...eventIds);
    await execAll(pipeline);
  }

  async size(): Promise<number> {
    return this.redis.zcard(PENDING_BY_DEADLINE);
  }
}
