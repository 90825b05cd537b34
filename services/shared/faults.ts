// Named points on the write path where a test injects a failure, to prove what happens if the
// process dies or a dependency fails right there. Nothing is armed in production; a check is one
// map lookup.
export type FaultPoint =
  /** Inside the transaction, after the handler wrote its output: the transaction aborts. */
  | 'before-commit'
  /** After the transaction committed, before its follow-up (e.g. applying fan-out state). */
  | 'after-commit'
  /** In the handler, as a programming error would (KafkaJS stops the consumer for good). */
  | 'handler-bug';

interface Armed {
  remaining: number;
  error: () => Error;
}

export class Faults {
  private readonly armed = new Map<string, Armed>();
  readonly fired: Array<{ point: FaultPoint; stage: string }> = [];

  /** Fails `point` in `stage` the next `times` times it is reached. */
  arm(stage: string, point: FaultPoint, times = 1, error: () => Error = () => new Error(`injected fault at ${stage}:${point}`)): void {
    this.armed.set(`${stage}:${point}`, { remaining: times, error });
  }

  disarm(stage: string, point: FaultPoint): void {
    this.armed.delete(`${stage}:${point}`);
  }

  check(stage: string, point: FaultPoint): void {
    const armed = this.armed.get(`${stage}:${point}`);
    if (!armed) return;
    if (--armed.remaining <= 0) this.armed.delete(`${stage}:${point}`);
    this.fired.push({ point, stage });
    throw armed.error();
  }
}
