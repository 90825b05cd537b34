// Watches that a store this process relies on still holds its data (its marker key is there):
// Redis restarted empty, or a key set cleared, is found within seconds, not at the next write.
// A failed check (Redis unreachable for a moment) is not a loss: only a definite "gone" counts.
import { StateLostError } from './stateLost';

export interface StoreWatch {
  stop(): void;
}

export function watchStore(present: () => Promise<boolean>, onLost: (error: StateLostError) => void, what: string, intervalMs = 2_000): StoreWatch {
  let lost = false;
  const timer = setInterval(() => {
    if (lost) return;
    present().then(
      (ok) => {
        if (ok || lost) return;
        lost = true;
        onLost(new StateLostError(`${what} lost its data; the next start restores it from Kafka`));
      },
      () => undefined,
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
