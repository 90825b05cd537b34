// Health, Prometheus metrics and small read-only routes over plain node:http.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics';
import type { Logger } from './logger';

export type HealthCheck = () => Promise<boolean> | boolean;
export type Route = (url: URL) => Promise<{ status: number; body: unknown }>;

export class HttpServer {
  private readonly checks = new Map<string, HealthCheck>();
  private readonly routes = new Map<string, Route>();
  private server: http.Server | undefined;

  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  addHealthCheck(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  /** A GET route matched by path prefix, e.g. `/archive/`. */
  addRoute(prefix: string, route: Route): void {
    this.routes.set(prefix, route);
  }

  async health(): Promise<{ ok: boolean; checks: Record<string, boolean> }> {
    const checks: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        checks[name] = await check();
      } catch {
        checks[name] = false;
      }
    }
    return { ok: Object.values(checks).every(Boolean), checks };
  }

  async listen(port: number, host: string): Promise<number> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => {
        this.logger.error({ err: { message: error.message } }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const bound = (this.server.address() as AddressInfo).port;
    this.logger.info({ port: bound, host }, 'health and metrics listening');
    return bound;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return;
    }
    if (url.pathname === '/health') {
      const health = await this.health();
      res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(health));
      return;
    }
    for (const [prefix, route] of this.routes) {
      if (url.pathname.startsWith(prefix)) {
        const { status, body } = await route(url);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
