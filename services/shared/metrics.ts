// Prometheus metrics for every service, one registry per process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly consumed = new Counter({
    name: 'visibility_messages_consumed_total',
    help: 'Messages read from Kafka, by service and topic',
    labelNames: ['service', 'topic'] as const,
    registers: [this.registry],
  });

  readonly dlq = new Counter({
    name: 'visibility_dlq_total',
    help: 'Messages sent to the DLQ untouched, by service and reason code',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });

  readonly produced = new Counter({
    name: 'visibility_records_produced_total',
    help: 'Records written, by service and destination kind (records, party, unowned)',
    labelNames: ['service', 'destination'] as const,
    registers: [this.registry],
  });

  readonly duplicates = new Counter({
    name: 'visibility_duplicates_suppressed_total',
    help: 'Copies not delivered again because (eventId, party) was already delivered',
    registers: [this.registry],
  });

  readonly ownershipFacts = new Counter({
    name: 'visibility_ownership_facts_total',
    help: 'Ownership facts stored, by event type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly ownershipTombstones = new Counter({
    name: 'visibility_ownership_tombstones_total',
    help: 'Tombstones (null values) read from sat.ownership.events: compaction delete markers, skipped, not dead-lettered',
    registers: [this.registry],
  });

  readonly pending = new Gauge({
    name: 'visibility_pending_records',
    help: 'Records waiting for registration data',
    registers: [this.registry],
  });

  readonly alertContexts = new Counter({
    name: 'visibility_alert_contexts_total',
    help: 'AlertContexts published to recipients, by status',
    labelNames: ['status'],
    registers: [this.registry],
  });

  readonly alertsWaiting = new Gauge({
    name: 'visibility_alerts_waiting',
    help: 'Alerts waiting for the request they name (ALERT_WAIT_MS at most)',
    registers: [this.registry],
  });

  readonly unowned = new Counter({
    name: 'visibility_unowned_total',
    help: 'Records sent to visibility.unowned after the ownership wait, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly lateDeliveries = new Counter({
    name: 'visibility_late_ownership_copies_total',
    help: 'Copies delivered after the fact because registration data arrived after the events it governs',
    registers: [this.registry],
  });

  readonly retractions = new Counter({
    name: 'visibility_retracted_copies_total',
    help: 'Copies retracted (sent again flagged RETRACTED) because registration data that arrived late showed the recipient was not entitled to them',
    registers: [this.registry],
  });

  readonly cache = new Counter({
    name: 'visibility_ownership_cache_total',
    help: 'Ownership cache lookups by outcome (hit, miss, invalidated)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly redisRoundTrips = new Counter({
    name: 'visibility_ownership_redis_round_trips_total',
    help: 'Redis round trips made to resolve owners, by purpose (batch, pending, late); a batch costs at most three',
    labelNames: ['purpose'] as const,
    registers: [this.registry],
  });

  readonly lateOwnershipGaps = new Counter({
    name: 'visibility_late_ownership_gaps_total',
    help: 'Times own:changes had been trimmed past a partition cursor (registration changes possibly missed)',
    registers: [this.registry],
  });

  readonly transactions = new Counter({
    name: 'visibility_transactions_total',
    help: 'Kafka transactions by service and outcome (committed, aborted, producer_recreated)',
    labelNames: ['service', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly transactionMembers = new Counter({
    name: 'visibility_transaction_members_total',
    help: 'Partition batches and timer work committed in the instance transactions (divide by the committed transactions: members per transaction)',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });

  readonly batchSeconds = new Histogram({
    name: 'visibility_batch_seconds',
    help: 'Time to process one consumed batch, by service',
    labelNames: ['service'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly lookupRequests = new Counter({
    name: 'visibility_lookup_requests_total',
    help: 'Lookup API requests, by route template and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly lookupSeconds = new Histogram({
    name: 'visibility_lookup_request_seconds',
    help: 'Lookup API response time, by route template and status code',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(collectDefaults = true) {
    if (collectDefaults) collectDefaultMetrics({ register: this.registry });
  }
}
