// GET /internal/archive/lookup/activity?..., /internal/archive/lookup/seen?... and
// /internal/archive/lookup/alert?...: the lookup API's archive reads (shared/archiveActivity.ts,
// shared/archiveAlerts.ts) served by the archiver's process, for a lookup process
// that cannot open the embedded engine itself. Internal: on the metrics port, bound to loopback.
import { activityFromParams, seenFromParams, type ActivityReader } from '../shared/archiveActivity';
import { alertFromParams } from '../shared/archiveAlerts';
import type { Route } from '../shared/httpServer';
import { ACTIVITY_ROUTE_PREFIX } from '../lookup/activityClient';

export { ACTIVITY_ROUTE_PREFIX };

export function activityRoute(archive: ActivityReader): Route {
  return async (url) => {
    if (url.pathname === `${ACTIVITY_ROUTE_PREFIX}activity`) {
      const query = activityFromParams(url.searchParams);
      if ('error' in query) return { status: 400, body: query };
      return { status: 200, body: { rows: await archive.activity(query) } };
    }
    if (url.pathname === `${ACTIVITY_ROUTE_PREFIX}seen`) {
      const query = seenFromParams(url.searchParams);
      if ('error' in query) return { status: 400, body: query };
      return { status: 200, body: { seen: await archive.seen(query) } };
    }
    if (url.pathname === `${ACTIVITY_ROUTE_PREFIX}alert`) {
      const query = alertFromParams(url.searchParams);
      if ('error' in query) return { status: 400, body: query };
      return { status: 200, body: { context: await archive.alertContext(query) } };
    }
    return { status: 404, body: { error: 'not found' } };
  };
}
