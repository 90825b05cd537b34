// The one place a Redis client is built.
import Redis from 'ioredis';
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
