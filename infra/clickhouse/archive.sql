-- The ninety-day archive of delivered records: one row per (event, recipient); unowned records
-- have recipientPartyId = ''. The same DDL runs on the embedded engine (chdb) and a server.
-- The TTL's day count is filled in from ARCHIVE_RETENTION_DAYS. Monthly partitions: an insert of
-- old events touches few of them (ClickHouse refuses one touching more than 100).
-- Statements end with ';' at the end of a line: the archive runs them one by one (neither engine
-- takes several in one call).
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
TTL toDateTime(eventTime) + INTERVAL {retention_days} DAY;

-- Every AlertContext as published to its recipient (visibility.alert-contexts), for the lookup's
-- GET /v1/alerts/{alertId}: one row per (recipient, alert). triggers holds the context's Trigger
-- array as JSON text, exactly as published (no payload field exists in it): it is only ever read back
-- whole, never filtered on, so nested columns would buy nothing. recipientRole NULL: the recipient
-- owned nothing on the device at the alert's time. Same TTL and partitioning as visibility_archive.
CREATE TABLE IF NOT EXISTS alert_context_archive
(
    recipientPartyId String,
    alertId          String,
    alertCode        LowCardinality(String),
    alertKind        LowCardinality(String),
    deviceId         String,
    eventTime        DateTime64(3, 'UTC'),
    alertTitle       String,
    recipientRole    Nullable(String),
    status           LowCardinality(String),
    triggers         String,
    archivedAt       DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(archivedAt)
PARTITION BY toYYYYMM(eventTime)
ORDER BY (recipientPartyId, alertId)
TTL toDateTime(eventTime) + INTERVAL {retention_days} DAY;
