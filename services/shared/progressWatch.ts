// A stage that owns partitions with records waiting, yet has committed nothing for a long time,
// is stuck in a way nothing else reports (seen: a restarted member that rejoined, fenced its
// transactional ids, then neither consumed nor committed, silently, while heartbeating; the cause,
// found later, was a transaction the broker left open on __consumer_offsets, see kafka.sh hanging). The watch
// asks the broker for the stage's lag only after such a quiet spell, and calls `onStuck` when
// there is lag: the process exits and its supervisor starts a fresh one.

export interface ProgressWatchOptions {
  /** Quiet for this long (no commit) before the lag is looked at. */
  quietMs: number;
  /** Partitions this member owns now. */
  owned(): number[];
  /** When this member last committed anything. */
  lastProgressAt(): number;
  /** Records waiting on these partitions (committed offset to high watermark). */
  lag(partitions: number[]): Promise<number>;
  onStuck(error: Error): void;
  now?: () => number;
}

/** One look: 'stuck' with the lag, or why not. Exposed for tests. */
export async function checkProgress(options: ProgressWatchOptions): Promise<{ verdict: 'idle' | 'quiet-no-lag' | 'recent' | 'stuck'; lag?: number }> {
  const now = (options.now ?? Date.now)();
  const owned = options.owned();
  if (owned.length === 0) return { verdict: 'idle' };
  if (now - options.lastProgressAt() < options.quietMs) return { verdict: 'recent' };
  const lag = await options.lag(owned);
  return lag > 0 ? { verdict: 'stuck', lag } : { verdict: 'quiet-no-lag', lag };
}

export class ProgressWatch {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** A quiet spell without lag restarts the count from then. */
  private quietSince = 0;

  constructor(private readonly options: ProgressWatchOptions) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const options = { ...this.options, lastProgressAt: () => Math.max(this.options.lastProgressAt(), this.quietSince) };
      const { verdict, lag } = await checkProgress(options);
      if (verdict === 'quiet-no-lag') this.quietSince = (this.options.now ?? Date.now)();
      if (verdict === 'stuck') {
        this.stop();
        this.options.onStuck(new Error(`no commit for ${Math.round(this.options.quietMs / 1000)} s while ${lag} records wait on partitions ${this.options.owned().join(',')}`));
      }
    } catch {
      // The lag could not be read (the broker away): nothing is concluded; the next tick asks again.
    } finally {
      this.checking = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
