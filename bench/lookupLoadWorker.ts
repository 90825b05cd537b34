// The lookup bench's clients, in a worker thread: `concurrency` loops, each asking for one random
// device's activity as one random party (an owner or a stranger) and timing the answer, until the
// deadline. Kept off the main thread, where the service under test runs, so the clients' own work
// does not queue behind (or in front of) the server's on one event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'node:http';
import { pickLookup, type LookupEstate } from './lookupWorkload';

export interface LoadSettings {
  baseUrl: string;
  estate: LookupEstate;
  tokens: Record<string, string>;
  concurrency: number;
  durationMs: number;
  pageLimit: number;
  ownerShare: number;
  seed: number;
}

export interface LoadProgress {
  kind: 'progress';
  requests: number;
  errors: number;
}

export interface LoadResult {
  kind: 'done';
  latenciesMs: Float64Array;
  requests: number;
  /** Answers other than the expected one: 200 for an owner, 404 for a stranger; transport failures too. */
  errors: number;
  statuses: Record<string, number>;
  errorSamples: string[];
  ownerLookups: number;
  strangerLookups: number;
  itemsReturned: number;
  elapsedMs: number;
}

/** A small deterministic generator (mulberry32): runs are repeatable for a seed. */
function random32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function get(agent: Agent, url: URL, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(settings: LoadSettings): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: settings.concurrency });
  const random = random32(settings.seed);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let [requests, errors, ownerLookups, strangerLookups, itemsReturned] = [0, 0, 0, 0, 0];
  const started = performance.now();
  const deadline = started + settings.durationMs;
  const ticker = setInterval(() => parentPort!.postMessage({ kind: 'progress', requests, errors } satisfies LoadProgress), 500);

  const client = async () => {
    while (performance.now() < deadline) {
      const lookup = pickLookup(settings.estate, random, settings.ownerShare);
      const token = settings.tokens[lookup.partyId];
      const url = new URL(`/v1/devices/${lookup.deviceId}/activity?limit=${settings.pageLimit}`, settings.baseUrl);
      const t0 = performance.now();
      let status = 0;
      let body = '';
      try {
        ({ status, body } = await get(agent, url, token));
      } catch (error) {
        body = (error as Error).message;
      }
      latencies.push(performance.now() - t0);
      requests += 1;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (lookup.owner) ownerLookups += 1;
      else strangerLookups += 1;
      const expected = lookup.owner ? 200 : 404;
      if (status !== expected) {
        errors += 1;
        if (errorSamples.length < 5) errorSamples.push(`${lookup.owner ? 'owner' : 'stranger'} ${lookup.partyId} on ${lookup.deviceId}: ${status} ${body.slice(0, 200)}`);
      } else if (status === 200) {
        itemsReturned += (JSON.parse(body) as { items: unknown[] }).items.length;
      }
    }
  };
  await Promise.all(Array.from({ length: settings.concurrency }, client));
  clearInterval(ticker);
  agent.destroy();
  const result: LoadResult = {
    kind: 'done',
    latenciesMs: Float64Array.from(latencies),
    requests,
    errors,
    statuses,
    errorSamples,
    ownerLookups,
    strangerLookups,
    itemsReturned,
    elapsedMs: performance.now() - started,
  };
  parentPort!.postMessage(result);
}

if (parentPort) void run(workerData as LoadSettings);
