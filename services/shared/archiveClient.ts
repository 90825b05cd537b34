// The archive read over HTTP from the archiver's process: for a fan-out that runs elsewhere while
// the archive is the embedded engine (one process per data directory). With a ClickHouse server,
// every process reads it directly instead.
import type { ArchiveReader, ArchivedRecord } from './archive';

/** Most device ids one request carries (keeps the request line well under Node's 16 KB). */
export const DEVICES_PER_READ = 200;

export class HttpArchiveReader implements ArchiveReader {
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

  private async get(pathAndQuery: string): Promise<ArchivedRecord[]> {
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`archive read at ${this.baseUrl} answered ${response.status}`);
    return ((await response.json()) as { records: ArchivedRecord[] }).records;
  }
}
