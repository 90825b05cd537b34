-- The ninety-day archive of delivered records: one row per (event, recipient); unowned records
-- have recipientPartyId = ''. The same DDL runs on the embedded engine (chdb) and a server.
-- The TTL's day count is filled in from ARCHIVE_RETENTION_DAYS. Monthly partitions: an insert of
-- old events touches few of them (ClickHouse refuses one touching more than 100).
CREATE TABLE IF NOT EXISTS visibility_archive
(
    eventId                 String,
    recipientPartyId        String,
    recipientRole           LowCardinality(String),
    deviceId                String,
    eventTime               DateTime64(3, 'UTC'),
    messageType             LowCardinality(String),
    requestId               String,
    serviceReferenceVariant LowCardinality(String),
    srvTitle                String,
    critical                Bool,
    originatorRole          LowCardinality(String),
    originatorId            Nullable(String),
    responseCode            Nullable(String),
    sentByRecipient         Nullable(Bool),
    flags                   Array(String),
    delivery                LowCardinality(String),
    archivedAt              DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(archivedAt)
PARTITION BY toYYYYMM(eventTime)
ORDER BY (deviceId, eventTime, eventId, recipientPartyId)
TTL toDateTime(eventTime) + INTERVAL {retention_days} DAY
