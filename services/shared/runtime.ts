// Everything a service needs from the outside world, built once per process from the Config:
// logger, metrics, Kafka client and producer, Avro codec with the contract's schema ids, Redis.
import type { Kafka, Producer } from './kafka';
import type Redis from 'ioredis';
import { loadConfig, type Config } from './config';
import { TOPICS } from './contracts';
import { createKafka, createProducer } from './kafka';
import { createLogger, type Logger } from './logger';
import { Metrics } from './metrics';
import { createRedis } from './redis';
import { ALERT_CONTEXT_SUBJECT, AvroCodec, PARTY_TOPIC_SUBJECT, createSchemaRegistry } from './schemaRegistry';
import { ensureTopics, topicLayout } from './topics';
import type { StageEnvironment } from './stage';
import { Faults } from './faults';

export interface SchemaIds {
  auditEvent: number;
  ownershipEvent: number;
  ownershipFact: number;
  alertEvent: number;
  visibilityRecord: number;
  unowned: number;
  party: number;
  /** visibility.archive carries the very bytes of each party or unowned copy (either id); registered for outside readers. */
  archive: number;
  /** AlertContext on party topics, under its record-name subject (contract). */
  alertContext: number;
}

export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  kafka: Kafka;
  producer: Producer;
  codec: AvroCodec;
  schemaIds: SchemaIds;
  redis(name: string): Promise<Redis>;
  /** Failure injection points for tests; nothing is armed in production. */
  faults: Faults;
  /** What a stage needs to run; a consumer that stops for good calls the process's fatal handler. */
  stageEnvironment(): StageEnvironment;
  /** Who is told when a stage stops for good (default: log and exit 1, so a supervisor restarts). */
  onFatal(handler: (error: Error) => void): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  config?: Config;
  logger?: Logger;
  metrics?: Metrics;
  replicationFactor?: number;
  /** Who is told when a stage stops for good, from the start (default: log and exit 1). */
  onFatal?: (error: Error) => void;
}

/** Registers the contract's schemas under their subjects (idempotent) and returns the ids. */
export async function registerSchemas(codec: AvroCodec): Promise<SchemaIds> {
  return {
    auditEvent: await codec.register('AuditEvent', `${TOPICS.auditEvents}-value`),
    ownershipEvent: await codec.register('OwnershipEvent', `${TOPICS.ownershipEvents}-value`),
    ownershipFact: await codec.register('OwnershipEvent', `${TOPICS.ownershipFacts}-value`),
    alertEvent: await codec.register('AlertEvent', `${TOPICS.alerts}-value`),
    visibilityRecord: await codec.register('VisibilityRecord', `${TOPICS.visibilityRecords}-value`),
    unowned: await codec.register('VisibilityRecord', `${TOPICS.unowned}-value`),
    party: await codec.register('VisibilityRecord', PARTY_TOPIC_SUBJECT),
    archive: await codec.register('VisibilityRecord', `${TOPICS.archive}-value`),
    alertContext: await codec.register('AlertContext', ALERT_CONTEXT_SUBJECT),
  };
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const config = options.config ?? loadConfig();
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = options.metrics ?? new Metrics();
  const kafka = createKafka(config, logger);

  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, topicLayout({ replicationFactor: options.replicationFactor ?? config.topicReplicationFactor }), logger);
  } finally {
    await admin.disconnect();
  }

  const codec = new AvroCodec(createSchemaRegistry(config));
  const schemaIds = await registerSchemas(codec);

  const producer = createProducer(kafka);
  await producer.connect();

  const redisClients: Redis[] = [];
  const faults = new Faults();
  let fatal: (error: Error) => void =
    options.onFatal ??
    ((error) => {
      logger.fatal({ err: { name: error.name, message: error.message } }, 'a stage stopped for good; exiting so the supervisor restarts the process');
      process.exit(1);
    });
  return {
    config,
    logger,
    metrics,
    kafka,
    producer,
    codec,
    schemaIds,
    async redis(name: string) {
      const client = createRedis(config, logger, name);
      await client.connect();
      redisClients.push(client);
      return client;
    },
    faults,
    stageEnvironment() {
      return { kafka, logger, metrics, faults, onFatal: (error: Error) => fatal(error) };
    },
    onFatal(handler) {
      fatal = handler;
    },
    async close() {
      await producer.disconnect();
      await Promise.all(redisClients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
