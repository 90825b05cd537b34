// Topic layout and provisioning. Idempotent: existing topics are left as they are.
import type { Admin, ITopicConfig } from './kafka';
import { TOPICS } from './contracts';
import type { Logger } from './logger';

const DAY_MS = 24 * 3600 * 1000;
const LARGE_MESSAGE_BYTES = String(16 * 1024 * 1024);

export interface TopicLayoutOptions {
  replicationFactor: number;
}

export function topicLayout({ replicationFactor }: TopicLayoutOptions): ITopicConfig[] {
  const topic = (name: string, numPartitions: number, config: Record<string, string>): ITopicConfig => ({
    topic: name,
    numPartitions,
    replicationFactor,
    configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
  });
  return [
    // Oversized audit events must be accepted so they can be dead-lettered, not refused at the door.
    topic(TOPICS.auditEvents, 6, { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS), 'max.message.bytes': LARGE_MESSAGE_BYTES }),
    topic(TOPICS.ownershipEvents, 6, { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(DAY_MS) }),
    topic(TOPICS.ownershipFacts, 6, { 'cleanup.policy': 'compact' }),
    topic(TOPICS.alerts, 6, { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS), 'max.message.bytes': LARGE_MESSAGE_BYTES }),
    topic(TOPICS.visibilityRecords, 6, { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) }),
    // Same partition count and key as visibility.records: a device's copies stay in order.
    topic(TOPICS.archive, 6, { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) }),
    // Keyed by alertId: a context published again after a crash lands beside its first copy.
    topic(TOPICS.alertContexts, 6, { 'cleanup.policy': 'delete', 'retention.ms': String(7 * DAY_MS) }),
    topic(TOPICS.unowned, 3, { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) }),
    topic(TOPICS.dlq, 3, { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS), 'max.message.bytes': LARGE_MESSAGE_BYTES }),
    // Waiting items of the fan-out and alert triage, written in the transactions that change them:
    // partitioned like their stage's input (visibility.records, sat.alerts), so keep the counts equal.
    topic(TOPICS.fanOutWaiting, 6, { 'cleanup.policy': 'compact', 'segment.ms': String(DAY_MS / 24) }),
    topic(TOPICS.alertTriageWaiting, 6, { 'cleanup.policy': 'compact', 'segment.ms': String(DAY_MS / 24) }),
    // Replay checkpoints: a few small records per replay, the latest per replay id is what counts.
    topic(TOPICS.replayProgress, 1, { 'cleanup.policy': 'compact' }),
  ];
}

/**
 * A party topic. One partition by default (PARTY_TOPIC_PARTITIONS): every partition a fan-out
 * transaction writes to costs a produce request (librdkafka sends one per partition, at most five
 * in flight per broker), a verification and a commit marker, so with 62 parties three partitions
 * each tripled the work per transaction (measured at 500 events/s: copy latency p50 859 -> 294 ms,
 * p99 1,908 -> 847 ms with one). One partition carries far more than any party's share of the
 * national load (about 190 B per copy); a party that needs consumers in parallel gets more.
 */
export function partyTopicConfig(name: string, replicationFactor: number, partitions = 1): ITopicConfig {
  return {
    topic: name,
    numPartitions: partitions,
    replicationFactor,
    configEntries: [
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: String(30 * DAY_MS) },
    ],
  };
}

/** Creates whichever of these topics are missing; returns the names it created. */
export async function ensureTopics(admin: Admin, topics: ITopicConfig[], logger: Logger): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing });
  } catch (error) {
    // Another instance may have created them between list and create.
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
  logger.info({ topics: missing.map((t) => t.topic) }, 'topics created');
  return missing.map((t) => t.topic);
}
