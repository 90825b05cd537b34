// GET /archive?deviceId=&partyId=&eventId=&from=&to=&limit= : ninety-day lookups for operators.
import type { Archive } from '../shared/archive';
import { normaliseEui64 } from '../shared/identifiers';
import type { Route } from '../shared/httpServer';

export function archiveRoute(archive: Archive): Route {
  return async (url) => {
    const q = url.searchParams;
    const deviceId = q.get('deviceId');
    const partyId = q.get('partyId');
    if (deviceId && !normaliseEui64(deviceId)) return { status: 400, body: { error: 'deviceId is not an EUI-64' } };
    if (partyId && !normaliseEui64(partyId)) return { status: 400, body: { error: 'partyId is not an EUI-64' } };
    const time = (name: string) => {
      const raw = q.get(name);
      if (raw === null) return undefined;
      const ms = /^[0-9]+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (Number.isNaN(ms)) throw new RangeError(`${name} is not epoch millis or an ISO date`);
      return ms;
    };
    try {
      const records = await archive.find({
        deviceId: deviceId ? normaliseEui64(deviceId)! : undefined,
        recipientPartyId: partyId ? normaliseEui64(partyId)! : undefined,
        eventId: q.get('eventId') ?? undefined,
        from: time('from'),
        to: time('to'),
        limit: q.get('limit') ? Number(q.get('limit')) : undefined,
      });
      return { status: 200, body: { count: records.length, records } };
    } catch (error) {
      if (error instanceof RangeError) return { status: 400, body: { error: error.message } };
      throw error;
    }
  };
}
