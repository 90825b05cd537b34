// The lookup service as the bench runs it: in this process, over the bench's own archive, with a
// signing key of its own (made in the bench's directory by the same code as the stack's, published
// as a JWKS file the service verifies against, as in production) and the local stack's Redis for
// ownership. The per-party rate limit is lifted: the bench measures latency, not the limiter.
import { loadConfig } from '../services/shared/config';
import type { Archive } from '../services/shared/archive';
import type { Logger } from '../services/shared/logger';
import { Metrics } from '../services/shared/metrics';
import { createRedis } from '../services/shared/redis';
import { OwnershipReader } from '../services/shared/ownershipStore';
import { ensureSigningKeys, keyPaths, mintToken, readSigningKey } from '../services/lookup/keys';
import { startLookup } from '../services/lookup/lookupService';

export interface BenchLookup {
  baseUrl: string;
  /** A bearer token per party id. */
  tokens: Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchLookup(options: { env: NodeJS.ProcessEnv; archive: Archive; logger: Logger; dir: string; parties: string[] }): Promise<BenchLookup> {
  await ensureSigningKeys(options.dir);
  const config = loadConfig({
    ...options.env,
    STACK_DIR: options.dir,
    LOOKUP_JWKS: keyPaths(options.dir).jwks,
    LOOKUP_HOST: '127.0.0.1',
    LOOKUP_PORT: '0',
    LOOKUP_RATE_LIMIT: '1000000',
  });
  const redis = createRedis(config, options.logger, 'lookup-bench');
  const running = await startLookup({ config, logger: options.logger, metrics: new Metrics(false), archive: options.archive, ownership: new OwnershipReader(redis) });
  const key = readSigningKey(options.dir);
  const tokens: Record<string, string> = {};
  for (const party of options.parties) {
    tokens[party] = await mintToken(key, { subject: party, operator: false, issuer: config.lookupIssuer, audience: config.lookupAudience, ttlSeconds: 6 * 3600 });
  }
  return {
    baseUrl: `http://127.0.0.1:${running.port}`,
    tokens,
    async close() {
      await running.stop();
      redis.disconnect();
    },
  };
}
