import { ProgressWatch, checkProgress, type ProgressWatchOptions } from '../../services/shared/progressWatch';

const base = (over: Partial<ProgressWatchOptions>): ProgressWatchOptions => ({
  quietMs: 30_000,
  owned: () => [0, 1],
  lastProgressAt: () => 0,
  lag: async () => 5,
  onStuck: () => undefined,
  now: () => 60_000,
  ...over,
});

describe('checkProgress: a stage that owns waiting records but commits nothing is stuck', () => {
  test('owning nothing is idle, whatever the time', async () => {
    expect(await checkProgress(base({ owned: () => [] }))).toEqual({ verdict: 'idle' });
  });
  test('a recent commit: the lag is not even asked', async () => {
    const lag = jest.fn(async () => 5);
    expect(await checkProgress(base({ lastProgressAt: () => 40_000, lag }))).toEqual({ verdict: 'recent' });
    expect(lag).not.toHaveBeenCalled();
  });
  test('quiet with nothing waiting is fine; quiet with records waiting is stuck', async () => {
    expect(await checkProgress(base({ lag: async () => 0 }))).toEqual({ verdict: 'quiet-no-lag', lag: 0 });
    expect(await checkProgress(base({}))).toEqual({ verdict: 'stuck', lag: 5 });
  });
  test('the lag is asked for the owned partitions only', async () => {
    const lag = jest.fn(async (_partitions: number[]) => 0);
    await checkProgress(base({ owned: () => [3, 5], lag }));
    expect(lag).toHaveBeenCalledWith([3, 5]);
  });
});

describe('ProgressWatch', () => {
  test('calls onStuck once, then stops watching', async () => {
    const stuck: Error[] = [];
    const watch = new ProgressWatch(base({ quietMs: 10, now: Date.now, lastProgressAt: () => Date.now() - 1_000, onStuck: (e) => stuck.push(e) }));
    watch.start(5);
    await new Promise((r) => setTimeout(r, 60));
    watch.stop();
    expect(stuck).toHaveLength(1);
    expect(stuck[0].message).toMatch(/no commit for .* while 5 records wait on partitions 0,1/);
  });
  test('an unreadable lag concludes nothing', async () => {
    const stuck: Error[] = [];
    const watch = new ProgressWatch(base({ quietMs: 10, now: Date.now, lag: async () => { throw new Error('broker away'); }, onStuck: (e) => stuck.push(e) }));
    watch.start(5);
    await new Promise((r) => setTimeout(r, 40));
    watch.stop();
    expect(stuck).toEqual([]);
  });
});
