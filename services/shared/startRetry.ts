// A service started while the broker, the registry or Redis is down waits for them: each failed
// start is logged with its reason and tried again with a growing pause (1 s up to 30 s), instead
// of exiting and leaving it to a supervisor. A configuration error, or a bug, is not a passing
// condition: it ends the start at once.
import { ConfigError } from './config';
import type { Logger } from './logger';
import { isProgrammingError } from './stateLost';

/** Errors that another attempt cannot cure. */
export function isPermanentStartError(error: unknown): boolean {
  return error instanceof ConfigError || isProgrammingError(error);
}

export interface StartRetryOptions {
  log: Pick<Logger, 'warn'>;
  firstPauseMs?: number;
  maxPauseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export async function startWithRetry<T>(what: string, start: () => Promise<T>, options: StartRetryOptions): Promise<T> {
  const { log, firstPauseMs = 1_000, maxPauseMs = 30_000, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) } = options;
  let pause = firstPauseMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (isPermanentStartError(error)) throw error;
      const { name, message } = error as Error;
      log.warn({ attempt, retryInMs: pause, err: { name, message } }, `${what} could not start (a dependency is not reachable?); trying again`);
      await sleep(pause);
      pause = Math.min(maxPauseMs, pause * 2);
    }
  }
}
