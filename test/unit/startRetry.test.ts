import { ConfigError } from '../../services/shared/config';
import { startWithRetry } from '../../services/shared/startRetry';

function recorder() {
  const warnings: Array<{ attempt: number; retryInMs: number; message: string }> = [];
  const pauses: number[] = [];
  return {
    warnings,
    pauses,
    options: {
      log: { warn: (fields: { attempt: number; retryInMs: number; err: { message: string } }) => void warnings.push({ attempt: fields.attempt, retryInMs: fields.retryInMs, message: fields.err.message }) } as never,
      sleep: async (ms: number) => void pauses.push(ms),
      firstPauseMs: 1_000,
      maxPauseMs: 4_000,
    },
  };
}

test('a start that fails while a dependency is down is tried again, with growing pauses, until it succeeds', async () => {
  const r = recorder();
  let calls = 0;
  const started = await startWithRetry('fan-out', async () => {
    calls++;
    if (calls < 5) throw Object.assign(new Error('Local: Broker transport failure'), { code: -195 });
    return 'running';
  }, r.options);
  expect(started).toBe('running');
  expect(calls).toBe(5);
  expect(r.pauses).toEqual([1_000, 2_000, 4_000, 4_000]);
  expect(r.warnings.map((w) => [w.attempt, w.message])).toEqual([1, 2, 3, 4].map((n) => [n, 'Local: Broker transport failure']));
});

test('a configuration error or a bug ends the start at once', async () => {
  for (const error of [new ConfigError('KAFKA_BROKERS is empty'), new TypeError('x is not a function')]) {
    const r = recorder();
    let calls = 0;
    await expect(startWithRetry('fan-out', async () => {
      calls++;
      throw error;
    }, r.options)).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(r.pauses).toEqual([]);
  }
});
