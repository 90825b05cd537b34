// npm run bench: pure hot paths; the broker's own ceiling for the job; then the whole pipeline on the
// local stack (Kafka, registry, Redis, embedded ClickHouse), each service its own process as
// deployed, on a deployment of its own (its groups start at the topics' current end, so earlier
// traffic or bad records on the topics do not matter).
//   BENCH_MODE=saturation (default): BENCH_EVENTS audit events as fast as they can be written.
//   BENCH_MODE=rate: BENCH_RATE events/s for BENCH_SECONDS; latency is the figure.
//   BENCH_ESTATE=national: the national-estate workload (bench/nationalWorkload.ts: BENCH_DEVICES
//   default 1,000,000 on single- and dual-fuel premises, weighted SRVs, responses, Changes of
//   Supplier); default compact (bench/workload.ts: 2,000 devices, SRVs in turn).
//   BENCH_LAYOUT=one-process (every service in one process, as `npm start`), BENCH_FAN_OUT_INSTANCES (default 1), BENCH_DEVICES, BENCH_ALERT_SHARE, BENCH_CEILING=off,
//   BENCH_TIMEOUT_S (default 900: the bench gives up and says so), BENCH_KEEP_LOGS=1 (services' logs),
//   BENCH_PROFILE=fan-out,archiver (CPU profiles of those services, kept with the logs), BENCH_THREADS=1
//   (CPU by thread name per service).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import Redis from 'ioredis';
import { loadConfig } from '../services/shared/config';
import { groupLag, startGroupsAtEnd } from '../services/shared/groups';
import { createKafka, createProducer } from '../services/shared/kafka';
import { TOPICS, partyTopic, type OwnershipEvent, type VisibilityRecord } from '../services/shared/contracts';
import { readToEnd } from '../services/shared/topicReader';
import type { AlertContext } from '../services/shared/contracts';
import { createLogger } from '../services/shared/logger';
import { REPO_ROOT } from '../services/shared/paths';
import { registerSchemas } from '../services/shared/runtime';
import { AvroCodec, createSchemaRegistry } from '../services/shared/schemaRegistry';
import { loadDuisSamples } from '../services/cli/duisSamples';
import { projectAuditEvent, validateAuditEvent } from '../services/projector/projection';
import { copyFor } from '../services/fan-out/routing';
import { counterValue, freePort, processUsage, scrape, spawnService, threadUsage, type ProcessUsage } from '../test/support/serviceProcess';
import { runMicroBenchmarks } from './microBench';
import { measureBrokerCeiling, type BrokerCeiling } from './brokerCeiling';
import { makeBenchWorkload, type BenchWorkload } from './workload';
import { makeNationalWorkload } from './nationalWorkload';

const MODE = process.env.BENCH_MODE === 'rate' ? 'rate' : 'saturation';
const RATE = Number(process.env.BENCH_RATE ?? 5_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const EVENTS = MODE === 'rate' ? RATE * SECONDS : Number(process.env.BENCH_EVENTS ?? 20_000);
const ESTATE = process.env.BENCH_ESTATE === 'national' ? 'national' : 'compact';
const DEVICES = Number(process.env.BENCH_DEVICES ?? (ESTATE === 'national' ? 1_000_000 : 2_000));
/** processes (default): each service its own process, as deployed; one-process: `npm start`'s all-in-one. */
const LAYOUT = process.env.BENCH_LAYOUT === 'one-process' ? 'one-process' : 'processes';
const FAN_OUTS = LAYOUT === 'one-process' ? 1 : Number(process.env.BENCH_FAN_OUT_INSTANCES ?? 1);
/** Alerts per audit event (default one for every four), each naming the request of an event before it. */
const ALERT_SHARE = Number(process.env.BENCH_ALERT_SHARE ?? 0.25);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 900) * 1000;
const SERVICES = ['ownership-projector', 'projector', 'archiver', 'fan-out', 'alert-triage'] as const;
type Service = (typeof SERVICES)[number];
/** Every service process this run started, stopped on the way out whatever happens. */
const children: ChildProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const n = (x: number) => x.toLocaleString('en-GB');

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { count: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: sorted[sorted.length - 1] };
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, mode: MODE, layout: LAYOUT, fanOutInstances: FAN_OUTS, command: `BENCH_MODE=${MODE} npm run bench` };

  console.log('== pure hot paths (single core, in process)');
  const micro = runMicroBenchmarks();
  for (const r of micro) console.log(`${r.name.padEnd(52)} ${n(r.opsPerSecond).padStart(12)} ops/s  ${String(r.nsPerOp).padStart(6)} ns/op`);
  results.micro = micro;

  const prefix = `srv-visibility-bench-${Date.now().toString(36)}`;
  const dir = path.join(REPO_ROOT, '.stack', 'bench', prefix);
  fs.mkdirSync(dir, { recursive: true });
  const archiverPort = await freePort();
  const env = {
    ...process.env,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    GROUP_PREFIX: prefix,
    ARCHIVE_PATH: path.join(dir, 'archive'),
    ARCHIVE_QUERY_URL: `http://127.0.0.1:${archiverPort}`,
    PENDING_SCAN_MS: '1000',
  };
  const config = loadConfig(env);
  const kafka = createKafka(config, createLogger('error', 'bench'));
  const codec = new AvroCodec(createSchemaRegistry(config));
  const schemaIds = await registerSchemas(codec);
  const producer = createProducer(kafka);
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();

  const { samples, source } = loadDuisSamples();
  const run = Date.now() % 0xffffff;
  const workload: BenchWorkload =
    ESTATE === 'national'
      ? makeNationalWorkload({ devices: DEVICES, alertShare: ALERT_SHARE, samples, run, now: Date.now(), events: EVENTS })
      : makeBenchWorkload({ devices: DEVICES, alertShare: ALERT_SHARE, samples, run, now: Date.now() });
  const { eventAt, alertFor } = workload;
  const partyTopics = workload.partyIds.map(partyTopic);
  const expectedCopies = workload.copiesFor(EVENTS);
  const alertCount = workload.alertsFor(EVENTS);
  const eventPrefix = eventAt(0).eventId.slice(0, -1);
  const alertEvery = ALERT_SHARE > 0 ? Math.max(1, Math.round(1 / ALERT_SHARE)) : 0;

  // Record sizes of this job, for the ceiling: input, intermediate record, party copy.
  const sizes = { input: 0, record: 0, copy: 0 };
  const sampled = Math.min(EVENTS, 20_000);
  for (let i = 0; i < sampled; i++) {
    const event = eventAt(i);
    sizes.input += codec.encodeSync(schemaIds.auditEvent, event).length;
    const record = projectAuditEvent(validateAuditEvent(event, { now: Date.now(), maxFutureSkewMs: config.maxFutureSkewMs }));
    sizes.record += codec.encodeSync(schemaIds.visibilityRecord, record).length;
    sizes.copy += codec.encodeSync(schemaIds.party, copyFor(record, { partyId: workload.anySupplier, role: 'IS' }, config.originatorDisclosure)).length;
  }

  let ceiling: BrokerCeiling | undefined;
  if (process.env.BENCH_CEILING !== 'off') {
    console.log(`\n== the broker's ceiling for this job (Kafka's ProducerPerformance / ConsumerPerformance, scratch topics, one step at a time)`);
    ceiling = await measureBrokerCeiling(
      kafka,
      { events: EVENTS, inputBytes: sizes.input / sampled, recordBytes: sizes.record / sampled, copies: expectedCopies, copyBytes: sizes.copy / sampled, partitions: 6, bootstrap: config.kafkaBrokers.join(',') },
      (line) => console.log(line),
    );
    console.log(`ceiling: ${n(ceiling.eventsPerSecond)} events/s (read input, write records and copies); ${n(ceiling.eventsPerSecondWithInput)} events/s counting input production`);
    results.brokerCeiling = ceiling;
  }

  console.log(`\n== pipeline (${MODE === 'rate' ? `${n(RATE)} events/s for ${SECONDS} s` : `${n(EVENTS)} audit events, as fast as they can be written`}), ${n(workload.deviceCount)} devices (${ESTATE} estate), ${LAYOUT === 'one-process' ? 'five services in one process' : `five services as processes, ${FAN_OUTS} fan-out instance(s)`}`);
  await startGroupsAtEnd(kafka, prefix);
  // The estate's registrations first: the services start on them (a million devices take minutes to
  // project), and the fan-out's reconciliation starts where the changes stream ends when it starts.
  const sendOwnership = (events: OwnershipEvent[]) =>
    producer.send({ topic: TOPICS.ownershipEvents, messages: events.map((e) => ({ key: e.mpxn, value: codec.encodeSync(schemaIds.ownershipEvent, e) })) });
  let registered = 0;
  let batch: OwnershipEvent[] = [];
  const sendRegistrations = async () => {
    await sendOwnership(batch);
    registered += batch.length;
    batch = [];
    if (registered % 200_000 < 1_000) console.log(`  registrations: ${n(registered)}/${n(workload.registrationCount)} written`);
  };
  for (const registration of workload.registrations()) {
    batch.push(registration);
    if (batch.length === 1_000) await sendRegistrations();
  }
  if (batch.length > 0) await sendRegistrations();
  const processes: Array<{ name: string; services: readonly Service[]; child: ChildProcess; port: number }> = [];
  const launch = (name: string, entry: string, services: readonly Service[], port: number) => {
    const profiled = (process.env.BENCH_PROFILE ?? '').split(',').some((p) => services.includes(p as Service));
    const child = spawnService(entry, { ...env, HTTP_PORT: String(port), KAFKA_INSTANCE_ID: name }, path.join(dir, `${name}.log`), profiled ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'profiles')}`, `--cpu-prof-name=${name}.cpuprofile`] : []);
    children.push(child);
    child.once('exit', (code) => !stopping && console.error(`  ${name} exited (code ${code}); see ${path.join(dir, `${name}.log`)}`));
    processes.push({ name, services, child, port });
  };
  let stopping = false;
  const deadline = Date.now() + TIMEOUT_MS;
  const give = (what: string) => {
    if (Date.now() > deadline) throw new Error(`gave up after ${TIMEOUT_MS / 1000} s ${what}; logs in ${dir}`);
  };
  const projected = async () => {
    for (let lastSaid = Date.now(), lag = Infinity; (lag = await groupLag(kafka, `${prefix}-ownership-projector`, TOPICS.ownershipEvents)) > 0; ) {
      give('waiting for the registrations to be projected');
      if (Date.now() - lastSaid > 10_000) {
        console.log(`  registrations: ${n(lag)} still to project`);
        lastSaid = Date.now();
      }
      await sleep(200);
    }
  };
  if (LAYOUT === 'one-process') {
    launch('all-services', '.', SERVICES, archiverPort);
  } else {
    // The estate exists before the pipeline does: the ownership projector projects it first, and the
    // fan-out, started after, begins reconciling at the end of the changes it made (a million
    // devices' registrations are not the steady state being measured).
    launch('ownership-projector-1', 'ownership-projector', ['ownership-projector'], await freePort());
    await sleep(1_000);
    await projected();
    for (const service of SERVICES.filter((s) => s !== 'ownership-projector')) {
      for (let instance = 1; instance <= (service === 'fan-out' ? FAN_OUTS : 1); instance++) {
        launch(`${service}-${instance}`, service, [service], service === 'archiver' ? archiverPort : await freePort());
      }
    }
  }
  const groupsStable = async () => {
    const wanted = SERVICES.map((s) => ({ group: `${prefix}-${s}`, members: s === 'fan-out' ? FAN_OUTS : 1 }));
    wanted.push({ group: `${prefix}-alert-triggers`, members: 1 });
    const { groups } = await admin.describeGroups(wanted.map((w) => w.group));
    return wanted.every((w) => groups.some((g) => g.groupId === w.group && g.members.length >= w.members && (g.state as unknown) === KafkaJS.ConsumerGroupStates.STABLE));
  };
  while (!(await groupsStable().catch(() => false))) {
    give('waiting for the services to join their groups');
    await sleep(500);
  }
  await projected();
  // The fan-out reconciles registration changes against the archive (late ownership); the estate's
  // own registrations are not the steady state being measured, so the timed part starts after.
  const redis = new Redis(config.redisUrl);
  const reconciled = async () => {
    const [latest] = await redis.xrevrange('own:changes', '+', '-', 'COUNT', 1);
    const cursors = await redis.mget(...Array.from({ length: 6 }, (_, p) => `fanout:{${prefix}}:late:cursor:${p}`));
    return latest === undefined || cursors.every((c) => c === latest[0]);
  };
  for (let lastSaid = Date.now(); !(await reconciled()); ) {
    give('waiting for the fan-out to reconcile the registrations');
    if (Date.now() - lastSaid > 10_000) {
      console.log('  registrations: the fan-out is still reconciling them');
      lastSaid = Date.now();
    }
    await sleep(200);
  }
  await redis.quit();
  console.log(`  services up, ${n(workload.registrationCount)} registration events projected and reconciled`);

  const counters = async () => {
    let copies = 0;
    let archived = 0;
    let contexts = 0;
    for (const p of processes) {
      const page = await scrape(p.port);
      if (p.services.includes('fan-out')) copies += counterValue(page, 'visibility_records_produced_total', { service: 'fan-out', destination: 'party' });
      if (p.services.includes('archiver')) archived += counterValue(page, 'visibility_records_produced_total', { service: 'archiver' });
      if (p.services.includes('alert-triage')) contexts += counterValue(page, 'visibility_alert_contexts_total');
    }
    return { copies, archived, contexts };
  };
  // The stack's processes too (same box, same 2 cores): where the rest of the CPU goes.
  const stackPids = (['kafka/kafka.pid', 'schema-registry/registry.pid', 'redis/redis.pid'] as const).flatMap((file) => {
    const pid = Number(fs.readFileSync(path.join(REPO_ROOT, '.stack', file), 'utf8').trim());
    return pid > 0 && fs.existsSync(`/proc/${pid}`) ? [{ name: `(stack) ${file.split('/')[0]}`, pid }] : [];
  });
  const measured = [...processes.map((p) => ({ name: p.name, pid: p.child.pid! })), ...stackPids, { name: '(bench) load generator', pid: process.pid }];
  const usage = () => new Map(measured.map((p) => [p.name, processUsage(p.pid)]));
  const usageBefore = usage();

  const sentAt = new Float64Array(EVENTS);
  const alertSentAt = new Map<string, number>();
  let sent = 0;
  let changesWritten = 0;
  let lastPrint = Date.now();
  const sendUpTo = async (target: number) => {
    while (sent < target) {
      const end = Math.min(target, sent + 2_000);
      const messages = [];
      const alerts = [];
      const changes: OwnershipEvent[] = [];
      for (let i = sent; i < end; i++) {
        const change = workload.changeOfSupplierAt?.(i);
        if (change) changes.push(change);
        const event = eventAt(i);
        messages.push({ key: event.requestId, value: codec.encodeSync(schemaIds.auditEvent, event) });
        if (workload.raisesAlert(i)) alerts.push(alertFor(i));
      }
      if (changes.length > 0) await sendOwnership(changes);
      changesWritten += changes.length;
      const at = Date.now();
      await producer.send({ topic: TOPICS.auditEvents, messages });
      sentAt.fill(at, sent, end);
      if (alerts.length > 0) {
        const alertAt = Date.now();
        for (const a of alerts) alertSentAt.set(a.alertId, alertAt);
        await producer.send({ topic: TOPICS.alerts, messages: alerts.map((a) => ({ key: a.deviceId, value: codec.encodeSync(schemaIds.alertEvent, a) })) });
      }
      sent = end;
    }
  };
  const progress = async (phase: string) => {
    if (Date.now() - lastPrint < 2_000) return;
    lastPrint = Date.now();
    const c = await counters();
    console.log(`  ${phase}: ${n(sent)}/${n(EVENTS)} events written, ${n(c.copies)}/${n(expectedCopies)} copies delivered, ${n(c.archived)} archived, ${n(c.contexts)}/${n(alertCount)} alert contexts`);
  };

  const started = Date.now();
  if (MODE === 'rate') {
    while (sent < EVENTS) {
      await sendUpTo(Math.min(EVENTS, Math.floor(((Date.now() - started) / 1000) * RATE)));
      await progress('writing');
      await sleep(5);
    }
  } else {
    for (let i = 0; i < EVENTS; i += 2_000) {
      await sendUpTo(Math.min(EVENTS, i + 2_000));
      await progress('writing');
    }
  }
  const produced = Date.now();
  let delivered: number | undefined;
  for (;;) {
    give('waiting for every copy, archive row and alert context');
    const c = await counters();
    if (delivered === undefined && c.copies >= expectedCopies) delivered = Date.now();
    // A replayed archiver batch counts twice here, so "at least".
    if (delivered !== undefined && c.archived >= expectedCopies && c.contexts >= alertCount) break;
    await progress('draining');
    await sleep(100);
  }
  const finished = Date.now();
  const usageAfter = usage();
  const seconds = (finished - started) / 1000;

  // Latency: audit event written -> its party copy appended; alert written -> its AlertContext appended.
  const copyLatencies: number[] = [];
  const alertLatencies: number[] = [];
  await readToEnd(kafka, partyTopics, ({ messages }) => {
    for (const m of messages) {
      if (!m.value) continue;
      const schemaId = m.value.readInt32BE(1);
      if (schemaId === schemaIds.party) {
        const { eventId } = codec.decodeSync<VisibilityRecord>(m.value, 'VisibilityRecord').value;
        if (eventId.startsWith(eventPrefix)) copyLatencies.push(Number(m.timestamp) - sentAt[Number(eventId.slice(eventPrefix.length))]);
      } else if (schemaId === schemaIds.alertContext) {
        const sentAlert = alertSentAt.get(codec.decodeSync<AlertContext>(m.value, 'AlertContext').value.alertId);
        if (sentAlert !== undefined) alertLatencies.push(Number(m.timestamp) - sentAlert);
      }
    }
  }, { timeoutMs: 180_000, fromTimestamp: started - 1_000 });

  const transactions = new Map<string, number>();
  for (const p of processes) transactions.set(p.name, counterValue(await scrape(p.port), 'visibility_transactions_total', { outcome: 'committed' }));
  const perService: Record<string, ProcessUsage & { cpuSecondsPer100kEvents: number; transactions?: number }> = {};
  for (const p of measured) {
    const before = usageBefore.get(p.name)!;
    const after = usageAfter.get(p.name)!;
    perService[p.name] = { cpuSeconds: +(after.cpuSeconds - before.cpuSeconds).toFixed(1), peakRssMegabytes: after.peakRssMegabytes, cpuSecondsPer100kEvents: +(((after.cpuSeconds - before.cpuSeconds) * 100_000) / EVENTS).toFixed(1), transactions: transactions.get(p.name) };
  }
  const pipeline = {
    events: EVENTS,
    estate: ESTATE,
    devices: workload.deviceCount,
    registrations: workload.registrationCount,
    changesOfSupplierDuringRun: changesWritten,
    payloadSource: source,
    inputMegabytes: +((sizes.input / sampled) * EVENTS / 1e6).toFixed(1),
    copies: expectedCopies,
    produceSeconds: +((produced - started) / 1000).toFixed(2),
    partyDeliverySeconds: +((delivered! - started) / 1000).toFixed(2),
    endToEndSeconds: +seconds.toFixed(2),
    eventsPerSecond: Math.round(EVENTS / seconds),
    copiesPerSecond: Math.round(expectedCopies / seconds),
    copyLatency: percentiles(copyLatencies),
    perService,
  };
  results.pipeline = pipeline;
  results.alerts = { alerts: alertCount, alertsPerSecond: Math.round(alertCount / seconds), latency: percentiles(alertLatencies) };

  console.log(`\nend to end: ${n(EVENTS)} events (${pipeline.inputMegabytes} MB) -> ${n(expectedCopies)} party copies + archive in ${pipeline.endToEndSeconds} s (writing took ${pipeline.produceSeconds} s; party topics complete after ${pipeline.partyDeliverySeconds} s)`);
  console.log(`throughput: ${n(pipeline.eventsPerSecond)} events/s, ${n(pipeline.copiesPerSecond)} copies/s through the archive`);
  if (pipeline.changesOfSupplierDuringRun > 0) console.log(`estate: ${n(pipeline.devices)} devices, ${n(pipeline.registrations)} registrations, ${n(pipeline.changesOfSupplierDuringRun)} Changes of Supplier registered during the run`);
  if (ceiling) {
    const ratio = (x: number, y: number) => +(x / y).toFixed(2);
    results.ceilingRatio = { job: ratio(pipeline.eventsPerSecond, ceiling.eventsPerSecond), withInput: ratio(pipeline.eventsPerSecond, ceiling.eventsPerSecondWithInput) };
    console.log(`pipeline / broker ceiling: ${ratio(pipeline.eventsPerSecond, ceiling.eventsPerSecond)} (${ratio(pipeline.eventsPerSecond, ceiling.eventsPerSecondWithInput)} counting input production)`);
  }
  const l = pipeline.copyLatency;
  console.log(`audit event written -> party copy appended: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, p99.9 ${l.p999Ms} ms, max ${l.maxMs} ms (${n(l.count)} copies)`);
  const a = percentiles(alertLatencies);
  console.log(`alert triage: ${n(alertCount)} alerts (one per ${alertEvery || '-'} events); alert written -> AlertContext appended p50 ${a.p50Ms} ms, p99 ${a.p99Ms} ms, max ${a.maxMs} ms`);
  console.log('per service (timed part): CPU seconds, per 100,000 events, peak RSS');
  for (const [name, u] of Object.entries(perService)) console.log(`  ${name.padEnd(22)} ${String(u.cpuSeconds).padStart(7)} s  ${String(u.cpuSecondsPer100kEvents).padStart(7)} s/100k  ${String(u.peakRssMegabytes).padStart(5)} MB${u.transactions !== undefined ? `  ${n(u.transactions)} transactions` : ''}`);

  if (process.env.BENCH_THREADS) {
    console.log('CPU seconds by thread (whole process life), per service:');
    for (const p of processes) {
      const threads = [...threadUsage(p.child.pid!)].sort((x, y) => y[1] - x[1]).slice(0, 8);
      console.log(`  ${p.name}: ${threads.map(([t, s]) => `${t} ${s.toFixed(1)}`).join(', ')}`);
    }
  }
  stopping = true;
  await Promise.all(processes.map((p) => new Promise((resolve) => (p.child.exitCode !== null ? resolve(undefined) : (p.child.once('exit', resolve), p.child.kill('SIGTERM'))))));
  const out = path.join(REPO_ROOT, 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'latest.json'), JSON.stringify(results, null, 2));
  fs.writeFileSync(path.join(out, `${MODE}-${LAYOUT === 'one-process' ? 'one-process' : `fan-out-${FAN_OUTS}`}.json`), JSON.stringify(results, null, 2));
  if (process.env.BENCH_KEEP_LOGS) console.log(`logs kept in ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  await producer.disconnect();
  await admin.disconnect();
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  process.exit(1);
});
