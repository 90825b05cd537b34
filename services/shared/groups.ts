// Consumer groups of one deployment, by stage, and a way to start new ones at the current end of
// their topics (benchmarks and fault runs measure their own traffic, not what is already there).
import { whenCoordinatorReady, type Kafka } from './kafka';
import { TOPICS } from './contracts';

export const STAGE_INPUTS = {
  projector: TOPICS.auditEvents,
  'ownership-projector': TOPICS.ownershipEvents,
  'fan-out': TOPICS.visibilityRecords,
  archiver: TOPICS.archive,
  'alert-archiver': TOPICS.alertContexts,
  'alert-triage': TOPICS.alerts,
  'alert-triggers': TOPICS.visibilityRecords,
} as const;

/**
 * Commits, for each stage's group under `groupPrefix`, the current end of its input topic. Done
 * before any service of the deployment runs, so a service killed before its first commit cannot
 * skip anything written after this point. (The admin API here has no "alter group offsets"; a
 * consumer that never joins the group commits for it, as an empty group accepts.)
 */
export async function startGroupsAtEnd(kafka: Kafka, groupPrefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const [stage, topic] of Object.entries(STAGE_INPUTS)) {
      const ends = await admin.fetchTopicOffsets(topic);
      await commitFor(kafka, `${groupPrefix}-${stage}`, topic, ends.map((e) => ({ partition: e.partition, offset: e.high })));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * A group that has never committed on `topic` starts at the first record written at or after
 * `timestamp` (the end where none is); a group with commits is left alone. For a stage that only
 * needs recent records (alert triage's trigger index): a new deployment does not read days of
 * history it would throw away. Returns whether it set the start.
 */
export async function startNewGroupAtTime(kafka: Kafka, groupId: string, topic: string, timestamp: number): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await whenCoordinatorReady(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    if ((committed?.partitions ?? []).some((p) => Number(p.offset) >= 0)) return false;
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
    await commitFor(kafka, groupId, topic, starts.map((s) => ({ partition: s.partition, offset: s.offset })));
    return true;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Moves a group with no active members forward to the first record written at or after
 * `timestamp`, partition by partition; a partition already past that point is left where it is.
 * For test deployments, whose trigger index needs only what each suite writes.
 */
export async function advanceGroupToTime(kafka: Kafka, groupId: string, topic: string, timestamp: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await whenCoordinatorReady(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, timestamp);
    const moves = starts.filter((s) => BigInt(committed?.partitions.find((p) => p.partition === s.partition)?.offset ?? '-1') < BigInt(s.offset));
    if (moves.length > 0) await commitFor(kafka, groupId, topic, moves.map((s) => ({ partition: s.partition, offset: s.offset })));
  } finally {
    await admin.disconnect();
  }
}

async function commitFor(kafka: Kafka, groupId: string, topic: string, offsets: Array<{ partition: number; offset: string }>): Promise<void> {
  const committer = kafka.consumer({ kafkaJS: { groupId, autoCommit: false } });
  await committer.connect();
  try {
    await whenCoordinatorReady(() => committer.commitOffsets(offsets.map((o) => ({ topic, ...o }))));
  } finally {
    await committer.disconnect();
  }
}

/**
 * A group's committed offsets on a topic (partition -> offset; absent: none), through a client of
 * its own: a long-lived admin client was seen to time out on every such fetch, or to abort the
 * process on an internal assertion, after the broker coordinating the group was lost (README,
 * Known limitations); a fresh one looks the coordinator up again.
 */
export async function committedOffsets(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, bigint>> {
  return new Map([...(await committedPositions(kafka, groupId, topic))].map(([partition, { offset }]) => [partition, offset]));
}

/** As committedOffsets, with each commit's metadata (a stage's commit witness: its transaction id). */
export async function committedPositions(kafka: Kafka, groupId: string, topic: string): Promise<Map<number, { offset: bigint; metadata: string | null }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await whenCoordinatorReady(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const partitions = (committed?.partitions ?? []) as Array<{ partition: number; offset: string; metadata?: string | null }>;
    return new Map(partitions.map((p) => [p.partition, { offset: BigInt(p.offset), metadata: p.metadata ?? null }]));
  } finally {
    await admin.disconnect();
  }
}

/** Records waiting for a group on a topic (or some of its partitions): committed offset, or the start, to the high watermark. */
export async function groupLag(kafka: Kafka, groupId: string, topic: string, partitions?: number[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await whenCoordinatorReady(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    let lag = 0;
    for (const end of await admin.fetchTopicOffsets(topic)) {
      if (partitions && !partitions.includes(end.partition)) continue;
      const offset = BigInt(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1');
      lag += Number(BigInt(end.high) - (offset < 0n ? BigInt(end.low) : offset));
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}
