// The one place a KafkaJS client is built: brokers from config, KafkaJS logs through pino.
import { Kafka, Partitioners, logLevel as KafkaLogLevel, type LogEntry, type Producer } from 'kafkajs';
import type { Config } from './config';
import type { Logger } from './logger';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export function createKafka(config: Config, logger: Logger, clientId = config.kafkaClientId): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: config.kafkaBrokers,
    // KafkaJS's INFO is chatty (every group join); its warnings and errors are what operators need.
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
        // CONCURRENT_TRANSACTIONS right after a commit is expected and retried (PartitionProducers.run).
        const expected = typeof extra.error === 'string' && extra.error.includes('concurrent operation on the same transaction');
        kafkaLogger[expected ? 'debug' : (LEVELS[level] ?? 'info')](extra, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

/**
 * The services' producer: idempotent, never creating topics, and retrying without limit, so
 * during an outage a stage blocks (and its batch is replayed after a rebalance) rather than
 * dropping records. With a transactionalId it can also run Kafka transactions.
 */
export function createProducer(kafka: Kafka, transactionalId?: string): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}
