// The one place a KafkaJS client is built: brokers from config, KafkaJS logs through pino.
import { Kafka, Partitioners, logLevel as KafkaLogLevel, type LogEntry, type Producer, type Transaction } from 'kafkajs';
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
        // CONCURRENT_TRANSACTIONS right after a commit is expected and retried (inTransaction).
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

function isConcurrentTransactions(error: unknown): boolean {
  for (let e = error as { type?: string; originalError?: unknown; cause?: unknown } | undefined; e; e = (e.originalError ?? e.cause) as typeof e) {
    if (e.type === 'CONCURRENT_TRANSACTIONS') return true;
  }
  return false;
}

/**
 * Runs `work` in one Kafka transaction: commit on success, abort on failure. Right after a commit
 * the coordinator may still be writing the previous transaction's markers and answers
 * CONCURRENT_TRANSACTIONS; the Java client retries that internally, KafkaJS does not, so the whole
 * transaction is retried here (work must be safe to run again).
 */
export async function inTransaction<T>(producer: Producer, work: (transaction: Transaction) => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const transaction = await producer.transaction();
    try {
      const result = await work(transaction);
      await transaction.commit();
      return result;
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      if (!isConcurrentTransactions(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}
