// npm run bench:lookup: the lookup API over an archive of at least 10 million rows.
// 1. Seeds a fresh embedded archive (chdb) in a temporary directory, inside ClickHouse
//    (INSERT … SELECT FROM numbers: no rows through Node), with a progress bar;
// 2. starts the lookup service in this process over that archive, with a key set of its own
//    (a key pair made here, published as a JWKS file: the same verification path as the local stack's);
// 3. 50 clients (a worker thread) look up random devices as random parties, owners and strangers,
//    for a fixed time after a warm-up; prints p50/p99/p99.9, requests/s, errors and RSS, and
//    writes bench/results/lookup-latest.json.
// Knobs: BENCH_LOOKUP_ROWS (10,000,000), BENCH_LOOKUP_SECONDS (30), BENCH_LOOKUP_WARMUP_SECONDS (5),
// BENCH_LOOKUP_BASELINE_SECONDS (one client alone, 10), BENCH_LOOKUP_CONCURRENCY (50), BENCH_LOOKUP_LIMIT (page size, 50), BENCH_LOOKUP_OWNER_SHARE (0.8),
// BENCH_LOOKUP_OPTIMIZE=0 (skip merging the seeded parts: by default they are merged first, as in an
// archive whose older months have long been merged, and so background merges of the bulk seed do
// not compete with the timed run), BENCH_LOOKUP_KEEP=1 (keep the archive directory).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import cliProgress from 'cli-progress';
import { Archive } from '../services/shared/archive';
import { loadConfig } from '../services/shared/config';
import { createLogger } from '../services/shared/logger';
import { REPO_ROOT } from '../services/shared/paths';
import { defaultEstate, deviceIdOf, estateParties, latencySummary, ownersOf, seedSql, type LookupEstate } from './lookupWorkload';
import type { LoadProgress, LoadResult, LoadSettings } from './lookupLoadWorker';
import { startBenchLookup } from './lookupService';

function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const ROWS = Math.floor(numberEnv('BENCH_LOOKUP_ROWS', 10_000_000));
const SECONDS = numberEnv('BENCH_LOOKUP_SECONDS', 30);
const WARMUP_SECONDS = numberEnv('BENCH_LOOKUP_WARMUP_SECONDS', 5);
const BASELINE_SECONDS = numberEnv('BENCH_LOOKUP_BASELINE_SECONDS', 10);
const CONCURRENCY = Math.floor(numberEnv('BENCH_LOOKUP_CONCURRENCY', 50));
const PAGE_LIMIT = Math.floor(numberEnv('BENCH_LOOKUP_LIMIT', 50));
const OWNER_SHARE = numberEnv('BENCH_LOOKUP_OWNER_SHARE', 0.8);
const CHUNK_ROWS = 500_000;
const MB = 1024 * 1024;

async function seed(archive: Archive, estate: LookupEstate): Promise<{ seconds: number; rowsPerSecond: number }> {
  const bar = new cliProgress.SingleBar(
    { format: 'seeding the archive [{bar}] {percentage}% {value}/{total} rows, {rate} rows/s, eta {eta_formatted}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(estate.rows, 0, { rate: 0 });
  for (let offset = 0; offset < estate.rows; offset += CHUNK_ROWS) {
    const count = Math.min(CHUNK_ROWS, estate.rows - offset);
    await archive.execute(seedSql(estate, offset, count));
    const done = offset + count;
    bar.update(done, { rate: Math.round(done / ((Date.now() - started) / 1000)) });
  }
  bar.stop();
  const seconds = (Date.now() - started) / 1000;
  return { seconds, rowsPerSecond: Math.round(estate.rows / seconds) };
}

/** Runs the clients for `seconds`, with a progress bar; resolves to their result and the peak RSS seen. */
function runClients(settings: LoadSettings, label: string): Promise<{ result: LoadResult; peakRss: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'lookupLoadWorker.js'), { workerData: settings });
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} s, {requests} requests, {errors} errors`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 },
      cliProgress.Presets.shades_classic,
    );
    const total = Math.round(settings.durationMs / 1000);
    const started = Date.now();
    let peakRss = process.memoryUsage().rss;
    bar.start(total, 0, { requests: 0, errors: 0 });
    worker.on('message', (message: LoadProgress | LoadResult) => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (message.kind === 'progress') {
        bar.update(Math.min(total, Math.round((Date.now() - started) / 1000)), { requests: message.requests, errors: message.errors });
      } else {
        bar.update(total, { requests: message.requests, errors: message.errors });
        bar.stop();
        resolve({ result: message, peakRss });
      }
    });
    worker.on('error', (error) => {
      bar.stop();
      reject(error);
    });
  });
}

async function main(): Promise<void> {
  if (ROWS < 10_000_000) console.log(`note: BENCH_LOOKUP_ROWS=${ROWS}, below the issue's 10 million: figures are not comparable to the target`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srv-visibility-lookup-bench-'));
  // Always the embedded engine in a directory of its own: never the stack's archive or a configured server.
  const env: NodeJS.ProcessEnv = { ...process.env, ARCHIVE_PATH: path.join(dir, 'archive'), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  delete env.CLICKHOUSE_URL;
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel, 'lookup-bench');
  const estate = defaultEstate(ROWS, Date.now());
  console.log(
    `lookup bench: ${ROWS.toLocaleString('en-GB')} archive rows, ${estate.devices.toLocaleString('en-GB')} devices, ` +
      `${estate.suppliers + estate.operators} owning parties + ${estate.strangers} strangers; ${CONCURRENCY} clients for ${SECONDS} s (warm-up ${WARMUP_SECONDS} s), page ${PAGE_LIMIT}`,
  );
  console.log(`archive: ${config.archivePath} (embedded chdb, fresh)`);
  const archive = await Archive.open(config);
  let service: Awaited<ReturnType<typeof startBenchLookup>> | undefined;
  try {
    const seeding = await seed(archive, estate);
    console.log(`seeded ${ROWS.toLocaleString('en-GB')} rows in ${seeding.seconds.toFixed(1)} s (${seeding.rowsPerSecond.toLocaleString('en-GB')} rows/s)`);
    // The SQL and the clients must name the same devices and owners: a few are checked before timing.
    for (const d of [0, 1, 10, estate.devices - 1]) {
      for (const owner of ownersOf(estate, d)) {
        if ((await archive.find({ deviceId: deviceIdOf(d), recipientPartyId: owner, limit: 1 })).length === 0) {
          throw new Error(`seeding defect: no rows for device ${deviceIdOf(d)} received by its owner ${owner}`);
        }
      }
    }
    let optimizeSeconds: number | null = null;
    if (process.env.BENCH_LOOKUP_OPTIMIZE !== '0') {
      const t0 = Date.now();
      console.log('merging the seeded parts (OPTIMIZE … FINAL)…');
      await archive.execute('OPTIMIZE TABLE visibility_archive FINAL');
      optimizeSeconds = (Date.now() - t0) / 1000;
    }
    const rssAfterSeed = process.memoryUsage().rss;

    service = await startBenchLookup({ env, archive, logger, dir, parties: estateParties(estate) });
    const settings = (durationMs: number, seed: number, concurrency = CONCURRENCY): LoadSettings => ({
      baseUrl: service!.baseUrl,
      estate,
      tokens: service!.tokens,
      concurrency,
      durationMs,
      pageLimit: PAGE_LIMIT,
      ownerShare: OWNER_SHARE,
      seed,
    });
    const warm = await runClients(settings(WARMUP_SECONDS * 1000, 1), 'warm-up');
    if (warm.result.errors > 0) console.log(`warm-up errors: ${warm.result.errors}; e.g. ${warm.result.errorSamples.join(' | ')}`);
    // One client alone: the service time of a lookup, without queueing behind the other 49.
    const single = await runClients(settings(BASELINE_SECONDS * 1000, 3, 1), 'one client');
    const singleLatency = latencySummary(single.result.latenciesMs);
    console.log(`one client: p50 ${singleLatency.p50} ms, p99 ${singleLatency.p99} ms, ${Math.round(single.result.requests / (single.result.elapsedMs / 1000))} requests/s`);
    const loadAtStart = os.loadavg()[0];
    const cpuBefore = process.cpuUsage();
    const { result, peakRss } = await runClients(settings(SECONDS * 1000, 2), 'lookups');
    const cpu = process.cpuUsage(cpuBefore);
    const latency = latencySummary(result.latenciesMs);
    const seconds = result.elapsedMs / 1000;
    const figures = {
      date: new Date().toISOString(),
      node: process.version,
      host: { cores: os.cpus().length, loadAverage1mAtStart: Math.round(loadAtStart * 100) / 100, loadAverage1mAtEnd: Math.round(os.loadavg()[0] * 100) / 100, sharedWithOtherWork: true },
      archive: { engine: 'embedded chdb', rows: ROWS, devices: estate.devices, parties: estate.suppliers + estate.operators, strangers: estate.strangers, windowDays: estate.windowDays },
      seeding: { ...seeding, optimizeSeconds },
      run: { concurrency: CONCURRENCY, seconds: Math.round(seconds * 10) / 10, warmupSeconds: WARMUP_SECONDS, pageLimit: PAGE_LIMIT, ownerShare: OWNER_SHARE },
      requests: result.requests,
      requestsPerSecond: Math.round(result.requests / seconds),
      errors: result.errors,
      statuses: result.statuses,
      errorSamples: result.errorSamples,
      ownerLookups: result.ownerLookups,
      strangerLookups: result.strangerLookups,
      meanItemsPerOwnerLookup: result.ownerLookups ? Math.round((result.itemsReturned / result.ownerLookups) * 10) / 10 : 0,
      latencyMs: latency,
      oneClient: { requests: single.result.requests, requestsPerSecond: Math.round(single.result.requests / (single.result.elapsedMs / 1000)), latencyMs: singleLatency, errors: single.result.errors },
      targetP99Ms: 50,
      meetsTarget: latency.p99 <= 50,
      processCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      rssMb: { afterSeed: Math.round(rssAfterSeed / MB), peakDuringRun: Math.round(peakRss / MB), end: Math.round(process.memoryUsage().rss / MB) },
    };
    console.log('');
    console.log(`lookups        ${result.requests.toLocaleString('en-GB')} in ${seconds.toFixed(1)} s: ${figures.requestsPerSecond.toLocaleString('en-GB')} requests/s at ${CONCURRENCY} clients`);
    console.log(`latency (ms)   p50 ${latency.p50}  p99 ${latency.p99}  p99.9 ${latency.p999}  max ${latency.max}  mean ${latency.mean}   (target p99 <= 50: ${figures.meetsTarget ? 'met' : 'NOT met'})`);
    console.log(`one client     p50 ${singleLatency.p50}  p99 ${singleLatency.p99}  (${figures.oneClient.requestsPerSecond} requests/s alone: the service time of a lookup)`);
    console.log(`answers        ${Object.entries(result.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')}; owners ${result.ownerLookups}, strangers ${result.strangerLookups}; ${figures.meanItemsPerOwnerLookup} items per owner lookup`);
    console.log(`errors         ${result.errors}${result.errorSamples.length ? `  e.g. ${result.errorSamples.join(' | ')}` : ''}`);
    console.log(`RSS (MB)       after seeding ${figures.rssMb.afterSeed}, highest sampled during the run ${figures.rssMb.peakDuringRun}; process CPU during the run ${figures.processCpuSeconds} s`);
    console.log(`host           ${figures.host.cores} cores, load average ${figures.host.loadAverage1mAtStart} at the start, ${figures.host.loadAverage1mAtEnd} at the end (shared with other work: figures vary with it)`);
    const out = path.join(REPO_ROOT, 'bench', 'results');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'lookup-latest.json'), `${JSON.stringify(figures, null, 2)}\n`);
    console.log(`written to bench/results/lookup-latest.json`);
    if (result.errors > 0) process.exitCode = 1;
  } finally {
    await service?.close();
    await archive.close();
    if (process.env.BENCH_LOOKUP_KEEP === '1') console.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
