// The archive read over HTTP from the archiver's process: for a fan-out that runs elsewhere while
// the archive is the embedded engine (one process per data directory). With a ClickHouse server,
// every process reads it directly instead.
import type { ArchiveReader, ArchivedRecord, PartyArchiveReader, PartyRange, PartyRowKey } from './archive';

/** Most device ids one request carries (keeps the request line well under Node's 16 KB). */
export const DEVICES_PER_READ = 200;

/** The query string of /internal/archive/party[/count] (a party's copies, by keyset). Pure. */
export function partyRangeParams(range: PartyRange, after?: PartyRowKey, limit?: number): URLSearchParams {
  const params = new URLSearchParams({ partyId: range.partyId, from: String(range.from), to: String(range.to) });
  if (range.deviceId !== undefined) params.set('deviceId', range.deviceId);
  if (after) {
    params.set('afterTime', String(after.eventTime));
    params.set('afterEventId', after.eventId);
    params.set('afterDeviceId', after.deviceId);
  }
  if (limit !== undefined) params.set('limit', String(limit));
  return params;
}

export class HttpArchiveReader implements ArchiveReader, PartyArchiveReader {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 30_000,
  ) {}

  async findForDevices(deviceIds: string[], from: number): Promise<ArchivedRecord[]> {
    const records: ArchivedRecord[] = [];
    for (let i = 0; i < deviceIds.length; i += DEVICES_PER_READ) {
      const params = new URLSearchParams({ from: String(from) });
      for (const id of deviceIds.slice(i, i + DEVICES_PER_READ)) params.append('deviceId', id);
      records.push(...(await this.get(`/internal/archive/devices?${params}`)));
    }
    return records;
  }

  async findArchivedSince(since: number, limit?: number): Promise<ArchivedRecord[]> {
    const params = new URLSearchParams({ since: String(since) });
    if (limit !== undefined) params.set('limit', String(limit));
    return this.get(`/internal/archive/since?${params}`);
  }

  async countPartyRange(range: PartyRange, after?: PartyRowKey): Promise<number> {
    return (await this.getJson<{ count: number }>(`/internal/archive/party/count?${partyRangeParams(range, after)}`)).count;
  }

  async readPartyRange(range: PartyRange, after: PartyRowKey | undefined, limit: number): Promise<ArchivedRecord[]> {
    return this.get(`/internal/archive/party?${partyRangeParams(range, after, limit)}`);
  }

  private async get(pathAndQuery: string): Promise<ArchivedRecord[]> {
    return (await this.getJson<{ records: ArchivedRecord[] }>(pathAndQuery)).records;
  }

  private async getJson<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(this.timeoutMs) }).catch((error: Error) => {
      throw new Error(`archive read at ${this.baseUrl} failed (is the archiver running there?): ${error.message}`);
    });
    if (!response.ok) throw new Error(`archive read at ${this.baseUrl} answered ${response.status}`);
    return (await response.json()) as T;
  }
}
