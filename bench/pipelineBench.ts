// npm run bench: pure hot paths, then the whole pipeline on the local stack (Kafka, registry,
// Redis, embedded ClickHouse): N audit events with real DUIS payloads, every copy delivered.
import fs from 'node:fs';
import path from 'node:path';
import { startApp } from '../services/app';
import { loadConfig } from '../services/shared/config';
import { startGroupsAtEnd } from '../services/shared/groups';
import { createKafka, createProducer } from '../services/shared/kafka';
import { TOPICS, partyTopic, type AlertEvent, type AuditEvent, type OwnershipEvent } from '../services/shared/contracts';
import { readToEnd } from '../services/shared/topicReader';
import type { AlertContext } from '../services/alert-triage/correlation';
import { createLogger } from '../services/shared/logger';
import { loadDuisSamples } from '../services/cli/duisSamples';
import { runMicroBenchmarks } from './microBench';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 2_000);
/** Alerts per audit event (default one for every four), each naming the request of an event before it. */
const ALERT_SHARE = Number(process.env.BENCH_ALERT_SHARE ?? 0.25);
const DAY = 86_400_000;

function eui(prefix: number, n: number): string {
  const hex = n.toString(16).toUpperCase().padStart(12, '0').slice(-12);
  return [prefix.toString(16).toUpperCase().padStart(2, '0'), '5E', ...hex.match(/../g)!].join('-');
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

  console.log('== pure hot paths (single core, in process)');
  const micro = runMicroBenchmarks();
  for (const r of micro) console.log(`${r.name.padEnd(52)} ${r.opsPerSecond.toLocaleString('en-GB').padStart(12)} ops/s  ${String(r.nsPerOp).padStart(6)} ns/op`);
  results.micro = micro;

  console.log(`\n== pipeline on the local stack: ${EVENTS.toLocaleString('en-GB')} audit events, ${DEVICES.toLocaleString('en-GB')} devices`);
  // A deployment of its own per run, its groups started at the topics' current end: the bench
  // measures its own traffic, whatever earlier runs, tests or bad records the topics hold.
  const prefix = `srv-visibility-bench-${Date.now().toString(36)}`;
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error', GROUP_PREFIX: prefix, HTTP_PORT: '0', PENDING_SCAN_MS: '1000' });
  await startGroupsAtEnd(createKafka(config, createLogger('error', 'bench-setup')), prefix);
  const app = await startApp({ config, logger: createLogger(process.env.BENCH_LOG_LEVEL ?? 'error', 'bench') });
  const { kafka, codec, schemaIds, metrics } = app.runtime;
  const producer = createProducer(kafka);
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const lag = async (group: string, topic: string) => {
    const highs = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return highs.reduce((n, h) => {
      const c = Number(committed.partitions.find((p) => p.partition === h.partition)?.offset ?? -1);
      return n + Number(h.high) - (c < 0 ? Number(h.low) : c);
    }, 0);
  };
  const drained = async () => {
    for (;;) {
      const l = (await lag(`${prefix}-projector`, TOPICS.auditEvents)) + (await lag(`${prefix}-fan-out`, TOPICS.visibilityRecords)) + (await lag(`${prefix}-ownership-projector`, TOPICS.ownershipEvents));
      if (l === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  process.stdout.write('catching up with earlier traffic on the topics ... ');
  await drained();
  console.log('done');

  // The estate: each device on its own MPAN with an import supplier and a distributor; every
  // fourth premises is dual fuel (hub on MPAN and MPRN: four owners).
  const run = Date.now() % 0xffffff;
  const now = Date.now();
  const ownership: OwnershipEvent[] = [];
  const ownersPerDevice: number[] = [];
  const devices: string[] = [];
  for (let d = 0; d < DEVICES; d++) {
    const device = eui(0xd0, run * 100_000 + d);
    const mpan = String(1_000_000_000_000 + run * 100_000 + d);
    devices.push(device);
    const own = (e: Partial<OwnershipEvent> & Pick<OwnershipEvent, 'type' | 'mpxn'>): OwnershipEvent => ({ eventId: `bench-${run}-${ownership.length}`, deviceId: null, deviceType: null, partyId: null, role: null, effectiveFrom: now - 30 * DAY, ...e });
    ownership.push(own({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'CHF' }));
    ownership.push(own({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: eui(0x90, d % 20), role: 'IS' }));
    ownership.push(own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: eui(0x91, d % 14), role: 'ED' }));
    if (d % 4 === 0) {
      const mprn = String(100_000_000 + ((run * 100_000 + d) % 900_000_000));
      ownership.push(own({ type: 'DEVICE_ASSOCIATED', mpxn: mprn, deviceId: device, deviceType: 'CHF' }));
      ownership.push(own({ type: 'SUPPLIER_REGISTERED', mpxn: mprn, partyId: eui(0x92, d % 20), role: 'GS' }));
      ownership.push(own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mprn, partyId: eui(0x93, d % 8), role: 'GT' }));
      ownersPerDevice.push(4);
    } else ownersPerDevice.push(2);
  }
  for (let i = 0; i < ownership.length; i += 1000) {
    await producer.send({ topic: TOPICS.ownershipEvents, messages: ownership.slice(i, i + 1000).map((e) => ({ key: e.mpxn, value: codec.encodeSync(schemaIds.ownershipEvent, e) })) });
  }
  await drained();

  const { samples, source } = loadDuisSamples();
  const expectedCopies = Array.from({ length: EVENTS }, (_, i) => ownersPerDevice[i % DEVICES]).reduce((a, b) => a + b, 0);
  const messages = Array.from({ length: EVENTS }, (_, i) => {
    const s = samples[i % samples.length];
    const device = devices[i % DEVICES];
    const event: AuditEvent = {
      eventId: `bench-${run}-e${i}`, messageType: i % 3 === 2 ? 'SERVICE_RESPONSE' : 'SERVICE_REQUEST',
      requestId: `${eui(0x90, i % 20)}:${device}:${i}`, serviceReference: s.serviceReference, serviceReferenceVariant: s.serviceReferenceVariant,
      deviceId: device, originatorId: eui(0x90, i % 20), originatorRole: 'IS', eventTime: now - 60_000 + (i % 60_000), responseCode: i % 3 === 2 ? 'I0' : null, payload: s.payload,
    };
    return { key: event.requestId, value: codec.encodeSync(schemaIds.auditEvent, event) };
  });
  const payloadBytes = messages.reduce((n, m) => n + m.value.length, 0);
  // Alerts: the i-th of every 1/ALERT_SHARE events raises one to its device's import supplier,
  // naming its request; sent just after the batch that holds its event.
  const alertEvery = ALERT_SHARE > 0 ? Math.max(1, Math.round(1 / ALERT_SHARE)) : EVENTS + 1;
  const alertsAfter = new Map<number, AlertEvent[]>();
  let alertCount = 0;
  for (let i = 0; ALERT_SHARE > 0 && i < EVENTS; i += alertEvery) {
    const d = i % DEVICES;
    const a: AlertEvent = {
      alertId: `bench-${run}-a${i}`, alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: devices[d], eventTime: now - 60_000 + (i % 60_000) + 1,
      requestId: `${eui(0x90, i % 20)}:${devices[d]}:${i}`, recipientId: eui(0x90, d % 20), payload: Buffer.from('<gbcs:Alert/>'),
    };
    const batch = Math.floor(i / 2000) * 2000;
    alertsAfter.set(batch, [...(alertsAfter.get(batch) ?? []), a]);
    alertCount++;
  }
  const alertSentAt = new Map<string, number>();
  const contextsBefore = (await metrics.alertContexts.get()).values.reduce((n, v) => n + v.value, 0);
  const archivedBefore = (await metrics.produced.get()).values.find((v) => v.labels.service === 'archiver')?.value ?? 0;
  const copiesBefore = (await metrics.produced.get()).values.find((v) => v.labels.service === 'fan-out' && v.labels.destination === 'party')?.value ?? 0;
  const roundTripsBefore = (await metrics.redisRoundTrips.get()).values.find((v) => v.labels.purpose === 'batch')?.value ?? 0;
  const batchesBefore = (await metrics.batchSeconds.get()).values.find((v) => v.labels.service === 'fan-out' && v.metricName === 'visibility_batch_seconds_count')?.value ?? 0;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

  const started = process.hrtime.bigint();
  for (let i = 0; i < messages.length; i += 2000) {
    await producer.send({ topic: TOPICS.auditEvents, messages: messages.slice(i, i + 2000) });
    const alerts = alertsAfter.get(i) ?? [];
    if (alerts.length === 0) continue;
    const sentAt = Date.now();
    for (const a of alerts) alertSentAt.set(a.alertId, sentAt);
    await producer.send({ topic: TOPICS.alerts, messages: alerts.map((a) => ({ key: a.deviceId, value: codec.encodeSync(schemaIds.alertEvent, a), timestamp: String(sentAt) })) });
  }
  const produced = process.hrtime.bigint();
  let lastPrint = 0;
  let delivered: bigint | undefined;
  for (;;) {
    const values = (await metrics.produced.get()).values;
    const copies = (values.find((v) => v.labels.service === 'fan-out' && v.labels.destination === 'party')?.value ?? 0) - copiesBefore;
    const archived = (values.find((v) => v.labels.service === 'archiver')?.value ?? 0) - archivedBefore;
    if (delivered === undefined && copies >= expectedCopies) delivered = process.hrtime.bigint();
    if (Date.now() - lastPrint > 2000) {
      lastPrint = Date.now();
      process.stdout.write(`  ${copies.toLocaleString('en-GB')}/${expectedCopies.toLocaleString('en-GB')} copies delivered, ${archived.toLocaleString('en-GB')} archived\n`);
    }
    // A replayed archiver batch counts twice here, so "at least": the archive's own count is printed below.
    const contexts = (await metrics.alertContexts.get()).values.reduce((n, v) => n + v.value, 0) - contextsBefore;
    if (delivered !== undefined && archived >= expectedCopies && contexts >= alertCount) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const finished = process.hrtime.bigint();
  clearInterval(sampler);
  const seconds = Number(finished - started) / 1e9;
  const roundTrips = ((await metrics.redisRoundTrips.get()).values.find((v) => v.labels.purpose === 'batch')?.value ?? 0) - roundTripsBefore;
  const batches = ((await metrics.batchSeconds.get()).values.find((v) => v.labels.service === 'fan-out' && v.metricName === 'visibility_batch_seconds_count')?.value ?? 0) - batchesBefore;
  const pipeline = {
    events: EVENTS,
    devices: DEVICES,
    payloadSource: source,
    inputMegabytes: +(payloadBytes / 1e6).toFixed(1),
    copies: expectedCopies,
    produceSeconds: +(Number(produced - started) / 1e9).toFixed(2),
    partyDeliverySeconds: +(Number(delivered! - started) / 1e9).toFixed(2),
    endToEndSeconds: +seconds.toFixed(2),
    eventsPerSecond: Math.round(EVENTS / seconds),
    copiesPerSecond: Math.round(expectedCopies / seconds),
    fanOutBatches: batches,
    redisRoundTripsPerFanOutBatch: batches ? +(roundTrips / batches).toFixed(2) : null,
    rssMegabytesBefore: Math.round(rssBefore / 1e6),
    rssMegabytesPeak: Math.round(peakRss / 1e6),
    archiveRows: await app.archive!.count(),
  };
  results.pipeline = pipeline;

  // Alert latency: from the alert's append to its AlertContext's append (both Kafka timestamps).
  const latencies: number[] = [];
  const suppliers = [...new Set(Array.from({ length: 20 }, (_, k) => eui(0x90, k)))].map(partyTopic);
  await readToEnd(kafka, suppliers, async ({ messages: batch }) => {
    for (const m of batch) {
      if (!m.value || m.value.readInt32BE(1) !== schemaIds.alertContext) continue;
      const context = codec.decodeSync<AlertContext>(m.value, 'AlertContext').value;
      const sent = alertSentAt.get(context.alertId);
      if (sent !== undefined) latencies.push(Number(m.timestamp) - sent);
    }
  }, { timeoutMs: 120_000 });
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  results.alerts = { alerts: alertCount, contexts: latencies.length, alertsPerSecond: Math.round(alertCount / seconds), p50Ms: pct(0.5), p99Ms: pct(0.99), maxMs: latencies[latencies.length - 1] };
  console.log(`\nend to end: ${pipeline.events.toLocaleString('en-GB')} events (${pipeline.inputMegabytes} MB incl. payloads) -> ${pipeline.copies.toLocaleString('en-GB')} party copies + archive in ${pipeline.endToEndSeconds} s`);
  console.log(`throughput: ${pipeline.eventsPerSecond.toLocaleString('en-GB')} events/s, ${pipeline.copiesPerSecond.toLocaleString('en-GB')} copies/s through the archive (party topics complete after ${pipeline.partyDeliverySeconds} s; all four services in one process, 2 cores shared with Kafka, registry and Redis)`);
  console.log(`fan-out: ${pipeline.fanOutBatches} batches, ${pipeline.redisRoundTripsPerFanOutBatch} Redis round trips per batch for ownership`);
  const alertFigures = results.alerts as { alerts: number; contexts: number; alertsPerSecond: number; p50Ms: number; p99Ms: number; maxMs: number };
  console.log(`alert triage: ${alertFigures.alerts.toLocaleString('en-GB')} alerts (one per ${alertEvery} audit events), ${alertFigures.contexts.toLocaleString('en-GB')} contexts, ${alertFigures.alertsPerSecond} alerts/s; alert append -> AlertContext append p50 ${alertFigures.p50Ms} ms, p99 ${alertFigures.p99Ms} ms, max ${alertFigures.maxMs} ms`);
  console.log(`memory: RSS ${pipeline.rssMegabytesBefore} MB before, ${pipeline.rssMegabytesPeak} MB peak`);

  const out = path.resolve(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(results, null, 2));
  await producer.disconnect();
  await admin.disconnect();
  await app.stop();
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
