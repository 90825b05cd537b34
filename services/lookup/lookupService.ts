// The lookup API (Fastify): authentication, rate limits, validation, routes. The decisions live in
// view.ts, params.ts, cursor.ts and claims.ts; this file wires them to HTTP, the archive and Redis.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { ActivityReader, ActivityRow, ActivityScope, Keyset } from '../shared/archiveActivity';
import type { Config } from '../shared/config';
import type { VisibilityRecord } from '../shared/contracts';
import { normaliseEui64 } from '../shared/identifiers';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { DeviceHistory, MpxnHistory } from '../shared/ownership';
import { createAuthenticator, type Authentication } from './auth';
import { decodeCursor, encodeCursor, type CursorScope } from './cursor';
import { openApiDocument } from './openapi';
import { LIMIT_MESSAGE, parseLimit, parseRange, windowStart, type RangeInput } from './params';
import { activityQuerystring, alertContextSchema, alertParams, alertQuerystring, deviceParams, pageFileParams, pageSchema, unownedQuerystring } from './schemas';
import { CONTENT_SECURITY_POLICY, readPageFile } from './staticPage';
import { deviceVisible, ownershipStanding, partyItem, partyScope, record, type Caller } from './view';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** Served without a token (the OpenAPI document, the page's files). */
    public?: boolean;
  }
}

/** What the lookup reads ownership through (OwnershipReader). */
export interface OwnershipSource {
  load(deviceIds: Iterable<string>): Promise<{ devices: Map<string, DeviceHistory>; mpxns: Map<string, MpxnHistory> }>;
}

export interface LookupDependencies {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  archive: ActivityReader;
  ownership: OwnershipSource;
  /** The clock the retention window is measured from. */
  now?: () => number;
}

export interface RunningLookup {
  server: FastifyInstance;
  port: number;
  stop(): Promise<void>;
}

type PageQuery = RangeInput & { cursor?: string; limit?: string };

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The one answer for an unknown device and for a device that is not the caller's. */
const NO_SUCH_DEVICE = new HttpError(404, 'not_found', 'no such device');
/** The one answer for an unknown alert, one that is not the caller's, and one past the window. */
const NO_SUCH_ALERT = new HttpError(404, 'not_found', 'no such alert');

function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  const field = first?.instancePath.replace(/^\//, '') || (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  if (first?.keyword === 'additionalProperties') return `unknown parameter "${field}"`;
  if (field === 'deviceId') return 'deviceId must be a Device ID: EUI-64, eight hex pairs joined by "-" (00-DB-12-34-56-78-90-A0)';
  if (field === 'limit') return LIMIT_MESSAGE;
  if (field === 'cursor') return 'cursor is not one this service issued';
  if (field === 'alertId') return 'alertId must be 1 to 200 letters, digits, ".", "_", ":" or "-"';
  if (field === 'recipientPartyId') return 'recipientPartyId must be a User ID: EUI-64, eight hex pairs joined by "-"';
  return error.message;
}

export async function buildLookupServer(deps: LookupDependencies): Promise<FastifyInstance> {
  const { config, metrics, archive, ownership } = deps;
  const now = deps.now ?? Date.now;
  const authenticate = createAuthenticator(config);
  const cursorKey = config.lookupCursorSecret ? Buffer.from(config.lookupCursorSecret, 'utf8') : randomBytes(32);
  const server = Fastify({
    // Fastify's own lines (a line per request) are not wanted; its warnings and errors are.
    loggerInstance: deps.logger.child({ service: 'lookup' }, { level: 'warn' }) as FastifyBaseLogger,
    // Unknown query parameters are refused (400), not silently dropped; nothing is coerced (numbers
    // are parsed here, strictly: ajv would take "1e309" or "0x10" for a limit).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    routerOptions: { maxParamLength: 200 },
  });
  server.decorateRequest('caller', null);

  server.addHook('onRequest', async (request, reply) => {
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    if (request.routeOptions.config?.public) return;
    void reply.header('cache-control', 'no-store');
    const result: Authentication = await authenticate(request.headers.authorization);
    if ('caller' in result) {
      request.caller = result.caller;
      return;
    }
    if (result.status === 401) void reply.header('www-authenticate', 'Bearer realm="srv-visibility-lookup"');
    return reply.code(result.status).send({ error: result.status === 401 ? 'unauthorized' : 'unavailable', message: result.message });
  });

  server.addHook('onResponse', async (request, reply) => {
    const labels = { route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.lookupRequests.inc(labels);
    metrics.lookupSeconds.observe(labels, reply.elapsedTime / 1000);
  });

  await server.register(rateLimit, {
    global: true,
    // After authentication: the limit is per party (token sub); unauthenticated files by address.
    hook: 'preHandler',
    max: config.lookupRateLimit,
    timeWindow: config.lookupRateWindowMs,
    keyGenerator: (request) => (request.caller ? `sub:${request.caller.subject}` : `ip:${request.ip}`),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `rate limit exceeded: ${context.max} requests per ${Math.round(config.lookupRateWindowMs / 1000)} s; retry in ${context.after}`,
    }),
  });

  server.setErrorHandler((error: FastifyError & { error?: string }, request, reply) => {
    if (error.validation) return reply.code(400).send({ error: 'bad_request', message: validationMessage(error) });
    if (error instanceof HttpError) return reply.code(error.statusCode).send({ error: error.code, message: error.message });
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: error.error ?? error.code ?? 'bad_request', message: error.message });
    request.log.error({ err: { message: error.message, name: error.name } }, 'lookup request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  server.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found', message: 'no such route' }));

  const callerOf = (request: FastifyRequest): Caller => {
    if (!request.caller) throw new HttpError(401, 'unauthorized', 'missing bearer token');
    return request.caller;
  };

  /** One page of rows: window, range, cursor, then the archive; `visible` decides an empty first page. */
  async function page(
    caller: Caller,
    view: CursorScope['view'],
    deviceId: string | null,
    query: PageQuery,
    scope: ActivityScope,
    present: (row: ActivityRow) => VisibilityRecord,
    visible?: (oldest: number) => Promise<boolean>,
  ): Promise<{ items: VisibilityRecord[]; next: string | null }> {
    const oldest = windowStart(now(), config.lookupWindowMs);
    const range = parseRange(query, oldest);
    if ('error' in range) throw new HttpError(400, 'bad_request', range.error);
    const limit = parseLimit(query.limit);
    if (limit === null) throw new HttpError(400, 'bad_request', LIMIT_MESSAGE);
    const cursorScope: CursorScope = { subject: caller.subject, view, deviceId };
    let after: Keyset | null = null;
    if (query.cursor !== undefined) {
      after = decodeCursor(cursorKey, cursorScope, query.cursor);
      if (!after) throw new HttpError(400, 'bad_request', 'cursor is not one this service issued for this caller and query');
    }
    const rows = range.from < range.to ? await archive.activity({ deviceId, scope, from: range.from, to: range.to, after, limit: limit + 1 }) : [];
    if (rows.length === 0 && after === null && visible && !(await visible(oldest))) throw NO_SUCH_DEVICE;
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    // A party's cursor never names another recipient: its view has one row per event.
    const next =
      rows.length > limit ? encodeCursor(cursorKey, cursorScope, { eventTime: last.eventTime, eventId: last.eventId, recipientPartyId: view === 'party' ? '' : (last.recipientPartyId ?? '') }) : null;
    return { items: items.map(present), next };
  }

  server.get<{ Params: { deviceId: string }; Querystring: PageQuery }>(
    '/v1/devices/:deviceId/activity',
    { schema: { params: deviceParams, querystring: activityQuerystring, response: { 200: pageSchema } } },
    async (request) => {
      const caller = callerOf(request);
      const deviceId = normaliseEui64(request.params.deviceId)!;
      const { devices, mpxns } = await ownership.load([deviceId]);
      const device = devices.get(deviceId);
      if (caller.operator) {
        return page(caller, 'operator', deviceId, request.query, { kind: 'operator' }, record, async (oldest) =>
          deviceVisible(caller, { standing: null, deviceKnownToOwnership: !!device && !device.isEmpty, archived: await archive.seen({ deviceId, partyId: null, from: oldest }) }),
        );
      }
      const standing = ownershipStanding(device, mpxns, caller.subject, now());
      const role = standing.current?.role ?? null;
      return page(caller, 'party', deviceId, request.query, partyScope(caller.subject, standing, config.lookupBeforeOwnership), (row) => partyItem(row, caller.subject, role), async (oldest) =>
        deviceVisible(caller, { standing, deviceKnownToOwnership: false, archived: await archive.seen({ deviceId, partyId: caller.subject, from: oldest }) }),
      );
    },
  );

  server.get<{ Querystring: PageQuery & { deviceId?: string } }>(
    '/v1/unowned',
    { schema: { querystring: unownedQuerystring, response: { 200: pageSchema } } },
    async (request) => {
      const caller = callerOf(request);
      if (!caller.operator) throw new HttpError(403, 'forbidden', 'unowned records are for operators (a token with the operator scope)');
      const deviceId = request.query.deviceId === undefined ? null : normaliseEui64(request.query.deviceId)!;
      return page(caller, 'unowned', deviceId, request.query, { kind: 'unowned' }, record);
    },
  );

  // A party reads only its own AlertContext (recipientPartyId = its sub); operators read any
  // recipient's, that one's default being the alert's recipient. Within the window, as activity.
  server.get<{ Params: { alertId: string }; Querystring: { recipientPartyId?: string } }>(
    '/v1/alerts/:alertId',
    { schema: { params: alertParams, querystring: alertQuerystring, response: { 200: alertContextSchema } } },
    async (request) => {
      const caller = callerOf(request);
      const asked = request.query.recipientPartyId;
      if (asked !== undefined && !caller.operator) throw new HttpError(403, 'forbidden', 'recipientPartyId is for operators; a party reads its own AlertContext without it');
      const recipientPartyId = caller.operator ? (asked === undefined ? null : normaliseEui64(asked)!) : caller.subject;
      const context = await archive.alertContext({ alertId: request.params.alertId, recipientPartyId, from: windowStart(now(), config.lookupWindowMs) });
      if (!context) throw NO_SUCH_ALERT;
      return context;
    },
  );

  server.get('/v1/me', async (request) => {
    const caller = callerOf(request);
    return { subject: caller.subject, operator: caller.operator };
  });

  const document = openApiDocument({ issuer: config.lookupIssuer, audience: config.lookupAudience });
  server.get('/v1/openapi.json', { config: { public: true } }, async () => document);

  const sendPageFile = async (name: string, reply: FastifyReply) => {
    const file = await readPageFile(name);
    if (!file) return reply.code(404).send({ error: 'not_found', message: 'no such file' });
    return reply.type(file.type).header('cache-control', 'no-cache').send(file.body);
  };
  server.get('/', { config: { public: true } }, async (_request, reply) => sendPageFile('index.html', reply));
  server.get<{ Params: { file: string } }>('/page/:file', { config: { public: true }, schema: { params: pageFileParams } }, async (request, reply) =>
    sendPageFile(request.params.file, reply),
  );

  return server;
}

export async function startLookup(deps: LookupDependencies): Promise<RunningLookup> {
  const server = await buildLookupServer(deps);
  await server.listen({ port: deps.config.lookupPort, host: deps.config.lookupHost });
  const port = (server.server.address() as AddressInfo).port;
  deps.logger.info({ port, host: deps.config.lookupHost }, 'lookup API listening');
  return { server, port, stop: () => server.close() };
}
