// The lookup's reads over the archiver's internal HTTP routes: for a lookup process apart from the
// embedded engine's (one process per data directory). With a ClickHouse server, or in the
// archiver's own process, the lookup reads the Archive directly instead.
import { activityToParams, seenToParams, type ActivityQuery, type ActivityReader, type ActivityRow, type SeenQuery } from '../shared/archiveActivity';
import { alertToParams, type AlertContextQuery } from '../shared/archiveAlerts';
import type { AlertContext } from '../shared/contracts';

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

  async alertContext(query: AlertContextQuery): Promise<AlertContext | null> {
    return (await this.get<{ context: AlertContext | null }>(`${ACTIVITY_ROUTE_PREFIX}alert?${alertToParams(query)}`)).context;
  }

  private async get<T>(pathAndQuery: string): Promise<T> {
    const response = await fetch(`${this.baseUrl}${pathAndQuery}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`archive read at ${this.baseUrl} answered ${response.status}`);
    return (await response.json()) as T;
  }
}
