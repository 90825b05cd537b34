// The one place environment variables are read and validated. Every service takes a Config.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './paths';

export type DisclosurePolicy = 'own-requests' | 'owners' | 'none';

export const KAFKA_SECURITY_PROTOCOLS = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
export const KAFKA_SASL_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const;

/** How clients authenticate to the brokers (librdkafka's security.protocol, sasl.*, ssl.ca.location). */
export interface KafkaSecurity {
  protocol: (typeof KAFKA_SECURITY_PROTOCOLS)[number];
  /** With sasl_plaintext and sasl_ssl only. The password is never logged (logger.ts redacts it). */
  sasl?: { mechanism: (typeof KAFKA_SASL_MECHANISMS)[number]; username: string; password: string };
  /** PEM file of the CA that signed the brokers' certificates (ssl, sasl_ssl); unset: the system's CAs. */
  sslCaLocation?: string;
}

export interface Config {
  kafkaBrokers: string[];
  kafkaClientId: string;
  /** Plaintext (the local stack's 9092) unless KAFKA_SECURITY_PROTOCOL says otherwise. */
  kafkaSecurity: KafkaSecurity;
  schemaRegistryUrl: string;
  redisUrl: string;
  /** A ClickHouse server; undefined means the embedded engine (chdb) at archivePath. */
  clickhouseUrl: string | undefined;
  /** A ClickHouse cluster's name: the archive's DDL runs ON CLUSTER with replicated tables (server only). */
  clickhouseCluster: string | undefined;
  archivePath: string;
  /** The archive's TTL in days; the default covers the lookup's three calendar months (92 days at most) and a day of margin. */
  archiveRetentionDays: number;
  /**
   * The archiver's HTTP base URL, where a fan-out in another process reads the archive when it has
   * no ClickHouse server of its own (the embedded engine allows one process per data directory).
   */
  archiveQueryUrl: string | undefined;
  logLevel: string;
  /** Prefix for consumer group ids, so several deployments can share one cluster. */
  groupPrefix: string;
  /** How long a record whose owners are unknown waits for registration data before visibility.unowned. */
  ownershipWaitMs: number;
  /** How often waiting records are looked at again. */
  pendingScanMs: number;
  /** Alert triage: how far before an alert that names no request its device window reaches. */
  alertLookbackMs: number;
  /** Alert triage: how long an alert waits for the request it names before it is published with what is known. */
  alertWaitMs: number;
  /** Alert triage: at most this many DEVICE_WINDOW triggers per alert. */
  alertMaxWindowTriggers: number;
  /** Alert triage: how long audit records are kept as possible triggers (by eventTime, from the newest seen). */
  alertTriggerRetentionMs: number;
  /** Who sees the originator's User ID (see README: disclosure policy). */
  originatorDisclosure: DisclosurePolicy;
  /** Audit events further than this in the future are rejected (FUTURE_EVENT_TIME). */
  maxFutureSkewMs: number;
  /** How long delivered (eventId, party) pairs are remembered to suppress duplicates. */
  dedupTtlSeconds: number;
  /** Largest audit event accepted; bigger ones go to the DLQ untouched (OVERSIZED). */
  maxMessageBytes: number;
  /** Port for /health and /metrics; 0 picks a free port. */
  httpPort: number;
  httpHost: string;
  /** Where a consumer group with no committed offsets starts: earliest (nothing missed) or latest. */
  consumeFrom: 'earliest' | 'latest';
  /** Replication factor for topics this project creates (party topics, provisioning). */
  topicReplicationFactor: number;
  /** Partitions of a new party topic (existing topics keep theirs). */
  partyTopicPartitions: number;
  /** Prefix of the per-instance transactional ids; shared by every instance of one deployment. */
  transactionalIdPrefix: string;
  /** A stage that owns records waiting but has committed nothing for this long exits (its supervisor restarts it). */
  stageStuckExitMs: number;
  /** A stage whose received batch has not committed for this long reports unhealthy. */
  stageStallMs: number;
  /** Upper bound of one produce request, under the topics' max.message.bytes. */
  maxSendBytes: number;
  /**
   * Consumer group session timeout: how long a killed instance's partitions wait before another
   * member gets them. With KAFKA_INSTANCE_ID set, a restarted instance takes its own back at once.
   */
  sessionTimeoutMs: number;
  /**
   * Static group membership: a stable id of this instance, unique among the deployment's running
   * instances (e.g. the pod name of a StatefulSet). Unset: dynamic membership.
   */
  kafkaInstanceId?: string;
  /** librdkafka debug contexts (KAFKA_DEBUG, e.g. "cgrp,eos"); logged at debug level. Unset: none. */
  kafkaDebug?: string;
  /** The lookup API's address (LOOKUP_HOST:LOOKUP_PORT); port 0 picks a free port. */
  lookupHost: string;
  lookupPort: number;
  /** The key set bearer tokens are verified against: a JWKS file or an http(s) URL (default: the local stack's). */
  lookupJwks: string;
  /** Required `iss` and `aud` of bearer tokens. */
  lookupIssuer: string;
  lookupAudience: string;
  /** Requests one party (token `sub`) may make per LOOKUP_RATE_WINDOW_MS; then 429. */
  lookupRateLimit: number;
  lookupRateWindowMs: number;
  /** How far back the lookup serves, in ms; undefined = three calendar months (the Smart Energy Code's floor). */
  lookupWindowMs: number | undefined;
  /** Whether a device's current owner also sees the device's records from before it gained it (BEFORE_OWNERSHIP). */
  lookupBeforeOwnership: boolean;
  /** Key of the cursors' HMAC, shared by every lookup instance; unset: a random key per process. */
  lookupCursorSecret: string | undefined;
  /** The local stack's state directory ($STACK_DIR, default <repo>/.stack): the development signing key lives there. */
  stackDir: string;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name, fallback);
  if (!allowed.includes(value as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** Settings that no longer exist: refused by name rather than silently ignored. */
const RETIRED: Record<string, string> = {
  FANOUT_TRANSACTIONS: 'every stage now writes in Kafka transactions; there is no non-transactional mode',
  FANOUT_TRANSACTIONAL_ID: 'transactional ids are now per stage instance, derived from TRANSACTIONAL_ID_PREFIX and KAFKA_INSTANCE_ID',
};

function url(env: Env, name: string, fallback: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name]?.trim() || fallback;
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const DISCLOSURE: readonly DisclosurePolicy[] = ['own-requests', 'owners', 'none'];

function instanceId(env: Env): string | undefined {
  const value = env.KAFKA_INSTANCE_ID?.trim();
  if (!value) return undefined;
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(value)) throw new ConfigError(`KAFKA_INSTANCE_ID "${value}" must be 1-100 letters, digits, '.', '_' or '-'`);
  return value;
}

function kafkaSecurity(env: Env): KafkaSecurity {
  const protocol = oneOf(env, 'KAFKA_SECURITY_PROTOCOL', KAFKA_SECURITY_PROTOCOLS, 'plaintext');
  const username = env.KAFKA_SASL_USERNAME?.trim() || undefined;
  // taken as given: a password may begin or end with a space
  const password = env.KAFKA_SASL_PASSWORD || undefined;
  const sslCaLocation = env.KAFKA_SSL_CA_LOCATION?.trim() || undefined;
  const usesSasl = protocol.startsWith('sasl_');
  const usesTls = protocol === 'ssl' || protocol === 'sasl_ssl';
  if (!usesSasl && (username || password || env.KAFKA_SASL_MECHANISM?.trim())) {
    throw new ConfigError(`KAFKA_SASL_* is set but KAFKA_SECURITY_PROTOCOL is ${protocol}: use sasl_plaintext or sasl_ssl, or unset them`);
  }
  if (!usesTls && sslCaLocation) throw new ConfigError(`KAFKA_SSL_CA_LOCATION is set but KAFKA_SECURITY_PROTOCOL is ${protocol}: use ssl or sasl_ssl`);
  if (sslCaLocation && !fs.existsSync(sslCaLocation)) throw new ConfigError(`KAFKA_SSL_CA_LOCATION: no such file "${sslCaLocation}"`);
  const security: KafkaSecurity = { protocol, ...(sslCaLocation ? { sslCaLocation } : {}) };
  if (!usesSasl) return security;
  if (!username) throw new ConfigError(`KAFKA_SASL_USERNAME is required with KAFKA_SECURITY_PROTOCOL=${protocol}`);
  if (!password) throw new ConfigError(`KAFKA_SASL_PASSWORD is required with KAFKA_SECURITY_PROTOCOL=${protocol}`);
  const mechanism = oneOf(env, 'KAFKA_SASL_MECHANISM', KAFKA_SASL_MECHANISMS, 'SCRAM-SHA-512');
  return { ...security, sasl: { mechanism, username, password } };
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  return oneOf(env, name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
}

/** A JWKS file path or an http(s) URL (jose's remote key set); checked for shape here, for content when the lookup starts. */
function jwksLocation(env: Env, stackDir: string): string {
  const raw = text(env, 'LOOKUP_JWKS', path.join(stackDir, 'lookup', 'jwks.json'));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return url(env, 'LOOKUP_JWKS', raw, ['http:', 'https:'])!;
  return path.resolve(raw);
}

function clickhouseCluster(env: Env): string | undefined {
  const cluster = env.CLICKHOUSE_CLUSTER?.trim();
  if (!cluster) return undefined;
  if (!/^[A-Za-z0-9_]{1,64}$/.test(cluster)) throw new ConfigError(`CLICKHOUSE_CLUSTER "${cluster}" must be a cluster name (letters, digits, '_')`);
  if (!env.CLICKHOUSE_URL?.trim()) throw new ConfigError('CLICKHOUSE_CLUSTER needs CLICKHOUSE_URL: the embedded engine has no cluster');
  return cluster;
}

function optionalSecret(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (value.length < 32) throw new ConfigError(`${name} must be at least 32 characters`);
  return value;
}

export function loadConfig(env: Env = process.env): Config {
  for (const [name, why] of Object.entries(RETIRED)) {
    if (env[name] !== undefined && env[name]!.trim() !== '') throw new ConfigError(`${name} is no longer supported: ${why}`);
  }
  const brokers = text(env, 'KAFKA_BROKERS', '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const broker of brokers) {
    if (!/^[^\s:]+:[0-9]{1,5}$/.test(broker)) throw new ConfigError(`KAFKA_BROKERS entry "${broker}" is not host:port`);
  }
  const logLevel = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info');
  const stackDir = path.resolve(text(env, 'STACK_DIR', path.join(REPO_ROOT, '.stack')));
  const disclosure = oneOf(env, 'ORIGINATOR_DISCLOSURE', DISCLOSURE, 'own-requests');
  return {
    kafkaBrokers: brokers,
    kafkaClientId: text(env, 'KAFKA_CLIENT_ID', 'srv-visibility'),
    kafkaSecurity: kafkaSecurity(env),
    schemaRegistryUrl: url(env, 'SCHEMA_REGISTRY_URL', 'http://127.0.0.1:8081', ['http:', 'https:'])!,
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    clickhouseUrl: url(env, 'CLICKHOUSE_URL', undefined, ['http:', 'https:']),
    clickhouseCluster: clickhouseCluster(env),
    archivePath: path.resolve(text(env, 'ARCHIVE_PATH', path.join(REPO_ROOT, '.stack', 'archive'))),
    archiveRetentionDays: integer(env, 'ARCHIVE_RETENTION_DAYS', 93, 1, 3650),
    archiveQueryUrl: url(env, 'ARCHIVE_QUERY_URL', undefined, ['http:', 'https:']),
    logLevel,
    groupPrefix: text(env, 'GROUP_PREFIX', 'srv-visibility'),
    ownershipWaitMs: integer(env, 'OWNERSHIP_WAIT_MS', 10 * 60_000, 0, 7 * 24 * 3600_000),
    pendingScanMs: integer(env, 'PENDING_SCAN_MS', 1000, 50, 600_000),
    alertLookbackMs: integer(env, 'ALERT_LOOKBACK_MS', 15 * 60_000, 0, 7 * 24 * 3600_000),
    alertWaitMs: integer(env, 'ALERT_WAIT_MS', 10 * 60_000, 0, 7 * 24 * 3600_000),
    alertMaxWindowTriggers: integer(env, 'ALERT_MAX_WINDOW_TRIGGERS', 5, 1, 100),
    alertTriggerRetentionMs: integer(env, 'ALERT_TRIGGER_RETENTION_MS', 3600_000, 60_000, 30 * 24 * 3600_000),
    originatorDisclosure: disclosure,
    maxFutureSkewMs: integer(env, 'MAX_FUTURE_SKEW_MS', 5 * 60_000, 0, 365 * 24 * 3600_000),
    dedupTtlSeconds: integer(env, 'DEDUP_TTL_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    maxMessageBytes: integer(env, 'MAX_MESSAGE_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    httpPort: integer(env, 'HTTP_PORT', 9464, 0, 65535),
    httpHost: text(env, 'HTTP_HOST', '127.0.0.1'),
    consumeFrom: oneOf(env, 'CONSUME_FROM', ['earliest', 'latest'] as const, 'earliest'),
    topicReplicationFactor: integer(env, 'TOPIC_REPLICATION_FACTOR', 1, 1, 16),
    partyTopicPartitions: integer(env, 'PARTY_TOPIC_PARTITIONS', 1, 1, 1000),
    transactionalIdPrefix: text(env, 'TRANSACTIONAL_ID_PREFIX', text(env, 'GROUP_PREFIX', 'srv-visibility')),
    stageStallMs: integer(env, 'STAGE_STALL_MS', 120_000, 1000, 24 * 3600_000),
    stageStuckExitMs: integer(env, 'STAGE_STUCK_EXIT_MS', 300_000, 5_000, 24 * 3600_000),
    maxSendBytes: integer(env, 'MAX_SEND_BYTES', 768 * 1024, 16 * 1024, 64 * 1024 * 1024),
    sessionTimeoutMs: integer(env, 'SESSION_TIMEOUT_MS', 10_000, 6_000, 300_000),
    kafkaInstanceId: instanceId(env),
    kafkaDebug: env.KAFKA_DEBUG?.trim() || undefined,
    lookupHost: text(env, 'LOOKUP_HOST', '127.0.0.1'),
    lookupPort: integer(env, 'LOOKUP_PORT', 9465, 0, 65535),
    lookupJwks: jwksLocation(env, stackDir),
    lookupIssuer: text(env, 'LOOKUP_ISSUER', 'srv-visibility-local'),
    lookupAudience: text(env, 'LOOKUP_AUDIENCE', 'srv-visibility-lookup'),
    lookupRateLimit: integer(env, 'LOOKUP_RATE_LIMIT', 600, 1, 1_000_000),
    lookupRateWindowMs: integer(env, 'LOOKUP_RATE_WINDOW_MS', 60_000, 1000, 24 * 3600_000),
    lookupWindowMs: env.LOOKUP_WINDOW_MS?.trim() ? integer(env, 'LOOKUP_WINDOW_MS', 0, 1000, 3650 * 24 * 3600_000) : undefined,
    lookupBeforeOwnership: flag(env, 'LOOKUP_BEFORE_OWNERSHIP', true),
    lookupCursorSecret: optionalSecret(env, 'LOOKUP_CURSOR_SECRET'),
    stackDir,
  };
}
