// GET /internal/archive/party and /internal/archive/party/count: one party's own copies of a time
// range, page by page in a stable order (keyset), for npm run replay in another process (the
// embedded engine belongs to the archiver's). Registered before the /internal/archive/ prefix.
import type { PartyArchiveReader, PartyRange, PartyRowKey } from '../shared/archive';
import type { Route } from '../shared/httpServer';
import { normaliseEui64 } from '../shared/identifiers';
import { parseTime } from '../shared/timeParam';

export const PARTY_RANGE_PATH = '/internal/archive/party';
export const MAX_PARTY_PAGE = 10_000;

export interface PartyRangeQuery {
  range: PartyRange;
  after?: PartyRowKey;
  limit: number;
}

/**
 * partyId, from, to (epoch ms or ISO-8601, from not after to), optional deviceId, the keyset
 * cursor afterTime/afterEventId/afterDeviceId (all three or none), limit (default 1,000). Pure.
 */
export function parsePartyRangeQuery(params: URLSearchParams): PartyRangeQuery | { error: string } {
  const partyId = normaliseEui64(params.get('partyId'));
  if (!partyId) return { error: 'partyId must be an EUI-64' };
  const from = parseTime(params.get('from') ?? '');
  const to = parseTime(params.get('to') ?? '');
  if (from === null || to === null) return { error: 'from and to must be epoch millis or ISO-8601' };
  if (from > to) return { error: 'from is after to' };
  const range: PartyRange = { partyId, from, to };
  const device = params.get('deviceId');
  if (device !== null) {
    const deviceId = normaliseEui64(device);
    if (!deviceId) return { error: 'deviceId is not an EUI-64' };
    range.deviceId = deviceId;
  }
  const [time, eventId, deviceId] = [params.get('afterTime'), params.get('afterEventId'), params.get('afterDeviceId')];
  let after: PartyRowKey | undefined;
  if (time !== null || eventId !== null || deviceId !== null) {
    if (time === null || !/^-?[0-9]{1,16}$/.test(time) || eventId === null || deviceId === null) {
      return { error: 'afterTime (epoch ms), afterEventId and afterDeviceId go together' };
    }
    after = { eventTime: Number(time), eventId, deviceId };
  }
  const rawLimit = params.get('limit') ?? '1000';
  const limit = /^[0-9]{1,6}$/.test(rawLimit) ? Number(rawLimit) : NaN;
  if (!(limit >= 1 && limit <= MAX_PARTY_PAGE)) return { error: `limit must be an integer from 1 to ${MAX_PARTY_PAGE}` };
  return { range, after, limit };
}

export function partyRangeRoute(archive: PartyArchiveReader): Route {
  return async (url) => {
    if (url.pathname !== PARTY_RANGE_PATH && url.pathname !== `${PARTY_RANGE_PATH}/count`) return { status: 404, body: { error: 'not found' } };
    const parsed = parsePartyRangeQuery(url.searchParams);
    if ('error' in parsed) return { status: 400, body: { error: parsed.error } };
    if (url.pathname.endsWith('/count')) return { status: 200, body: { count: await archive.countPartyRange(parsed.range, parsed.after) } };
    return { status: 200, body: { records: await archive.readPartyRange(parsed.range, parsed.after, parsed.limit) } };
  };
}
