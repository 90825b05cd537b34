// The decisions of an operator's replay (npm run replay), free of I/O: its arguments, its id, what
// a replayed copy is, which archive rows a party may be sent, how batches, pacing and checkpoints
// go. The CLI (services/cli/replay.ts) and the runner (replayRunner.ts) only carry them out.
import type { ArchivedRecord, PartyRange, PartyRowKey } from '../shared/archive';
import { FLAGS, pickVisibilityRecord, type VisibilityRecord } from '../shared/contracts';
import { normaliseEui64 } from '../shared/identifiers';
import { parseTime } from '../shared/timeParam';

/** Records per second when --rate is not given: gentle on the broker and on the party's consumer. */
export const DEFAULT_RATE = 1_000;
export const MAX_RATE = 100_000;
/** Most records in one transaction (with its checkpoint). */
export const MAX_BATCH = 500;
/** Rows read from the archive per page. */
export const PAGE_SIZE = 2_000;

export interface ReplayArgs {
  range: PartyRange;
  rate: number;
  replayId: string;
  /** Where the archiver serves /internal/archive/party (no ClickHouse server configured). */
  archiverUrl?: string;
}

export const USAGE = `usage: npm run replay -- --party <User ID> [--device <Device ID>] --from <time> --to <time> [--rate <records/s>] [--replay-id <id>] [--archiver-url <url>]
  Re-publishes the party's archived copies with eventTime in [from, to) to visibility.party.<party>,
  flagged REPLAY. Times: epoch milliseconds or ISO-8601. Rate: default ${DEFAULT_RATE}, at most ${MAX_RATE}.
  A rerun with the same replay id (default: derived from party, device, from and to) continues where
  the last run stopped; a finished replay publishes nothing.`;

const OPTIONS = ['party', 'device', 'from', 'to', 'rate', 'replay-id', 'archiver-url'] as const;
type Option = (typeof OPTIONS)[number];

const REPLAY_ID = /^[A-Za-z0-9._:-]{1,200}$/;

export type Parsed<T> = { ok: T } | { error: string };

/** `--name value` or `--name=value`, each at most once; `--help` asks for the usage. Pure. */
export function parseReplayArgs(argv: string[]): Parsed<ReplayArgs> | { help: true } {
  const given = new Map<Option, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { help: true };
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) return { error: `unexpected argument "${arg}"` };
    const name = match[1] as Option;
    if (!OPTIONS.includes(name)) return { error: `unknown option --${match[1]}` };
    if (given.has(name)) return { error: `--${name} given twice` };
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return { error: `--${name} needs a value` };
      i++;
    }
    given.set(name, value);
  }
  const partyRaw = given.get('party');
  if (partyRaw === undefined) return { error: '--party is required' };
  const partyId = normaliseEui64(partyRaw);
  if (!partyId) return { error: `--party "${partyRaw}" is not an EUI-64 User ID (eight hex pairs joined by '-')` };
  const range: PartyRange = { partyId, from: 0, to: 0 };
  const deviceRaw = given.get('device');
  if (deviceRaw !== undefined) {
    const deviceId = normaliseEui64(deviceRaw);
    if (!deviceId) return { error: `--device "${deviceRaw}" is not an EUI-64 Device ID (eight hex pairs joined by '-')` };
    range.deviceId = deviceId;
  }
  for (const name of ['from', 'to'] as const) {
    const raw = given.get(name);
    if (raw === undefined) return { error: `--${name} is required` };
    const ms = parseTime(raw);
    if (ms === null) return { error: `--${name} "${raw}" is not epoch milliseconds or an ISO-8601 date/time` };
    range[name] = ms;
  }
  if (range.from > range.to) return { error: `--from (${new Date(range.from).toISOString()}) is after --to (${new Date(range.to).toISOString()})` };
  let rate = DEFAULT_RATE;
  const rateRaw = given.get('rate');
  if (rateRaw !== undefined) {
    rate = /^[0-9]{1,9}$/.test(rateRaw) ? Number(rateRaw) : NaN;
    if (!(rate >= 1 && rate <= MAX_RATE)) return { error: `--rate "${rateRaw}" must be a whole number of records per second from 1 to ${MAX_RATE}` };
  }
  const replayId = given.get('replay-id') ?? defaultReplayId(range);
  if (!REPLAY_ID.test(replayId)) return { error: `--replay-id "${replayId}" must be 1-200 letters, digits, '.', '_', ':' or '-'` };
  const archiverUrl = given.get('archiver-url');
  if (archiverUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(archiverUrl)) return { error: `--archiver-url "${archiverUrl}" is not an http(s) URL` };
  return { ok: { range, rate, replayId, ...(archiverUrl !== undefined ? { archiverUrl: archiverUrl.replace(/\/+$/, '') } : {}) } };
}

/** The same replay (party, device, from, to) always gets the same id, so a rerun resumes it. Pure. */
export function defaultReplayId(range: PartyRange): string {
  return `${range.partyId}.${range.deviceId ?? 'all'}.${range.from}-${range.to}`;
}

/** A replayed copy: the archived copy's contract fields, as delivered, plus the REPLAY flag. Pure. */
export function replayRecord(row: ArchivedRecord): VisibilityRecord {
  const record = pickVisibilityRecord(row);
  if (!record.flags.includes(FLAGS.REPLAY)) record.flags.push(FLAGS.REPLAY);
  return record;
}

/**
 * Whether this archive row may go to the party: a copy delivered to it (never an unowned row,
 * never another party's) and not retracted from it since, of the replay's device and time range.
 * The archive query asks for exactly these; this is checked again before anything is published. Pure.
 */
export function entitled(row: ArchivedRecord, range: PartyRange): boolean {
  return (
    row.delivery === 'party' &&
    row.recipientPartyId === range.partyId &&
    !row.flags.includes(FLAGS.RETRACTED) &&
    (range.deviceId === undefined || row.deviceId === range.deviceId) &&
    row.eventTime >= range.from &&
    row.eventTime < range.to
  );
}

export function rowKey(row: ArchivedRecord): PartyRowKey {
  return { eventTime: row.eventTime, eventId: row.eventId, deviceId: row.deviceId };
}

/** Records per transaction: about four transactions a second, at most MAX_BATCH records. Pure. */
export function batchSize(rate: number): number {
  return Math.min(MAX_BATCH, Math.max(1, Math.floor(rate / 4)));
}

/** Splits a page of rows into transaction batches. Pure. */
export function batches<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** How long to wait before sending more, so this run stays at `rate` records/s on average. Pure. */
export function pacingDelayMs(startedAt: number, sentThisRun: number, rate: number, now: number): number {
  return Math.max(0, Math.ceil(startedAt + (sentThisRun * 1000) / rate - now));
}

/** What is committed with each batch, keyed by replay id on visibility.replay.progress. */
export interface Checkpoint {
  version: 1;
  replayId: string;
  partyId: string;
  deviceId: string | null;
  from: number;
  to: number;
  /** The last row handled (published or skipped); the next run starts after it. */
  cursor: PartyRowKey | null;
  published: number;
  skipped: number;
  done: boolean;
  updatedAt: number;
}

export function initialCheckpoint(replayId: string, range: PartyRange, now: number): Checkpoint {
  return { version: 1, replayId, partyId: range.partyId, deviceId: range.deviceId ?? null, from: range.from, to: range.to, cursor: null, published: 0, skipped: 0, done: false, updatedAt: now };
}

/** The checkpoint after a batch: the cursor moves to its last row. Pure. */
export function advance(checkpoint: Checkpoint, batch: ArchivedRecord[], published: number, done: boolean, now: number): Checkpoint {
  const last = batch[batch.length - 1];
  return {
    ...checkpoint,
    cursor: last ? rowKey(last) : checkpoint.cursor,
    published: checkpoint.published + published,
    skipped: checkpoint.skipped + (batch.length - published),
    done,
    updatedAt: now,
  };
}

/** A replay id reused for another party, device or range is refused rather than resumed. Pure. */
export function mismatch(checkpoint: Checkpoint, range: PartyRange): string | null {
  const same = checkpoint.partyId === range.partyId && checkpoint.deviceId === (range.deviceId ?? null) && checkpoint.from === range.from && checkpoint.to === range.to;
  if (same) return null;
  return `replay id ${checkpoint.replayId} belongs to party ${checkpoint.partyId}, device ${checkpoint.deviceId ?? 'all'}, from ${checkpoint.from} to ${checkpoint.to}; use another --replay-id`;
}

/**
 * Is this the replay's last batch? The last batch of a page shorter than a full page: nothing
 * comes after it. (A full page's last batch is not known to be last; an empty next page ends it.)
 */
export function isLastBatch(pageLength: number, pageSize: number, batchIndex: number, batchCount: number): boolean {
  return pageLength < pageSize && batchIndex === batchCount - 1;
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  return Buffer.from(JSON.stringify(checkpoint));
}

/** null for anything that is not a version-1 checkpoint (a tombstone, a foreign record). Pure. */
export function decodeCheckpoint(value: Buffer | null): Checkpoint | null {
  if (!value) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  const c = parsed as Checkpoint;
  const cursorOk = c?.cursor === null || (typeof c?.cursor?.eventTime === 'number' && typeof c.cursor.eventId === 'string' && typeof c.cursor.deviceId === 'string');
  const ok =
    c?.version === 1 &&
    typeof c.replayId === 'string' &&
    typeof c.partyId === 'string' &&
    (c.deviceId === null || typeof c.deviceId === 'string') &&
    Number.isSafeInteger(c.from) &&
    Number.isSafeInteger(c.to) &&
    cursorOk &&
    Number.isSafeInteger(c.published) &&
    Number.isSafeInteger(c.skipped) &&
    typeof c.done === 'boolean';
  return ok ? c : null;
}

/** The final line of a run. Pure. */
export function summaryLine(s: { replayId: string; published: number; skipped: number; alreadyDone: number; total: number; finished: boolean; seconds: number }): string {
  const rate = s.seconds > 0 ? Math.round(s.published / s.seconds) : 0;
  const state = s.finished ? 'finished' : 'stopped';
  return `replay ${s.replayId} ${state}: published ${s.published}, skipped ${s.skipped}, already done ${s.alreadyDone} (of ${s.total}) in ${s.seconds.toFixed(1)} s, ${rate} records/s`;
}
