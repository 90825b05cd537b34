// Consumer groups of one deployment, by stage, and a way to start new ones at the current end of
// their topics (benchmarks and fault runs measure their own traffic, not what is already there).
import type { Kafka } from './kafka';
import { TOPICS } from './contracts';

export const STAGE_INPUTS = {
  projector: TOPICS.auditEvents,
  'ownership-projector': TOPICS.ownershipEvents,
  'fan-out': TOPICS.visibilityRecords,
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
      const committer = kafka.consumer({ kafkaJS: { groupId: `${groupPrefix}-${stage}`, autoCommit: false } });
      await committer.connect();
      try {
        await committer.commitOffsets(ends.map((e) => ({ topic, partition: e.partition, offset: e.high })));
      } finally {
        await committer.disconnect();
      }
    }
  } finally {
    await admin.disconnect();
  }
}
