// The lookup API's parameters, beyond what the route schemas check: times, the retention window,
// the order of from and to. Pure.
import { MAX_ARCHIVE_EPOCH_MS } from '../shared/contracts';
import { parseTime } from '../shared/timeParam';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** The Smart Energy Code (H8.16(b)) asks for records kept "no less than three months". */
export const RETENTION_MONTHS = 3;

/**
 * The oldest instant the lookup serves: three calendar months before `now` (same day and time of
 * day, clamped to the end of a shorter month: 31 May -> 28/29 Feb), or `windowMs` before it when set.
 */
export function windowStart(now: number, windowMs?: number): number {
  if (windowMs !== undefined) return now - windowMs;
  const date = new Date(now);
  const [year, month, day] = [date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()];
  const target = month - RETENTION_MONTHS;
  const lastDay = new Date(Date.UTC(year, target + 1, 0)).getUTCDate();
  const start = new Date(now);
  start.setUTCFullYear(year, target, Math.min(day, lastDay));
  return start.getTime();
}

export interface RangeInput {
  from?: string;
  to?: string;
}

/** [from, to) in epoch ms, inside the window; `empty` when the asked range lies wholly outside it. */
export interface Range {
  from: number;
  to: number;
}

/** The end of every range: nothing is archived later than this. */
export const END_OF_ARCHIVE = MAX_ARCHIVE_EPOCH_MS + 1;

export function parseRange(input: RangeInput, oldest: number): Range | { error: string } {
  let from = oldest;
  let to = END_OF_ARCHIVE;
  if (input.from !== undefined) {
    const ms = parseTime(input.from);
    if (ms === null) return { error: 'from must be epoch milliseconds or an ISO-8601 date or date-time' };
    from = ms;
  }
  if (input.to !== undefined) {
    const ms = parseTime(input.to);
    if (ms === null) return { error: 'to must be epoch milliseconds or an ISO-8601 date or date-time' };
    to = ms;
  }
  if (input.from !== undefined && input.to !== undefined && from > to) return { error: 'from is after to' };
  // Never older than the window, whatever the archive's TTL has not removed yet.
  return { from: Math.min(Math.max(from, oldest), END_OF_ARCHIVE), to: Math.min(Math.max(to, oldest), END_OF_ARCHIVE) };
}

export const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${MAX_LIMIT}`;

/** Items per page: absent = DEFAULT_LIMIT; digits only, 1 to MAX_LIMIT; anything else null. */
export function parseLimit(raw: string | undefined): number | null {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^[0-9]{1,7}$/.test(raw)) return null;
  const limit = Number(raw);
  return limit >= 1 && limit <= MAX_LIMIT ? limit : null;
}
