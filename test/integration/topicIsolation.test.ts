// Only the party can read its topic: on the stack's secured broker (SASL/SCRAM-SHA-512 on 9094,
// StandardAuthorizer, nothing allowed without an ACL; infra/stack/kafka-secure.sh), provisioned by
// services/cli/provisionAcls.ts. Party B is refused on party A's topic and sees no one else's in its
// metadata; A reads its own, also over TLS (SASL_SSL against the stack's local CA); a wrong password
// and an untrusted certificate are refused; and the five services, each under its own
// principal with only its ACLs, still deliver: A's copy and alert context to A, an unowned record and
// a bad input record to the operator, A's copy to the archive.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApp, type App, type ServiceName } from '../../services/app';
import { SERVICES, defaultServicePrincipals, operatorGroupPrefix, partyGroupPrefix } from '../../services/cli/aclPlan';
import { provisionAccess, readCredentials } from '../../services/cli/provisionAcls';
import { Archive } from '../../services/shared/archive';
import { loadConfig, type Config } from '../../services/shared/config';
import { TOPICS, partyTopic, type AlertContext, type AlertEvent, type VisibilityRecord } from '../../services/shared/contracts';
import { STAGE_INPUTS, advanceGroupToTime } from '../../services/shared/groups';
import { createKafka, createProducer, type Kafka } from '../../services/shared/kafka';
import { createLogger } from '../../services/shared/logger';
import { REPO_ROOT } from '../../services/shared/paths';
import { registerSchemas } from '../../services/shared/runtime';
import { AvroCodec, createSchemaRegistry } from '../../services/shared/schemaRegistry';
import { ensureTopics, topicLayout } from '../../services/shared/topics';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, uniqueId } from '../support/fixtures';
import { LogCapture, TEST_ARCHIVE_PATH } from '../support/pipeline';

const SUITE_LOADED_AT = Date.now();
const SECURE_SCRIPT = path.join(REPO_ROOT, 'infra/stack/kafka-secure.sh');
/** The secured broker serves this suite alone; its deployment and parties are the suite's own. */
const GROUP_PREFIX = 'srv-visibility-isolation';
const PARTY_A = '90-B3-D5-1F-15-0A-00-0A';
const PARTY_B = '90-B3-D5-1F-15-0A-00-0B';
const OPERATOR = 'isolation-operator';
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'srv-visibility-isolation-'));
const CREDENTIALS = path.join(WORK, 'principals.env');

function adminEnv(): Record<string, string> {
  const lines = execFileSync('bash', [SECURE_SCRIPT, 'env'], { encoding: 'utf8' }).trim().split('\n');
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

let secureBrokers = '';
/** The same broker's SASL_SSL listener and the local CA that signed its certificate. */
let tlsBrokers = '';
let tlsCa = '';

function secureConfig(username: string, password: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    ...process.env,
    KAFKA_BROKERS: secureBrokers,
    KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext',
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
    GROUP_PREFIX,
    // chdb holds one data directory per process: the one every suite of this jest process uses
    ARCHIVE_PATH: TEST_ARCHIVE_PATH,
    HTTP_PORT: '0',
    OWNERSHIP_WAIT_MS: '3000',
    ALERT_WAIT_MS: '3000',
    PENDING_SCAN_MS: '250',
    LOG_LEVEL: 'debug',
    ...env,
  });
}

const logs = new LogCapture();
let admin: Config;
let adminKafka: Kafka;
let passwords: Map<string, string>;
let codec: AvroCodec;

/** A client with this principal's credentials; what its Kafka client reports goes to `sink`. */
function clientAs(username: string, password = passwords.get(username)!, sink: LogCapture = logs): Kafka {
  return createKafka(secureConfig(username, password), createLogger('warn', 'isolation-client', sink), `isolation-${username}`);
}

/** Waits until the client's reports match `pattern` (librdkafka reports refusals in its log, and retries). */
async function reported(sink: LogCapture, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = sink.lines.find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`the client reported nothing matching ${pattern} in ${timeoutMs} ms: ${sink.text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What this principal's metadata shows: the topics it may describe. */
async function visibleTopics(kafka: Kafka): Promise<string[]> {
  const client = kafka.admin();
  await client.connect();
  try {
    return await client.listTopics();
  } finally {
    await client.disconnect();
  }
}

interface RawMessage {
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic with `kafka` (whose client reports to `sink`) in group `groupId` until `done` holds;
 * rejects as soon as the client reports an authorization error (it would only retry for ever).
 */
async function readAs(kafka: Kafka, sink: LogCapture, groupId: string, topic: string, done: (messages: RawMessage[]) => boolean, timeoutMs = 30_000): Promise<RawMessage[]> {
  const messages: RawMessage[] = [];
  const consumer = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true, autoCommit: false } });
  await consumer.connect();
  try {
    return await new Promise<RawMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out reading ${topic} after ${timeoutMs} ms (${messages.length} records)`)), timeoutMs);
      const refused = setInterval(() => {
        const line = sink.lines.find((l) => /authorization failed/i.test(l));
        if (line) finish(new Error(`refused: ${(JSON.parse(line) as { msg: string }).msg.split('\n')[0]}`));
      }, 100);
      function finish(error?: unknown): void {
        clearTimeout(timer);
        clearInterval(refused);
        if (error) reject(error);
        else resolve(messages);
      }
      consumer
        .subscribe({ topics: [topic] })
        .then(() =>
          consumer.run({
            eachMessage: async ({ message }) => {
              const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
              messages.push({ value: message.value, headers });
              if (done(messages)) finish();
            },
          }),
        )
        .catch(finish);
    });
  } finally {
    await consumer.disconnect();
  }
}

/** The party copies (VisibilityRecord) and alert contexts among a party topic's messages. */
async function decodeParty(messages: RawMessage[]): Promise<{ copies: VisibilityRecord[]; contexts: AlertContext[] }> {
  const ids = await registerSchemas(codec);
  await codec.prefetch(messages.map((m) => m.value));
  const isContext = (m: RawMessage) => m.value !== null && m.value.readInt32BE(1) === ids.alertContext;
  return {
    copies: messages.filter((m) => !isContext(m)).map((m) => codec.decodeSync<VisibilityRecord>(m.value, 'VisibilityRecord').value),
    contexts: messages.filter(isContext).map((m) => codec.decodeSync<AlertContext>(m.value, 'AlertContext').value),
  };
}

function eventIdIn(raw: Buffer | null, eventId: string): boolean {
  return raw !== null && raw.includes(Buffer.from(eventId));
}

beforeAll(async () => {
  // idempotent: already up when stack:up started it, about 15 s otherwise
  try {
    execFileSync('bash', [SECURE_SCRIPT, 'start'], { stdio: 'pipe', encoding: 'utf8' });
  } catch (error) {
    throw new Error(`the secured broker did not start: ${String((error as { stderr?: string }).stderr ?? error)}`);
  }
  const env = adminEnv();
  secureBrokers = env.KAFKA_BROKERS;
  tlsBrokers = env.KAFKA_SECURE_TLS_BROKERS;
  tlsCa = env.KAFKA_SECURE_TLS_CA;
  admin = secureConfig(env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD);
  adminKafka = createKafka(admin, createLogger('warn', 'isolation-admin', logs), 'isolation-admin');
  // The contract's topics, as provisioning makes them on a real cluster (the services may not create them).
  const client = adminKafka.admin();
  await client.connect();
  try {
    await ensureTopics(client, topicLayout({ replicationFactor: 1 }), createLogger('warn', 'isolation-admin', logs));
  } finally {
    await client.disconnect();
  }
  await provisionAccess({ config: admin, parties: [PARTY_A, PARTY_B], operators: [OPERATOR], credentialsFile: CREDENTIALS });
  passwords = readCredentials(CREDENTIALS);
  codec = new AvroCodec(createSchemaRegistry(admin));
  await registerSchemas(codec);
}, 180_000);

afterAll(() => {
  fs.rmSync(WORK, { recursive: true, force: true });
});

test('provisioning is idempotent: a second run (over TLS this time) changes nothing and keeps the passwords', async () => {
  const env = adminEnv();
  const overTls = secureConfig(env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD, { KAFKA_BROKERS: tlsBrokers, KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SSL_CA_LOCATION: tlsCa });
  const again = await provisionAccess({ config: overTls, parties: [PARTY_A, PARTY_B], operators: [OPERATOR], credentialsFile: CREDENTIALS });
  expect(again.summary).toMatch(/^credentials upserted: 9, ACLs in the plan: \d+ \(created if missing\), ACLs pruned: 0$/);
  expect(again.createdTopics).toEqual([]);
  expect(readCredentials(CREDENTIALS)).toEqual(passwords);
  expect([...passwords.keys()].sort()).toEqual([...Object.values(defaultServicePrincipals()), PARTY_A, PARTY_B, OPERATOR].sort());
}, 120_000);

test("party B's metadata shows its own topic and no one else's", async () => {
  const topics = await visibleTopics(clientAs(PARTY_B));
  expect(topics).toEqual([partyTopic(PARTY_B)]);
  expect(await visibleTopics(clientAs(PARTY_A))).toEqual([partyTopic(PARTY_A)]);
  expect((await visibleTopics(adminKafka)).length).toBeGreaterThan(2);
});

test("party B is refused on party A's topic", async () => {
  const sink = new LogCapture();
  const b = clientAs(PARTY_B, passwords.get(PARTY_B), sink);
  await expect(readAs(b, sink, `${partyGroupPrefix(PARTY_B)}${randomUUID()}`, partyTopic(PARTY_A), () => true)).rejects.toThrow(/Topic authorization failed/);
  // nor through another party's consumer group, even on its own topic
  const other = new LogCapture();
  await expect(readAs(clientAs(PARTY_B, passwords.get(PARTY_B), other), other, `${partyGroupPrefix(PARTY_A)}${randomUUID()}`, partyTopic(PARTY_B), () => true)).rejects.toThrow(/Group authorization failed/);
  // nor can it write anything anywhere
  const writes = new LogCapture();
  const producer = createProducer(clientAs(PARTY_B, passwords.get(PARTY_B), writes));
  await producer.connect();
  try {
    // an idempotent producer first asks for a producer id, which takes WRITE on some topic: refused, fatal
    await expect(producer.send({ topic: partyTopic(PARTY_A), messages: [{ key: 'x', value: Buffer.from('x') }] })).rejects.toThrow();
    await reported(writes, /authorization failed/i);
  } finally {
    await producer.disconnect();
  }
});

test('a wrong password is refused', async () => {
  const sink = new LogCapture();
  const intruder = clientAs(PARTY_A, `${passwords.get(PARTY_A)}-wrong`, sink);
  await expect(visibleTopics(intruder)).rejects.toThrow();
  await reported(sink, /Authentication failed.*invalid credentials/i);
});

test("over TLS (SASL_SSL, the stack's CA), A sees its own topic; a client that does not trust that CA is refused", async () => {
  const overTls = (ca: string | undefined, sink: LogCapture) =>
    createKafka(
      secureConfig(PARTY_A, passwords.get(PARTY_A)!, { KAFKA_BROKERS: tlsBrokers, KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', ...(ca ? { KAFKA_SSL_CA_LOCATION: ca } : {}) }),
      createLogger('warn', 'isolation-tls', sink),
      'isolation-tls',
    );
  expect(await visibleTopics(overTls(tlsCa, new LogCapture()))).toEqual([partyTopic(PARTY_A)]);
  const untrusting = new LogCapture();
  await expect(visibleTopics(overTls(undefined, untrusting))).rejects.toThrow();
  await reported(untrusting, /certificate verify failed|SSL handshake failed/i);
});

test('the operator reads sat.dlq and visibility.unowned and no party topic', async () => {
  const topics = await visibleTopics(clientAs(OPERATOR));
  expect(topics.sort()).toEqual([TOPICS.dlq, TOPICS.unowned].sort());
});

describe('the services under their own principals', () => {
  const apps: App[] = [];
  let archive: Archive;

  beforeAll(async () => {
    // Start the suite's deployment at this file's load time: earlier runs' records are not its business.
    for (const [stage, topic] of Object.entries(STAGE_INPUTS)) await advanceGroupToTime(adminKafka, `${GROUP_PREFIX}-${stage}`, topic, SUITE_LOADED_AT);
    const principals = defaultServicePrincipals();
    archive = await Archive.open(secureConfig(principals.archiver, passwords.get(principals.archiver)!));
    const logger = createLogger('debug', 'isolation-services', logs);
    // the archiver first: the fan-out reads the archive through it
    for (const service of ['archiver', 'ownership-projector', 'projector', 'fan-out', 'alert-triage'] as ServiceName[]) {
      expect(SERVICES).toContain(service);
      const principal = principals[service as (typeof SERVICES)[number]];
      const config = secureConfig(principal, passwords.get(principal)!);
      apps.push(await startApp({ config, logger: logger.child({ principal }), services: [service], archive, onFatal: (error) => logs.lines.push(`FATAL ${service}: ${error.message}`) }));
    }
    await Promise.all(apps.map((app) => app.ready()));
  }, 180_000);

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await archive?.close();
  });

  test("A's copy and A's alert context reach A's topic alone; an unowned record and a bad one reach the operator", async () => {
    const now = Date.now();
    const device = randomEui64();
    const stray = randomEui64();
    const mpan = randomMpan();
    const ids = await registerSchemas(codec);
    const ownership = [
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - 86_400_000 }),
      ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: PARTY_A, role: 'IS', effectiveFrom: now - 86_400_000 }),
    ];
    const event = auditEvent({ deviceId: device, originatorId: randomEui64(), originatorRole: 'OU', serviceReferenceVariant: '4.8.1', eventTime: now - 1000 });
    const unowned = auditEvent({ deviceId: stray, originatorId: randomEui64(), eventTime: now - 1000 });
    const garbage = Buffer.from(`not avro ${uniqueId('garbage')}`);
    const alert: AlertEvent = { alertId: uniqueId('alert'), alertCode: '0x8F1C', alertKind: 'DEVICE', deviceId: device, eventTime: now, requestId: event.requestId, recipientId: PARTY_A, payload: Buffer.from('alert-payload') };
    // the upstream writers, here the super user
    const producer = createProducer(adminKafka);
    await producer.connect();
    try {
      await producer.send({ topic: TOPICS.ownershipEvents, messages: ownership.map((e) => ({ key: e.mpxn, value: codec.encodeSync(ids.ownershipEvent, e) })) });
      await new Promise((r) => setTimeout(r, 1500));
      await producer.send({ topic: TOPICS.auditEvents, messages: [event, unowned].map((e) => ({ key: e.requestId, value: codec.encodeSync(ids.auditEvent, e) })) });
      await producer.send({ topic: TOPICS.auditEvents, messages: [{ key: null, value: garbage }] });
    } finally {
      await producer.disconnect();
    }

    const a = new LogCapture();
    const partyA = clientAs(PARTY_A, passwords.get(PARTY_A), a);
    const readA = (done: (m: RawMessage[]) => boolean) => readAs(partyA, a, `${partyGroupPrefix(PARTY_A)}${randomUUID()}`, partyTopic(PARTY_A), done, 60_000);
    const { copies } = await decodeParty(await readA((m) => m.some((r) => eventIdIn(r.value, event.eventId))));
    expect(copies.find((r) => r.eventId === event.eventId)).toMatchObject({ deviceId: device, recipientPartyId: PARTY_A, recipientRole: 'IS', originatorId: null });

    // alert triage, under its principal, writes A's alert context beside the copy
    const alerts = createProducer(adminKafka);
    await alerts.connect();
    try {
      await alerts.send({ topic: TOPICS.alerts, messages: [{ key: device, value: codec.encodeSync(ids.alertEvent, alert) }] });
    } finally {
      await alerts.disconnect();
    }
    const { contexts } = await decodeParty(await readA((m) => m.some((r) => eventIdIn(r.value, alert.alertId))));
    expect(contexts.find((c) => c.alertId === alert.alertId)).toMatchObject({ deviceId: device, recipientPartyId: PARTY_A });

    // the operator reads records nobody owns (after OWNERSHIP_WAIT_MS) and the DLQ
    const o = new LogCapture();
    const operator = clientAs(OPERATOR, passwords.get(OPERATOR), o);
    const strays = await readAs(operator, o, `${operatorGroupPrefix(OPERATOR)}${randomUUID()}`, TOPICS.unowned, (m) => m.some((r) => eventIdIn(r.value, unowned.eventId)), 60_000);
    expect(strays.filter((m) => eventIdIn(m.value, unowned.eventId))).toHaveLength(1);
    const letters = await readAs(operator, o, `${operatorGroupPrefix(OPERATOR)}${randomUUID()}`, TOPICS.dlq, (m) => m.some((r) => r.value?.equals(garbage)), 60_000);
    expect(letters.find((m) => m.value?.equals(garbage))?.headers).toMatchObject({ 'dlq.reason': 'UNDECODABLE', 'dlq.source.topic': TOPICS.auditEvents });

    // the archiver, under its principal, archived A's copy
    const deadline = Date.now() + 30_000;
    while ((await archive.find({ deviceId: device, eventId: event.eventId })).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect((await archive.find({ deviceId: device, eventId: event.eventId })).map((r) => r.recipientPartyId)).toEqual([PARTY_A]);

    // party B saw none of it, and no service was refused anything it needed
    expect(await visibleTopics(clientAs(PARTY_B))).toEqual([partyTopic(PARTY_B)]);
    expect(logs.lines.filter((l) => l.startsWith('FATAL'))).toEqual([]);
    expect(logs.text).not.toMatch(/authoriz\w* fail/i);
    for (const password of passwords.values()) expect(logs.text).not.toContain(password);
  }, 180_000);
});
