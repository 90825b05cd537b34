// Runs a partition's timer work every interval for each partition this instance owns, one tick
// after the other (never overlapping itself), and stops cleanly. A failing tick is logged and the
// next one runs as usual.
import type { Logger } from './logger';

export class Punctuator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly partitions: () => number[],
    private readonly tick: (partition: number) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  /** Runs one tick on every owned partition now (also what the timer does). */
  async runOnce(): Promise<void> {
    for (const partition of this.partitions()) {
      if (this.stopped) return;
      try {
        await this.tick(partition);
      } catch (error) {
        this.logger.error({ partition, err: { message: (error as Error).message } }, 'timer work failed; it runs again next tick');
      }
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
