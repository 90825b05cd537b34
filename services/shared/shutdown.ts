// Graceful shutdown: on SIGINT/SIGTERM run the closers in reverse order of registration, once,
// with a deadline, then exit. A second signal exits at once.
import type { Logger } from './logger';

type Closer = () => Promise<void>;

export class Shutdown {
  private readonly closers: Array<{ name: string; close: Closer }> = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 15_000,
  ) {}

  add(name: string, close: Closer): void {
    this.closers.push({ name, close });
  }

  async run(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      for (const { name, close } of [...this.closers].reverse()) {
        try {
          await close();
          this.logger.debug({ component: name }, 'closed');
        } catch (error) {
          this.logger.warn({ component: name, err: { message: (error as Error).message } }, 'close failed');
        }
      }
    })();
    return this.running;
  }

  /** Closes everything (within the deadline) and exits with `code`. */
  exit(code: number): void {
    const deadline = setTimeout(() => {
      this.logger.error('shutdown deadline passed; killing the process');
      // Not process.exit: past the deadline something is stuck, and exit's own teardown can hang
      // on it too (seen: the embedded ClickHouse after a fatal error held the archiver's exit
      // forever, so its supervisor never saw it end and never restarted it). SIGKILL always ends.
      process.kill(process.pid, 'SIGKILL');
    }, this.deadlineMs);
    deadline.unref();
    void this.run().then(() => process.exit(code));
  }

  installSignalHandlers(): void {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(1);
      signalled = true;
      this.logger.info({ signal }, 'shutting down');
      this.exit(0);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
}
