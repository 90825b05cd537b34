// Carries out a replay: resume from the last committed checkpoint, count what is left, read the
// party's archived copies page by page (keyset, stable order), and publish them in paced batches,
// each with its checkpoint in one transaction. Decisions are replayPlan.ts's; I/O is the archive
// reader's and the sink's, both passed in (a test passes the in-process archive).
import type { PartyArchiveReader } from '../shared/archive';
import {
  PAGE_SIZE,
  advance,
  batchSize,
  batches,
  entitled,
  initialCheckpoint,
  isLastBatch,
  mismatch,
  pacingDelayMs,
  replayRecord,
  type Checkpoint,
  type ReplayArgs,
} from './replayPlan';
import type { ReplaySink } from './replayPublisher';

export interface ReplayStart {
  /** Rows already handled by earlier runs of this replay. */
  alreadyDone: number;
  /** alreadyDone plus the rows left now: what the progress bar counts to. */
  total: number;
  resumed: boolean;
}

export interface ReplayProgress {
  published: number;
  skipped: number;
}

export interface ReplayObserver {
  start?(start: ReplayStart): void;
  batch?(progress: ReplayProgress): void;
}

export interface ReplayOutcome extends ReplayStart, ReplayProgress {
  /** The replay had finished before this run: nothing was published. */
  alreadyFinished: boolean;
  /** The replay is finished now (false when stopped early). */
  finished: boolean;
  seconds: number;
}

export class ReplayRefused extends Error {}

export interface ReplayDeps {
  archive: PartyArchiveReader;
  sink: ReplaySink;
  observer?: ReplayObserver;
  /** Stops after the batch in flight (SIGINT); the next run resumes. */
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runReplay(args: ReplayArgs, deps: ReplayDeps): Promise<ReplayOutcome> {
  const { archive, sink, observer = {}, signal } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const startedAt = now();
  const seconds = () => (now() - startedAt) / 1000;

  const previous = await sink.lastCheckpoint();
  if (previous) {
    const wrong = mismatch(previous, args.range);
    if (wrong) throw new ReplayRefused(wrong);
  }
  const alreadyDone = previous ? previous.published + previous.skipped : 0;
  if (previous?.done) {
    const start = { alreadyDone, total: alreadyDone, resumed: true };
    observer.start?.(start);
    return { ...start, published: 0, skipped: 0, alreadyFinished: true, finished: true, seconds: seconds() };
  }
  let checkpoint: Checkpoint = previous ?? initialCheckpoint(args.replayId, args.range, now());
  const left = await archive.countPartyRange(args.range, checkpoint.cursor ?? undefined);
  const start = { alreadyDone, total: alreadyDone + left, resumed: previous !== null };
  observer.start?.(start);

  const size = batchSize(args.rate);
  const progress = { published: 0, skipped: 0 };
  let sentThisRun = 0;
  for (;;) {
    const page = await archive.readPartyRange(args.range, checkpoint.cursor ?? undefined, PAGE_SIZE);
    if (page.length === 0) {
      // The previous page was full and nothing followed it: record the end on its own.
      checkpoint = advance(checkpoint, [], 0, true, now());
      await sink.publish([], checkpoint);
      break;
    }
    const pageBatches = batches(page, size);
    for (let i = 0; i < pageBatches.length; i++) {
      if (signal?.aborted) return { ...start, ...progress, alreadyFinished: false, finished: false, seconds: seconds() };
      await sleep(pacingDelayMs(startedAt, sentThisRun, args.rate, now()));
      const batch = pageBatches[i];
      const records = batch.filter((row) => entitled(row, args.range)).map(replayRecord);
      const next = advance(checkpoint, batch, records.length, isLastBatch(page.length, PAGE_SIZE, i, pageBatches.length), now());
      await sink.publish(records, next);
      checkpoint = next;
      sentThisRun += batch.length;
      progress.published += records.length;
      progress.skipped += batch.length - records.length;
      observer.batch?.({ ...progress });
    }
    if (checkpoint.done) break;
  }
  return { ...start, ...progress, alreadyFinished: false, finished: true, seconds: seconds() };
}
