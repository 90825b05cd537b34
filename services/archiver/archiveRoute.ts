// GET /archive?deviceId=&partyId=&eventId=&from=&to=&limit= : ninety-day lookups for operators, served
// by the archiver (the process that holds the archive); and the two reads a fan-out in another
// process makes (HttpArchiveReader), under /internal/archive/.
import type { Archive, ArchiveQuery, ArchiveReader } from '../shared/archive';
import { DEVICES_PER_READ } from '../shared/archiveClient';
import { normaliseEui64 } from '../shared/identifiers';
import type { Route } from '../shared/httpServer';
import { parseTime } from '../shared/timeParam';

export const MAX_ARCHIVE_LIMIT = 100_000;

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

/**
 * GET /internal/archive/devices?from=<ms>&deviceId=...&deviceId=... and
 * GET /internal/archive/since?since=<ms>&limit=<n>: the ArchiveReader over HTTP.
 */
export function archiveReaderRoute(archive: ArchiveReader): Route {
  return async (url) => {
    const params = url.searchParams;
    const whole = (name: string) => {
      const raw = params.get(name);
      return raw !== null && /^-?[0-9]{1,16}$/.test(raw) ? Number(raw) : null;
    };
    if (url.pathname === '/internal/archive/devices') {
      const from = whole('from');
      const deviceIds = params.getAll('deviceId');
      if (from === null || deviceIds.length > DEVICES_PER_READ) return { status: 400, body: { error: `from (epoch ms) and at most ${DEVICES_PER_READ} deviceId are required` } };
      return { status: 200, body: { records: await archive.findForDevices(deviceIds, from) } };
    }
    if (url.pathname === '/internal/archive/since') {
      const since = whole('since');
      const limit = whole('limit');
      if (since === null || (limit !== null && limit < 1)) return { status: 400, body: { error: 'since (epoch ms) is required; limit, if given, is at least 1' } };
      return { status: 200, body: { records: await archive.findArchivedSince(since, limit ?? undefined) } };
    }
    return { status: 404, body: { error: 'not found' } };
  };
}
