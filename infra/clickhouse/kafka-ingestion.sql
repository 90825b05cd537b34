-- Optional, for a ClickHouse server only: ClickHouse reads visibility.archive itself, instead of
-- the archiver service. Not exercised by CI (no ClickHouse server can be installed here); the
-- embedded engine has no Kafka engine. Fill in the three {placeholders}; run after archive.sql.
--   {brokers}          e.g. kafka-1:9092,kafka-2:9092
--   {registry_url}     the Schema Registry (AvroConfluent resolves each record's schema id there)
--   {group_prefix}     GROUP_PREFIX: the consumer group must be <GROUP_PREFIX>-archiver, because the
--                      fan-out waits for that group's committed offsets before reconciling late
--                      registration data (services/fan-out/archiveFrontier.ts).
-- The Kafka engine is built on librdkafka, whose isolation.level defaults to read_committed: keep it
-- (copies of aborted fan-out transactions must not be archived). Replays insert rows again; the
-- ReplacingMergeTree and FINAL reads keep one per copy, as with the archiver.
CREATE TABLE IF NOT EXISTS visibility_archive_queue
(
    eventId                 String,
    messageType             String,
    requestId               String,
    serviceReferenceVariant String,
    deviceId                String,
    eventTime               DateTime64(3, 'UTC'),
    originatorRole          String,
    responseCode            Nullable(String),
    srvTitle                String,
    critical                Bool,
    originatorId            Nullable(String),
    recipientPartyId        Nullable(String),
    recipientRole           Nullable(String),
    sentByRecipient         Nullable(Bool),
    flags                   Array(String)
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '{brokers}',
    kafka_topic_list = 'visibility.archive',
    kafka_group_name = '{group_prefix}-archiver',
    kafka_format = 'AvroConfluent',
    format_avro_schema_registry_url = '{registry_url}';

CREATE MATERIALIZED VIEW IF NOT EXISTS visibility_archive_ingest TO visibility_archive AS
SELECT
    eventId,
    ifNull(recipientPartyId, '')                     AS recipientPartyId,
    ifNull(recipientRole, '')                        AS recipientRole,
    deviceId,
    eventTime,
    messageType,
    requestId,
    serviceReferenceVariant,
    srvTitle,
    critical,
    originatorRole,
    originatorId,
    responseCode,
    sentByRecipient,
    flags,
    if(recipientPartyId IS NULL, 'unowned', 'party') AS delivery
FROM visibility_archive_queue;
