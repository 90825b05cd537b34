// A delivering stage's state in Redis, changed only by committed transactions (the fan-out's
// copies, alert triage's contexts), all under <namespace>:
//   delivered:<id>         SET  recipients that received the item (duplicate suppression, TTL)
//   pending:<p>            ZSET id -> deadline, items of input partition p waiting (for owners, for a trigger)
//   pending:records:<p>    HASH id -> item
//   late:cursor:<p>        last own:changes entry partition p has reconciled (fan-out)
//   intent:<p>             the state delta of p's transaction in flight, with its id
//   restored:<p>           marker: p's waiting items are here (restored, or never had any)
//
// A transaction's state changes are first written as an intent, then the transaction commits
// (carrying the intent's id as its offset-commit metadata), then the delta is applied and the
// intent removed in one MULTI. After a crash at any point, recovery applies the intent only if the
// commit witness names it: state never reflects an aborted transaction, nor misses a committed one.
//
// Redis can lose everything (restarted empty). The waiting items are the state no input can give
// back, so every change to them is also written, in the same transaction, to the stage's waiting
// changelog (compacted, keyed <namespace>|<id>, partition p for input partition p: Kafka Streams'
// changelog); on assignment a partition whose `restored` marker is missing is refilled from it.
// A transaction that finds the marker gone stops the process (StateLostError), so it restarts and
// restores before doing more. The ledger is not restored: it only suppresses an event seen again,
// and late registration work reads who received what from the archive (README, Redis restarted empty).
import type Redis from 'ioredis';
import { sendBounded, type Sender } from './boundedSend';
import { ConfigError } from './config';
import type { Admin, Kafka } from './kafka';
import type { AfterCommit, TransactionContext } from './partitionCommits';
import { execAll } from './redis';
import { StateLostError } from './stateLost';
import { readToEnd } from './topicReader';

/** Keys under one namespace (per service and deployment): deployments sharing a Redis never see each other's state. */
function keysOf(base: string) {
  return {
    delivered: (eventId: string) => `${base}:delivered:${eventId}`,
    pending: (partition: number) => `${base}:pending:${partition}`,
    pendingRecords: (partition: number) => `${base}:pending:records:${partition}`,
    lateCursor: (partition: number) => `${base}:late:cursor:${partition}`,
    intent: (partition: number) => `${base}:intent:${partition}`,
    restored: (partition: number) => `${base}:restored:${partition}`,
  };
}

/** Where a stage's waiting items are logged, and how to read them back. */
export interface WaitingChangelog {
  kafka: Kafka;
  topic: string;
  maxSendBytes: number;
}

/**
 * The item of input partition p is logged to the changelog's partition p: a changelog with fewer
 * partitions than the input would refuse those records and stop the stage for good. Checked at
 * start, with a message saying what to do.
 */
export async function checkChangelogPartitions(admin: Admin, changelogTopic: string, inputTopic: string): Promise<void> {
  const topics = await admin.fetchTopicMetadata({ topics: [changelogTopic, inputTopic] });
  const count = (name: string) => topics.find((t) => t.name === name)?.partitions.length ?? 0;
  if (count(changelogTopic) < count(inputTopic)) {
    throw new ConfigError(`${changelogTopic} has ${count(changelogTopic)} partitions but ${inputTopic} has ${count(inputTopic)}: give it as many (kafka-topics --alter --partitions ${count(inputTopic)}), since waiting items are logged to their input partition`);
  }
}

/** The changelog value of a waiting item (a tombstone when it stops waiting). */
interface WaitingEntry<T> {
  deadline: number;
  record: T;
}

export interface PendingRecord<T> {
  record: T;
  deadline: number;
}

/** What one transaction changes in the state. */
export interface StateDelta<T> {
  /** item id -> recipients that received it in this transaction. */
  delivered: Array<[string, string[]]>;
  pendingAdded: Array<PendingRecord<T>>;
  pendingRemoved: string[];
  lateCursor?: string;
}

export function emptyDelta<T>(): StateDelta<T> {
  return { delivered: [], pendingAdded: [], pendingRemoved: [] };
}

export function isEmptyDelta<T>(delta: StateDelta<T>): boolean {
  return delta.delivered.length === 0 && delta.pendingAdded.length === 0 && delta.pendingRemoved.length === 0 && delta.lateCursor === undefined;
}

/** Groups copies by event for the ledger. Pure. */
export function deliveredPairs(copies: Array<{ eventId: string; recipientPartyId: string | null }>): Array<[string, string[]]> {
  const byEvent = new Map<string, string[]>();
  for (const { eventId, recipientPartyId } of copies) {
    if (!recipientPartyId) continue;
    const parties = byEvent.get(eventId);
    if (parties) parties.push(recipientPartyId);
    else byEvent.set(eventId, [recipientPartyId]);
  }
  return [...byEvent];
}

interface Intent<T> {
  transactionId: string;
  delta: StateDelta<T>;
}

export class DeliveryState<T> {
  protected readonly keys: ReturnType<typeof keysOf>;

  /** `namespace` e.g. `fanout:{<GROUP_PREFIX>}`; `idOf` names a pending item. */
  constructor(
    protected readonly redis: Redis,
    private readonly ledgerTtlSeconds: number,
    private readonly namespace: string,
    private readonly idOf: (item: T) => string,
    private readonly changelog: WaitingChangelog,
  ) {
    this.keys = keysOf(namespace);
  }

  private changelogKey(id: string): string {
    return `${this.namespace}|${id}`;
  }

  /**
   * On assignment, before any work on p: if Redis lost p's waiting items (the marker is gone),
   * refills them from the changelog (the newest entry per item; tombstones end an item). A
   * partition that never committed has nothing to restore. Returns the number of items restored.
   */
  async restore(partition: number, committedBefore: boolean): Promise<number> {
    if ((await this.redis.exists(this.keys.restored(partition))) === 1) return 0;
    const latest = new Map<string, string | null>();
    if (committedBefore) {
      const prefix = `${this.namespace}|`;
      await readToEnd(
        this.changelog.kafka,
        [this.changelog.topic],
        ({ partition: p, messages }) => {
          if (p !== partition) return;
          for (const m of messages) {
            const key = m.key?.toString();
            if (key?.startsWith(prefix)) latest.set(key.slice(prefix.length), m.value ? m.value.toString() : null);
          }
        },
        { failOnTimeout: true, timeoutMs: 120_000 },
      );
    }
    const multi = this.redis.multi();
    let restored = 0;
    for (const [id, value] of latest) {
      if (value === null) continue;
      const { deadline, record } = JSON.parse(value) as WaitingEntry<T>;
      multi.zadd(this.keys.pending(partition), 'NX', String(deadline), id);
      multi.hset(this.keys.pendingRecords(partition), id, JSON.stringify(record));
      restored++;
    }
    multi.set(this.keys.restored(partition), '1');
    await execAll(multi);
    return restored;
  }

  /** Parties each event was already delivered to: one round trip for the batch. */
  async deliveredTo(eventIds: string[]): Promise<Map<string, Set<string>>> {
    const unique = [...new Set(eventIds)];
    const result = new Map<string, Set<string>>();
    if (unique.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const id of unique) pipeline.smembers(this.keys.delivered(id));
    const replies = await execAll(pipeline);
    unique.forEach((id, i) => result.set(id, new Set(replies[i] as string[])));
    return result;
  }

  /** Partition p's waiting records, the longest-waiting first, at most `limit`; refused if Redis lost them. */
  async pending(partition: number, limit: number): Promise<Array<PendingRecord<T>>> {
    return this.readPending(partition, limit, true);
  }

  private async readPending(partition: number, limit: number, requireRestored: boolean): Promise<Array<PendingRecord<T>>> {
    const [flat, present] = (await execAll(
      this.redis.pipeline().zrange(this.keys.pending(partition), '0', String(limit - 1), 'WITHSCORES').exists(this.keys.restored(partition)),
    )) as [string[], number];
    if (requireRestored && present !== 1) throw new StateLostError(`the waiting items of partition ${partition} are gone from Redis (restored:${partition} missing)`);
    if (flat.length === 0) return [];
    const ids: string[] = [];
    const deadlines: number[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      ids.push(flat[i]);
      deadlines.push(Number(flat[i + 1]));
    }
    const bodies = await this.redis.hmget(this.keys.pendingRecords(partition), ...ids);
    const result: Array<PendingRecord<T>> = [];
    bodies.forEach((body, i) => {
      if (body) result.push({ record: JSON.parse(body) as T, deadline: deadlines[i] });
    });
    return result;
  }

  async pendingCount(partitions: number[]): Promise<number> {
    if (partitions.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const p of partitions) pipeline.zcard(this.keys.pending(p));
    return ((await execAll(pipeline)) as number[]).reduce((a, b) => a + b, 0);
  }

  /** Every waiting record of these partitions (tests, operators); by key, never a KEYS scan of the store. */
  async allPending(partitions: number[]): Promise<Array<PendingRecord<T>>> {
    const all: Array<PendingRecord<T>> = [];
    for (const partition of partitions) all.push(...(await this.readPending(partition, 1_000_000, false)));
    return all;
  }

  async lateCursor(partition: number): Promise<string | null> {
    return this.redis.get(this.keys.lateCursor(partition));
  }

  /** Moves the cursor when no delivery depends on the changes it passes over. */
  async setLateCursor(partition: number, cursor: string): Promise<void> {
    await this.redis.set(this.keys.lateCursor(partition), cursor);
  }

  /**
   * For a handler inside its transaction: records the delta as the transaction's intent, writes
   * its waiting-item changes to the changelog in the same transaction (`sender`), and returns the
   * follow-up that applies it once the transaction has committed, then runs `counts`.
   */
  async changeOnCommit(context: TransactionContext, sender: Sender, delta: StateDelta<T>, counts: () => void): Promise<AfterCommit> {
    if (!isEmptyDelta(delta)) await this.writeIntent(context.partition, context.transactionId, delta);
    await this.logWaiting(sender, context.partition, delta);
    return async () => {
      if (!isEmptyDelta(delta)) await this.apply(context.partition, delta);
      counts();
    };
  }

  /** Before the commit: the delta and the id the commit will carry; refused if Redis lost p's state. */
  async writeIntent(partition: number, transactionId: string, delta: StateDelta<T>): Promise<void> {
    const [present] = (await execAll(
      this.redis.pipeline().exists(this.keys.restored(partition)).set(this.keys.intent(partition), JSON.stringify({ transactionId, delta } satisfies Intent<T>)),
    )) as [number, unknown];
    if (present !== 1) throw new StateLostError(`the state of partition ${partition} is gone from Redis (restored:${partition} missing)`);
  }

  /** The delta's waiting-item changes as changelog records of partition p (inside the transaction). */
  private async logWaiting(sender: Sender, partition: number, delta: StateDelta<T>): Promise<void> {
    if (delta.pendingAdded.length === 0 && delta.pendingRemoved.length === 0) return;
    const messages = [
      ...delta.pendingAdded.map(({ record, deadline }) => ({
        key: this.changelogKey(this.idOf(record)),
        value: JSON.stringify({ deadline, record } satisfies WaitingEntry<T>),
        partition,
      })),
      ...delta.pendingRemoved.map((id) => ({ key: this.changelogKey(id), value: null, partition })),
    ];
    await sendBounded(sender, [{ topic: this.changelog.topic, messages }], this.changelog.maxSendBytes);
  }

  /** After the commit: the delta applied and the intent removed, atomically. */
  async apply(partition: number, delta: StateDelta<T>): Promise<void> {
    const multi = this.redis.multi();
    for (const [eventId, parties] of delta.delivered) {
      multi.sadd(this.keys.delivered(eventId), ...parties);
      multi.expire(this.keys.delivered(eventId), this.ledgerTtlSeconds);
    }
    for (const { record, deadline } of delta.pendingAdded) {
      // NX: a repeated event keeps the deadline of its first arrival.
      multi.zadd(this.keys.pending(partition), 'NX', String(deadline), this.idOf(record));
      multi.hset(this.keys.pendingRecords(partition), this.idOf(record), JSON.stringify(record));
    }
    if (delta.pendingRemoved.length > 0) {
      multi.zrem(this.keys.pending(partition), ...delta.pendingRemoved);
      multi.hdel(this.keys.pendingRecords(partition), ...delta.pendingRemoved);
    }
    if (delta.lateCursor !== undefined) multi.set(this.keys.lateCursor(partition), delta.lateCursor);
    multi.del(this.keys.intent(partition));
    await execAll(multi);
  }

  /** The transaction a leftover intent belongs to, if any. */
  async intentTransaction(partition: number): Promise<string | null> {
    const raw = await this.redis.get(this.keys.intent(partition));
    return raw ? (JSON.parse(raw) as Intent<T>).transactionId : null;
  }

  /**
   * After a crash or a failed follow-up: applies the intent if its transaction committed (the
   * commit witness carries its id), drops it otherwise. Returns what happened, for logs and tests.
   */
  async recover(partition: number, committedTransactionId: string | null): Promise<'applied' | 'discarded' | 'none'> {
    const raw = await this.redis.get(this.keys.intent(partition));
    if (!raw) return 'none';
    const intent = JSON.parse(raw) as Intent<T>;
    if (intent.transactionId === committedTransactionId) {
      await this.apply(partition, intent.delta);
      return 'applied';
    }
    await this.redis.del(this.keys.intent(partition));
    return 'discarded';
  }
}
