// Redis adapter for ownership history. Layout (all keys under `own:`):
//   own:dev:<deviceId>       HASH  "<effectiveFrom>|<mpxn>"  -> "A|<deviceType>" | "D"
//   own:mpxn:<mpxn>          HASH  "<role>|<effectiveFrom>"  -> partyId
//   own:mpxn-devices:<mpxn>  SET   every device ever associated with the MPxN
//   own:changes              STREAM one entry per written key (cache invalidation, late-ownership work)
//   own:seq                  counter of change entries, to detect a reader that fell behind the trimmed stream
//   own:initialised          marker: absent on an empty (or half rebuilt) store, which triggers a rebuild from Kafka
import type Redis from 'ioredis';
import { execAll } from './redis';
import { StoreUnavailableError } from './stateLost';
import {
  DeviceHistory,
  MpxnHistory,
  associationField,
  associationValue,
  registrationField,
  type OwnershipFact,
} from './ownership';

export const KEYS = {
  device: (deviceId: string) => `own:dev:${deviceId}`,
  mpxn: (mpxn: string) => `own:mpxn:${mpxn}`,
  mpxnDevices: (mpxn: string) => `own:mpxn-devices:${mpxn}`,
  changes: 'own:changes',
  seq: 'own:seq',
  initialised: 'own:initialised',
};

const CHANGE_STREAM_MAXLEN = 200_000;

export interface OwnershipChange {
  id: string;
  key: string;
  /** The earliest instant whose owners this change can alter. */
  effectiveFrom: number;
}

/**
 * Reads own:changes after `cursor` ('' = start at the current end: nothing before this reader
 * existed is replayed), at most `count`, none newer than `through`. Returns the changes and the
 * cursor to store after handling them.
 */
export async function readChanges(redis: Redis, cursor: string, count = 1000, through = '+'): Promise<{ changes: OwnershipChange[]; cursor: string }> {
  if (cursor === '') {
    const latest = await redis.xrevrange(KEYS.changes, '+', '-', 'COUNT', 1);
    return { changes: [], cursor: latest.length > 0 ? latest[0][0] : '0-0' };
  }
  const entries = await redis.xrange(KEYS.changes, `(${cursor}`, through, 'COUNT', count);
  const changes = entries.map(([id, fields]) => ({
    id,
    key: fields[fields.indexOf('key') + 1],
    effectiveFrom: Number(fields[fields.indexOf('from') + 1]),
  }));
  return { changes, cursor: changes.length > 0 ? changes[changes.length - 1].id : cursor };
}

/** Devices whose owners a set of changes can alter, each with the earliest instant affected. */
export async function devicesAffected(redis: Redis, changes: OwnershipChange[]): Promise<Map<string, number>> {
  const affected = new Map<string, number>();
  const note = (deviceId: string, from: number) => affected.set(deviceId, Math.min(from, affected.get(deviceId) ?? Infinity));
  const mpxnChanges = changes.filter((c) => c.key.startsWith('own:mpxn:'));
  for (const change of changes) {
    if (change.key.startsWith('own:dev:')) note(change.key.slice('own:dev:'.length), change.effectiveFrom);
  }
  if (mpxnChanges.length > 0) {
    const pipeline = redis.pipeline();
    for (const change of mpxnChanges) pipeline.smembers(KEYS.mpxnDevices(change.key.slice('own:mpxn:'.length)));
    const replies = await execAll(pipeline);
    mpxnChanges.forEach((change, i) => {
      for (const deviceId of replies[i] as string[]) note(deviceId, change.effectiveFrom);
    });
  }
  return affected;
}

/** The change entry a rebuild writes instead of one per fact: readers drop their whole cache. */
export const EVERYTHING_CHANGED = '*';

/**
 * Writes a batch of facts atomically: one MULTI, one round trip. New facts are announced on the
 * change stream (cache invalidation, late-ownership work); a rebuild restores known facts and
 * announces once, at its end (see announceRebuild), which is also when it sets the marker: a store
 * half rebuilt is not initialised (late-ownership work, which may retract copies, waits for it, and
 * a rebuild interrupted by a crash is run again on the next start). `markInitialised` (default:
 * `announce`): the ownership projector passes false, so a store that lost its data stays unmarked.
 */
export async function writeFacts(redis: Redis, facts: OwnershipFact[], { announce = true, markInitialised }: { announce?: boolean; markInitialised?: boolean } = {}): Promise<void> {
  if (facts.length === 0) return;
  const multi = redis.multi();
  for (const fact of facts) {
    let key: string;
    if (fact.kind === 'association') {
      key = KEYS.device(fact.deviceId);
      multi.hset(key, associationField(fact), associationValue(fact));
      multi.sadd(KEYS.mpxnDevices(fact.mpxn), fact.deviceId);
    } else {
      key = KEYS.mpxn(fact.mpxn);
      multi.hset(key, registrationField(fact), fact.partyId);
    }
    if (announce) {
      multi.incr(KEYS.seq);
      multi.xadd(KEYS.changes, 'MAXLEN', '~', CHANGE_STREAM_MAXLEN, '*', 'key', key, 'from', String(fact.effectiveFrom));
    }
  }
  if (markInitialised ?? announce) multi.set(KEYS.initialised, '1');
  await execAll(multi);
}

/**
 * After a rebuild: one change entry that tells every reader to drop its cache, and the marker.
 * Its `from` is when the rebuild began: what was delivered since then is looked at again.
 */
export async function announceRebuild(redis: Redis, startedAt: number): Promise<void> {
  await execAll(
    redis
      .multi()
      .incr(KEYS.seq)
      .xadd(KEYS.changes, 'MAXLEN', '~', CHANGE_STREAM_MAXLEN, '*', 'key', EVERYTHING_CHANGED, 'from', String(startedAt))
      .set(KEYS.initialised, '1'),
  );
}

export async function isInitialised(redis: Redis): Promise<boolean> {
  return (await redis.exists(KEYS.initialised)) === 1;
}

/** Deletes every ownership key (used by the rebuild command before it replays the topic). */
export async function clearOwnership(redis: Redis): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'own:*', 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** A bounded LRU of parsed histories, kept exact by reading own:changes before every use. */
export class OwnershipReader {
  private readonly cache = new Map<string, DeviceHistory | MpxnHistory>();
  /** '$' = position unknown: the next read only finds where the stream ends (the cache is empty then). */
  private lastChangeId = '$';
  private lastSeq = -1;
  readonly stats = { hits: 0, misses: 0, invalidated: 0, flushes: 0, roundTrips: 0, loads: 0 };

  private readonly maxEntries: number;
  private readonly changesPerRead: number;
  /**
   * Refuse to answer (StoreUnavailableError) while the store is not initialised (lost, or being
   * rebuilt): what deciding stages (fan-out, alert triage) need, since a partial store can name
   * the wrong owners. Readers that only show (lookups) answer from what there is.
   */
  private readonly requireInitialised: boolean;

  constructor(
    private readonly redis: Redis,
    { maxEntries = 100_000, changesPerRead = 10_000, requireInitialised = false }: { maxEntries?: number; changesPerRead?: number; requireInitialised?: boolean } = {},
  ) {
    this.maxEntries = maxEntries;
    this.changesPerRead = changesPerRead;
    this.requireInitialised = requireInitialised;
  }

  private remember(key: string, value: DeviceHistory | MpxnHistory): void {
    this.cache.delete(key);
    this.cache.set(key, value);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }

  private recall<T extends DeviceHistory | MpxnHistory>(key: string): T | undefined {
    const value = this.cache.get(key);
    if (value) {
      this.cache.delete(key);
      this.cache.set(key, value);
      this.stats.hits++;
    }
    return value as T | undefined;
  }

  /** Drops every cached history the change stream says was written since the last read. */
  private applyChanges(seqRaw: string | null, entries: Array<[string, string[]]>): void {
    const seq = Number(seqRaw ?? 0);
    for (const [id, fields] of entries) {
      const key = fields[fields.indexOf('key') + 1];
      if (key === EVERYTHING_CHANGED) {
        this.stats.invalidated += this.cache.size;
        this.cache.clear();
      } else if (this.cache.delete(key)) this.stats.invalidated++;
      this.lastChangeId = id;
    }
    // Behind the trimmed stream, or more changes than one read takes: nothing cached can be trusted.
    const caughtUp = entries.length < this.changesPerRead;
    if (this.lastSeq >= 0 && (seq - this.lastSeq > entries.length || !caughtUp)) {
      this.cache.clear();
      this.stats.flushes++;
      if (!caughtUp) this.lastChangeId = '$';
    }
    this.lastSeq = seq;
  }

  /**
   * Histories for these devices and every MPxN they have been on, in O(1) round trips per batch:
   * one for the change stream and the devices, one for the MPxNs.
   */
  async load(deviceIds: Iterable<string>): Promise<{ devices: Map<string, DeviceHistory>; mpxns: Map<string, MpxnHistory> }> {
    const devices = new Map<string, DeviceHistory>();
    const wanted = [...new Set(deviceIds)];
    this.stats.loads++;

    const first = this.redis.pipeline();
    first.get(KEYS.seq);
    if (this.lastChangeId === '$') first.xrevrange(KEYS.changes, '+', '-', 'COUNT', 1);
    else first.xrange(KEYS.changes, `(${this.lastChangeId}`, '+', 'COUNT', this.changesPerRead);
    // Devices are fetched whether cached or not only when the cache cannot be trusted; the common
    // case fetches just the misses. Invalidated entries are refetched in the second round trip.
    const misses = wanted.filter((id) => !this.cache.has(KEYS.device(id)));
    for (const id of misses) first.hgetall(KEYS.device(id));
    if (this.requireInitialised) first.exists(KEYS.initialised);
    const firstResults = await this.exec(first);
    if (this.requireInitialised && firstResults[firstResults.length - 1] !== 1) {
      // Nothing cached can be trusted across a loss either: start afresh once the store is back.
      this.cache.clear();
      this.lastChangeId = '$';
      this.lastSeq = -1;
      throw new StoreUnavailableError('the ownership store is not initialised (lost, or being rebuilt by the ownership projector); the work waits');
    }
    if (this.lastChangeId === '$') {
      const latest = firstResults[1] as Array<[string, string[]]>;
      this.lastChangeId = latest.length > 0 ? latest[0][0] : '0-0';
      this.lastSeq = Number(firstResults[0] ?? 0);
    } else {
      this.applyChanges(firstResults[0] as string | null, firstResults[1] as Array<[string, string[]]>);
    }
    misses.forEach((id, i) => {
      this.stats.misses++;
      this.remember(KEYS.device(id), DeviceHistory.fromHash(firstResults[2 + i] as Record<string, string>));
    });

    const second = this.redis.pipeline();
    const refetchDevices: string[] = [];
    for (const id of wanted) {
      const cached = this.recall<DeviceHistory>(KEYS.device(id));
      if (cached) devices.set(id, cached);
      else {
        refetchDevices.push(id);
        second.hgetall(KEYS.device(id));
      }
    }
    // MPxNs of refetched devices are not known yet; a third round trip covers them if needed.
    const mpxns = new Map<string, MpxnHistory>();
    // A Set, not an array: includes() made a cold batch O(n²); Sets keep insertion order, which the
    // pipeline's result indices rely on.
    const queueMpxns = (pipeline: ReturnType<Redis['pipeline']>, history: DeviceHistory, queued: Set<string>) => {
      for (const mpxn of history.mpxns()) {
        if (mpxns.has(mpxn) || queued.has(mpxn)) continue;
        const cached = this.recall<MpxnHistory>(KEYS.mpxn(mpxn));
        if (cached) mpxns.set(mpxn, cached);
        else {
          queued.add(mpxn);
          pipeline.hgetall(KEYS.mpxn(mpxn));
        }
      }
    };
    const queued = new Set<string>();
    for (const history of devices.values()) queueMpxns(second, history, queued);
    if (refetchDevices.length + queued.size > 0) {
      const results = await this.exec(second);
      refetchDevices.forEach((id, i) => {
        const history = DeviceHistory.fromHash(results[i] as Record<string, string>);
        this.remember(KEYS.device(id), history);
        devices.set(id, history);
      });
      [...queued].forEach((mpxn, i) => {
        this.stats.misses++;
        const history = MpxnHistory.fromHash(results[refetchDevices.length + i] as Record<string, string>);
        this.remember(KEYS.mpxn(mpxn), history);
        mpxns.set(mpxn, history);
      });
      if (refetchDevices.length > 0) {
        const third = this.redis.pipeline();
        const more = new Set<string>();
        for (const id of refetchDevices) queueMpxns(third, devices.get(id)!, more);
        if (more.size > 0) {
          const moreResults = await this.exec(third);
          [...more].forEach((mpxn, i) => {
            const history = MpxnHistory.fromHash(moreResults[i] as Record<string, string>);
            this.remember(KEYS.mpxn(mpxn), history);
            mpxns.set(mpxn, history);
          });
        }
      }
    }
    return { devices, mpxns };
  }

  get size(): number {
    return this.cache.size;
  }

  private exec(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
    this.stats.roundTrips++;
    return execAll(pipeline);
  }
}
