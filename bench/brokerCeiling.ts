// The broker's own ceiling for the pipeline's job, measured with Kafka's perf tools from the
// stack's jars (ProducerPerformance, ConsumerPerformance) on scratch topics with the job's record
// sizes: read the input once, write the intermediate records, write the party copies. One step at a
// time, as on 2 cores the job's steps share the machine too; each step's rate is the tool's own
// (JVM start and group join excluded), so the ceiling is generous to the broker.
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Kafka } from '../services/shared/kafka';
import { REPO_ROOT } from '../services/shared/paths';

export interface CeilingStep {
  step: string;
  records: number;
  recordBytes: number;
  recordsPerSecond: number;
  seconds: number;
}

export interface BrokerCeiling {
  steps: CeilingStep[];
  /** Audit events/s the broker could carry for the job: input read, records and copies written. */
  eventsPerSecond: number;
  /** The same, also producing the input, as the bench's clock counts it. */
  eventsPerSecondWithInput: number;
}

export interface JobShape {
  events: number;
  inputBytes: number;
  recordBytes: number;
  copies: number;
  copyBytes: number;
  partitions: number;
  bootstrap: string;
}

const KAFKA_SH = path.join(REPO_ROOT, 'infra', 'stack', 'kafka.sh');

function runTool(mainClass: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SH, 'perf', mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${mainClass} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/**
 * The producer's rate: from the steady-state line when the run had warm-up records
 * ("50000 steady state records sent, 72568.9 records/sec ..."), else from the summary.
 */
export function parseProducerRate(output: string): number {
  const match = /(\d+) steady state records sent, ([\d.]+) records\/sec/.exec(output) ?? /(\d+) records sent, ([\d.]+) records\/sec/.exec(output);
  if (!match) throw new Error(`ProducerPerformance printed no summary: ${output.slice(-200)}`);
  return Number(match[2]);
}

/** ConsumerPerformance's CSV: the fetch rate (fetch.nMsg.sec, group join excluded). */
export function parseConsumerRate(output: string): number {
  const lines = output.trim().split('\n').filter((l) => l.includes(','));
  const headerAt = lines.findIndex((l) => l.includes('fetch.nMsg.sec'));
  const column = headerAt < 0 ? -1 : lines[headerAt].split(',').map((h) => h.trim()).indexOf('fetch.nMsg.sec');
  const row = headerAt >= 0 && headerAt < lines.length - 1 ? lines[lines.length - 1].split(',').map((v) => v.trim()) : undefined;
  const rate = row ? Number(row[column]) : NaN;
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`ConsumerPerformance printed no summary: ${output.slice(-200)}`);
  return rate;
}

export async function measureBrokerCeiling(kafka: Kafka, job: JobShape, progress: (line: string) => void): Promise<BrokerCeiling> {
  const run = `bench-ceiling-${Date.now().toString(36)}`;
  const topics = { input: `${run}-input`, records: `${run}-records`, copies: `${run}-copies` };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: job.partitions, replicationFactor: 1 })) });
  // A well-batched producer (the Java default batch of 16 KB holds four audit events); the JVM's
  // warm-up is kept out of the figure with warm-up records (as many again as half the step).
  const producerProps = ['--producer-props', `bootstrap.servers=${job.bootstrap}`, 'acks=all', 'linger.ms=5', 'batch.size=524288', 'max.request.size=17825792'];
  const steps: CeilingStep[] = [];
  const produce = async (step: string, topic: string, records: number, recordBytes: number) => {
    const size = Math.max(1, Math.round(recordBytes));
    const rate = parseProducerRate(await runTool('org.apache.kafka.tools.ProducerPerformance', ['--topic', topic, '--num-records', String(records + Math.ceil(records / 2)), '--warmup-records', String(Math.ceil(records / 2)), '--record-size', String(size), '--throughput', '-1', ...producerProps]));
    steps.push({ step, records, recordBytes: size, recordsPerSecond: Math.round(rate), seconds: +(records / rate).toFixed(2) });
    progress(`  ${step}: ${records.toLocaleString('en-GB')} x ${size} B at ${Math.round(rate).toLocaleString('en-GB')} records/s`);
  };
  const consume = async (step: string, topic: string, records: number, recordBytes: number) => {
    const rate = parseConsumerRate(
      await runTool('org.apache.kafka.tools.ConsumerPerformance', ['--bootstrap-server', job.bootstrap, '--topic', topic, '--num-records', String(records + Math.ceil(records / 2)), '--group', `${run}-reader`, '--timeout', '30000']),
    );
    steps.push({ step, records, recordBytes: Math.round(recordBytes), recordsPerSecond: Math.round(rate), seconds: +(records / rate).toFixed(2) });
    progress(`  ${step}: ${records.toLocaleString('en-GB')} at ${Math.round(rate).toLocaleString('en-GB')} records/s`);
  };
  try {
    await produce('produce input (the bench\'s own load)', topics.input, job.events, job.inputBytes);
    await consume('read input', topics.input, job.events, job.inputBytes);
    await produce('write intermediate records', topics.records, job.events, job.recordBytes);
    await produce('write party copies', topics.copies, job.copies, job.copyBytes);
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
  const jobSeconds = steps.slice(1).reduce((n, s) => n + s.seconds, 0);
  return {
    steps,
    eventsPerSecond: Math.round(job.events / jobSeconds),
    eventsPerSecondWithInput: Math.round(job.events / (jobSeconds + steps[0].seconds)),
  };
}
