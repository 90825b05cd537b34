import { ConfigError, loadConfig } from '../../services/shared/config';

describe('loadConfig', () => {
  it('uses the contract defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      kafkaBrokers: ['127.0.0.1:9092'],
      schemaRegistryUrl: 'http://127.0.0.1:8081',
      redisUrl: 'redis://127.0.0.1:6379',
      clickhouseUrl: undefined,
      logLevel: 'info',
      originatorDisclosure: 'own-requests',
      transactionalIdPrefix: 'srv-visibility',
      maxSendBytes: 768 * 1024,
      consumeFrom: 'earliest',
      topicReplicationFactor: 1,
      partyTopicPartitions: 1,
    });
    expect(loadConfig({ GROUP_PREFIX: 'blue' }).transactionalIdPrefix).toBe('blue');
  });

  it('splits brokers and trims trailing slashes', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093', SCHEMA_REGISTRY_URL: 'http://sr:8081/', CLICKHOUSE_URL: 'http://ch:8123' });
    expect(config.kafkaBrokers).toEqual(['a:9092', 'b:9093']);
    expect(config.schemaRegistryUrl).toBe('http://sr:8081');
    expect(config.clickhouseUrl).toBe('http://ch:8123');
  });

  it.each([
    [{ KAFKA_BROKERS: 'no-port' }, /KAFKA_BROKERS/],
    [{ REDIS_URL: 'http://x' }, /REDIS_URL must use redis/],
    [{ SCHEMA_REGISTRY_URL: 'not a url' }, /SCHEMA_REGISTRY_URL is not a URL/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ OWNERSHIP_WAIT_MS: 'soon' }, /OWNERSHIP_WAIT_MS must be a whole number/],
    [{ ORIGINATOR_DISCLOSURE: 'everyone' }, /ORIGINATOR_DISCLOSURE/],
    [{ FANOUT_TRANSACTIONS: 'false' }, /FANOUT_TRANSACTIONS is no longer supported/],
    [{ MAX_SEND_BYTES: '10' }, /MAX_SEND_BYTES must be between/],
    [{ CONSUME_FROM: 'middle' }, /CONSUME_FROM must be one of earliest, latest/],
    [{ TOPIC_REPLICATION_FACTOR: '0' }, /TOPIC_REPLICATION_FACTOR must be between 1 and 16/],
    [{ PARTY_TOPIC_PARTITIONS: '0' }, /PARTY_TOPIC_PARTITIONS must be between 1 and 1000/],
  ])('rejects %p with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
