// The one place a Redis client is built.
import Redis, { type ChainableCommander } from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';

export function createRedis(config: Config, logger: Logger, name: string): Redis {
  const redis = new Redis(config.redisUrl, {
    connectionName: name,
    maxRetriesPerRequest: 5,
    enableAutoPipelining: false,
    lazyConnect: true,
  });
  redis.on('error', (error: Error) => logger.warn({ component: 'redis', err: { message: error.message } }, 'redis error'));
  return redis;
}

/** Runs a pipeline or MULTI in one round trip; throws the first command error instead of returning it. */
export async function execAll(commands: ChainableCommander): Promise<unknown[]> {
  const results = await commands.exec();
  if (!results) throw new Error('redis transaction aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
