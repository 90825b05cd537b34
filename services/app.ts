// Composition root: which services run in this process, their health checks and metrics endpoint.
import { HttpServer } from './shared/httpServer';
import { createRuntime, type Runtime, type RuntimeOptions } from './shared/runtime';
import { Shutdown } from './shared/shutdown';
import { startProjector } from './projector/projectorService';
import { startOwnershipProjector } from './ownership-projector/ownershipProjectorService';
import { startFanOut, type RunningFanOut } from './fan-out/fanOutService';
import { startArchiver } from './archiver/archiverService';
import { startAlertTriage, type RunningAlertTriage } from './alert-triage/alertTriageService';
import { archiveReaderRoute, archiveRoute } from './archiver/archiveRoute';
import { PARTY_RANGE_PATH, partyRangeRoute } from './archiver/partyRangeRoute';
import type { RunningStage } from './shared/stage';
import { Archive, type ArchiveReader } from './shared/archive';
import { HttpArchiveReader } from './shared/archiveClient';
import { ConfigError, loadConfig } from './shared/config';
import { createLogger } from './shared/logger';
import { startWithRetry } from './shared/startRetry';
import type { ActivityReader } from './shared/archiveActivity';
import { OwnershipReader } from './shared/ownershipStore';
import { ACTIVITY_ROUTE_PREFIX, activityRoute } from './archiver/activityRoute';
import { HttpActivityReader } from './lookup/activityClient';
import { startLookup, type RunningLookup } from './lookup/lookupService';

export type ServiceName = 'projector' | 'ownership-projector' | 'archiver' | 'fan-out' | 'alert-triage' | 'lookup';
// The lookup after the archiver: in one process it reads the archiver's archive.
export const ALL_SERVICES: ServiceName[] = ['ownership-projector', 'projector', 'archiver', 'fan-out', 'alert-triage', 'lookup'];

export interface App {
  runtime: Runtime;
  http: HttpServer;
  httpPort: number;
  fanOut?: RunningFanOut;
  alertTriage?: RunningAlertTriage;
  /** The lookup API, when this process runs it (its port: lookup.port). */
  lookup?: RunningLookup;
  /** The archive, when this process runs the archiver. */
  archive?: Archive;
  stages: Partial<Record<ServiceName, RunningStage>>;
  /** Resolves once every stage has joined its consumer group. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions extends RuntimeOptions {
  services?: ServiceName[];
  /** An archive opened by the caller (tests share one embedded engine between two apps). */
  archive?: Archive;
}

export async function startApp(options: AppOptions = {}): Promise<App> {
  const runtime = await createRuntime(options);
  const { config, logger, metrics } = runtime;
  const shutdown = new Shutdown(logger);
  shutdown.add('runtime', () => runtime.close());
  const http = new HttpServer(metrics, logger);
  const stages: App['stages'] = {};
  let fanOut: RunningFanOut | undefined;
  let alertTriage: RunningAlertTriage | undefined;
  let lookup: RunningLookup | undefined;
  let archive: Archive | undefined = options.archive;

  const services = options.services ?? ALL_SERVICES;
  try {
    for (const service of services) {
      if (service === 'ownership-projector') {
        const stage = await startOwnershipProjector(runtime);
        stages[service] = stage;
        http.addHealthCheck('redis:ownership', async () => (await stage.redis.ping()) === 'PONG');
      } else if (service === 'projector') {
        stages[service] = await startProjector(runtime);
      } else if (service === 'archiver') {
        const archiver = await startArchiver(runtime, archive);
        stages[service] = archiver;
        const store = (archive = archiver.archive);
        http.addHealthCheck('archive', () => store.ping());
        http.addRoute('/archive', archiveRoute(store));
        // Before the /internal/archive/ prefix, which would otherwise take it (first prefix wins).
        http.addRoute(PARTY_RANGE_PATH, partyRangeRoute(store));
        // Before the /internal/archive/ prefix, which would otherwise take it (first prefix wins).
        http.addRoute(ACTIVITY_ROUTE_PREFIX, activityRoute(store));
        http.addRoute('/internal/archive/', archiveReaderRoute(store));
      } else if (service === 'lookup') {
        const lookupArchive = await archiveForLookup(archive, shutdown, runtime.config);
        const lookupRedis = await runtime.redis('lookup');
        const running = (lookup = await startLookup({ config, logger, metrics, archive: lookupArchive, ownership: new OwnershipReader(lookupRedis) }));
        http.addHealthCheck('lookup:redis', async () => (await lookupRedis.ping()) === 'PONG');
        shutdown.add(service, () => running.stop());
        continue; // not a consumer stage
      } else if (service === 'alert-triage') {
        alertTriage = await startAlertTriage(runtime);
        stages[service] = alertTriage;
      } else {
        fanOut = await startFanOut(runtime, await archiveForFanOut(archive, shutdown, runtime.config));
        stages[service] = fanOut;
      }
      const stage = stages[service]!;
      // Unhealthy when a received batch has not committed within STAGE_STALL_MS, or the consumer crashed.
      http.addHealthCheck(`stage:${service}`, () => stage.healthy());
      shutdown.add(service, () => stage.stop());
    }
  } catch (error) {
    await shutdown.run();
    throw error;
  }
  http.addHealthCheck('kafka', async () => {
    const admin = runtime.kafka.admin();
    await admin.connect();
    try {
      await admin.listTopics({ timeout: 5_000 } as never);
      return true;
    } finally {
      await admin.disconnect();
    }
  });
  const httpPort = await http.listen(config.httpPort, config.httpHost);
  shutdown.add('http', () => http.close());
  logger.info({ services, httpPort }, 'services running');
  return {
    runtime,
    http,
    httpPort,
    fanOut,
    alertTriage,
    lookup,
    archive,
    stages,
    ready: async () => {
      await Promise.all(Object.values(stages).map((stage) => stage.joined));
    },
    stop: () => shutdown.run(),
  };
}

/**
 * What the fan-out reads the archive through: the archiver's in this process, else a ClickHouse
 * server of its own, else the archiver's HTTP routes (the embedded engine is one process's).
 */
async function archiveForFanOut(local: Archive | undefined, shutdown: Shutdown, config: Runtime['config']): Promise<ArchiveReader> {
  if (local) return local;
  if (config.clickhouseUrl) {
    const server = await Archive.open(config);
    shutdown.add('archive', () => server.close());
    return server;
  }
  if (config.archiveQueryUrl) return new HttpArchiveReader(config.archiveQueryUrl);
  throw new ConfigError('the fan-out reads the archive: run the archiver in the same process, or set CLICKHOUSE_URL (a server), or ARCHIVE_QUERY_URL (the archiver\'s HTTP address)');
}

/** What the lookup reads the archive through: as the fan-out, plus the archiver's lookup routes over HTTP. */
async function archiveForLookup(local: Archive | undefined, shutdown: Shutdown, config: Runtime['config']): Promise<ActivityReader> {
  if (local) return local;
  if (config.clickhouseUrl) {
    const server = await Archive.open(config);
    shutdown.add('lookup archive', () => server.close());
    return server;
  }
  if (config.archiveQueryUrl) return new HttpActivityReader(config.archiveQueryUrl);
  throw new ConfigError('the lookup reads the archive: run the archiver in the same process, or set CLICKHOUSE_URL (a server), or ARCHIVE_QUERY_URL (the archiver\'s HTTP address)');
}

export async function main(services: ServiceName[] = ALL_SERVICES): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // While the start is retried nothing runs yet: a signal ends the process at once.
  const exitNow = () => process.exit(0);
  process.once('SIGINT', exitNow);
  process.once('SIGTERM', exitNow);
  const app = await startWithRetry(services.join(', '), () => startApp({ services, config, logger }), { log: logger });
  process.off('SIGINT', exitNow);
  process.off('SIGTERM', exitNow);
  const shutdown = new Shutdown(app.runtime.logger);
  shutdown.add('app', () => app.stop());
  shutdown.installSignalHandlers();
  // A consumer that stopped for good must not leave a live process that does nothing: exit non-zero
  // so the supervisor (systemd, Kubernetes, the demo) restarts it.
  app.runtime.onFatal(() => shutdown.exit(1));
}
