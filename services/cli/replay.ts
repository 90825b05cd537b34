// npm run replay -- --party <id> [--device <id>] --from <time> --to <time> [--rate <n>] [--replay-id <id>]
// Re-publishes a party's archived copies to its own topic, flagged REPLAY (see README, "Replay").
// Exit codes: 0 done (or already done), 1 failed (rerun to resume), 2 bad arguments, 130 interrupted.
import { SingleBar } from 'cli-progress';
import pino from 'pino';
import type { PartyArchiveReader } from '../shared/archive';
import { Archive } from '../shared/archive';
import { HttpArchiveReader } from '../shared/archiveClient';
import { loadConfig, type Config } from '../shared/config';
import { createKafka } from '../shared/kafka';
import { createLogger } from '../shared/logger';
import { AvroCodec, createSchemaRegistry } from '../shared/schemaRegistry';
import { USAGE, parseReplayArgs, summaryLine, type ReplayArgs } from '../replay/replayPlan';
import { ReplayPublisher } from '../replay/replayPublisher';
import { ReplayRefused, runReplay, type ReplayObserver } from '../replay/replayRunner';

/** Plain progress lines this often when stdout is not a terminal (CI, logs). */
const PLAIN_PROGRESS_MS = 5_000;

/** The archive directly from a ClickHouse server, else through the archiver's HTTP port. */
async function openArchive(config: Config, args: ReplayArgs): Promise<{ reader: PartyArchiveReader; close(): Promise<void> }> {
  if (config.clickhouseUrl && !args.archiverUrl) {
    const archive = await Archive.open(config);
    return { reader: archive, close: () => archive.close() };
  }
  const url = args.archiverUrl ?? config.archiveQueryUrl ?? `http://${config.httpHost}:${config.httpPort}`;
  return { reader: new HttpArchiveReader(url), close: async () => undefined };
}

function progressObserver(replayId: string): ReplayObserver & { stop(): void } {
  if (process.stdout.isTTY) {
    const bar = new SingleBar({ format: `replay {bar} {percentage}% | {value}/{total} | published {published}, skipped {skipped} | ETA {eta_formatted}`, stream: process.stdout, hideCursor: true });
    let base = 0;
    return {
      start: ({ alreadyDone, total }) => {
        base = alreadyDone;
        bar.start(total, alreadyDone, { published: 0, skipped: 0 });
      },
      batch: ({ published, skipped }) => bar.update(base + published + skipped, { published, skipped }),
      stop: () => bar.stop(),
    };
  }
  let total = 0;
  let base = 0;
  let lastPrint = 0;
  return {
    start: (start) => {
      total = start.total;
      base = start.alreadyDone;
      console.log(`replay ${replayId}: ${start.total} records in range, ${start.alreadyDone} already done${start.resumed ? ' (resuming)' : ''}`);
    },
    batch: ({ published, skipped }) => {
      if (Date.now() - lastPrint < PLAIN_PROGRESS_MS) return;
      lastPrint = Date.now();
      console.log(`replay ${replayId}: ${base + published + skipped}/${total} (published ${published}, skipped ${skipped})`);
    },
    stop: () => undefined,
  };
}

async function main(): Promise<number> {
  const parsed = parseReplayArgs(process.argv.slice(2));
  if ('help' in parsed) {
    console.log(USAGE);
    return 0;
  }
  if ('error' in parsed) {
    console.error(`replay: ${parsed.error}\n${USAGE}`);
    return 2;
  }
  const args = parsed.ok;
  const config = loadConfig();
  // Logs go to stderr: stdout carries the progress and the final count.
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'replay', pino.destination({ dest: 2, sync: true }));
  const kafka = createKafka(config, logger, 'srv-visibility-replay');
  const archive = await openArchive(config, args);
  const publisher = await ReplayPublisher.open({ config, kafka, codec: new AvroCodec(createSchemaRegistry(config)), logger, replayId: args.replayId, partyId: args.range.partyId });
  const interrupted = new AbortController();
  const onSignal = () => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const observer = progressObserver(args.replayId);
  try {
    const outcome = await runReplay(args, { archive: archive.reader, sink: publisher, observer, signal: interrupted.signal });
    observer.stop();
    if (outcome.alreadyFinished) {
      console.log(`replay ${args.replayId} had already finished: nothing published (${outcome.alreadyDone} records done by earlier runs)`);
      return 0;
    }
    if (outcome.total === 0) console.log(`no archived copies of party ${args.range.partyId}${args.range.deviceId ? ` on device ${args.range.deviceId}` : ''} with eventTime in [${new Date(args.range.from).toISOString()}, ${new Date(args.range.to).toISOString()})`);
    console.log(summaryLine({ replayId: args.replayId, ...outcome }));
    if (!outcome.finished) console.log(`interrupted: run the same command again to continue`);
    return outcome.finished ? 0 : 130;
  } finally {
    observer.stop();
    await publisher.close();
    await archive.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    const refused = error instanceof ReplayRefused;
    console.error(`replay failed: ${error.message}${refused ? '' : '\nnothing was published twice; run the same command again to continue'}`);
    process.exit(refused ? 2 : 1);
  },
);
