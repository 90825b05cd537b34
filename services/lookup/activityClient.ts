// The lookup's reads over the archiver's internal HTTP routes: for a lookup process apart from the
// embedded engine's (one process per data directory). With a ClickHouse server, or in the
// archiver's own process, the lookup reads the Archive directly instead.
import { activityToParams, seenToParams, type ActivityQuery, type ActivityReader, type ActivityRow, type SeenQuery } from '../shared/archiveActivity';

export const ACTIVITY_ROUTE_PREFIX = '/internal/archive/lookup/';

export class HttpActivityReader implements ActivityReader {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async activity(query: ActivityQuery): Promise<ActivityRow[]> {
    return (await this.get<{ rows: ActivityRow[] }>(`${ACTIVITY_ROUTE_PREFIX}activity?${activityToParams(query)}`)).rows;
  }

  async seen(query: SeenQuery): Promise<boolean> {
    return (await this.get<{ seen: boolean }>(`${ACTIVITY_ROUTE_PREFIX}seen?${seenToParams(query)}`)).seen;
  }

  private async get<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`archive read at ${this.baseUrl} answered ${response.status}`);
    return (await response.json()) as T;
  }
}
