// GET /archive?deviceId=&partyId=&eventId=&from=&to=&limit= : ninety-day lookups for operators.
import type { Archive, ArchiveQuery } from '../shared/archive';
import { MAX_EPOCH_MS } from '../shared/contracts';
import { normaliseEui64 } from '../shared/identifiers';
import type { Route } from '../shared/httpServer';

export const MAX_ARCHIVE_LIMIT = 100_000;

/** Epoch millis, or ISO-8601 (date, optional time, optional zone); anything else is malformed. */
const EPOCH_MS = /^[0-9]{1,16}$/;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/** null for a malformed time; V8's Date.parse alone is lenient (it reads "5" as May 2001). */
function parseTime(raw: string): number | null {
  let ms: number;
  if (EPOCH_MS.test(raw)) ms = Number(raw);
  else {
    const iso = ISO_8601.exec(raw);
    if (!iso) return null;
    // Date.parse rolls 2026-02-30 over to March 2 instead of refusing it.
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return null;
    ms = Date.parse(raw);
  }
  return Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : null;
}

/**
 * The query string of GET /archive, checked; pure. `partyId=` (present, empty) asks for unowned
 * records, which the archive stores with recipientPartyId ''; an absent partyId means any party.
 */
export function parseArchiveQuery(params: URLSearchParams): { query: ArchiveQuery } | { error: string } {
  const query: ArchiveQuery = {};
  const deviceId = params.get('deviceId');
  if (deviceId) {
    const normalised = normaliseEui64(deviceId);
    if (!normalised) return { error: 'deviceId is not an EUI-64' };
    query.deviceId = normalised;
  }
  const partyId = params.get('partyId');
  if (partyId === '') query.recipientPartyId = '';
  else if (partyId !== null) {
    const normalised = normaliseEui64(partyId);
    if (!normalised) return { error: 'partyId is not an EUI-64 (or empty, for unowned records)' };
    query.recipientPartyId = normalised;
  }
  const eventId = params.get('eventId');
  if (eventId) query.eventId = eventId;
  for (const name of ['from', 'to'] as const) {
    const raw = params.get(name);
    if (raw === null) continue;
    const ms = parseTime(raw);
    if (ms === null) return { error: `${name} is not epoch millis or an ISO-8601 date within the Date range` };
    query[name] = ms;
  }
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) return { error: 'from is after to' };
  const limit = params.get('limit');
  if (limit !== null) {
    const n = /^[0-9]{1,6}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_ARCHIVE_LIMIT)) return { error: `limit must be an integer from 1 to ${MAX_ARCHIVE_LIMIT}` };
    query.limit = n;
  }
  return { query };
}

export function archiveRoute(archive: Archive): Route {
  return async (url) => {
    const parsed = parseArchiveQuery(url.searchParams);
    if ('error' in parsed) return { status: 400, body: { error: parsed.error } };
    const records = await archive.find(parsed.query);
    return { status: 200, body: { count: records.length, records } };
  };
}
