// A store this process relies on lost its data (Redis restarted empty, a key set cleared): the
// process must not go on as if nothing happened, nor retry the batch for ever. The stage stops
// for good (the process exits) and the next start restores the store from Kafka.
export class StateLostError extends Error {
  override readonly name = 'StateLostError';
}

export function isStateLost(error: unknown): error is StateLostError {
  return (error as { name?: string } | undefined)?.name === 'StateLostError';
}

/**
 * A store is being restored (after a loss, or on a deployment's first start): the work waits and
 * is retried after `retryAfterMs`, instead of deciding on partial data.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    message: string,
    readonly retryAfterMs = 1_000,
  ) {
    super(message);
  }
}

/** Errors that mean a bug, not a passing condition: trying again would fail the same way. */
const PROGRAMMING_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

export function isProgrammingError(error: unknown): boolean {
  return PROGRAMMING_ERRORS.has((error as { name?: string } | undefined)?.name ?? '');
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return (error as { name?: string } | undefined)?.name === 'StoreUnavailableError';
}
