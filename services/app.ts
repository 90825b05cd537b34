// Composition root: which services run in this process, their health checks and metrics endpoint.
import { HttpServer } from './shared/httpServer';
import { createRuntime, type Runtime, type RuntimeOptions } from './shared/runtime';
import { Shutdown } from './shared/shutdown';
import { startProjector } from './projector/projectorService';
import { startOwnershipProjector } from './ownership-projector/ownershipProjectorService';
import { startFanOut, type RunningFanOut } from './fan-out/fanOutService';
import type { RunningStage } from './shared/stage';
import type { Archive } from './shared/archive';
import { archiveRoute } from './fan-out/archiveRoute';

export type ServiceName = 'projector' | 'ownership-projector' | 'fan-out';
export const ALL_SERVICES: ServiceName[] = ['ownership-projector', 'projector', 'fan-out'];

export interface App {
  runtime: Runtime;
  http: HttpServer;
  httpPort: number;
  fanOut?: RunningFanOut;
  stages: Partial<Record<ServiceName, RunningStage>>;
  /** Resolves once every stage has joined its consumer group. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions extends RuntimeOptions {
  services?: ServiceName[];
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

  const services = options.services ?? ALL_SERVICES;
  try {
    for (const service of services) {
      if (service === 'ownership-projector') {
        const stage = await startOwnershipProjector(runtime);
        stages[service] = stage;
        http.addHealthCheck('redis:ownership', async () => (await stage.redis.ping()) === 'PONG');
      } else if (service === 'projector') {
        stages[service] = await startProjector(runtime);
      } else {
        fanOut = await startFanOut(runtime, options.archive);
        stages[service] = fanOut;
        const archive = fanOut.archive;
        http.addHealthCheck('archive', () => archive.ping());
        http.addRoute('/archive', archiveRoute(archive));
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
    stages,
    ready: async () => {
      await Promise.all(Object.values(stages).map((stage) => stage.joined));
    },
    stop: () => shutdown.run(),
  };
}

export async function main(services: ServiceName[] = ALL_SERVICES): Promise<void> {
  const app = await startApp({ services });
  const shutdown = new Shutdown(app.runtime.logger);
  shutdown.add('app', () => app.stop());
  shutdown.installSignalHandlers();
  // A consumer that stopped for good must not leave a live process that does nothing: exit non-zero
  // so the supervisor (systemd, Kubernetes, the demo) restarts it.
  app.runtime.onFatal(() => shutdown.exit(1));
}
