// Consumer groups of one deployment, by stage, and a way to start new ones at the current end of
// their topics (benchmarks and fault runs measure their own traffic, not what is already there).
import type { Admin } from 'kafkajs';
import { TOPICS } from './contracts';

export const STAGE_INPUTS = {
  projector: TOPICS.auditEvents,
  'ownership-projector': TOPICS.ownershipEvents,
  'fan-out': TOPICS.visibilityRecords,
} as const;

/**
 * Commits, for each stage's group under `groupPrefix`, the current end of its input topic. Done
 * before any service of the deployment runs, so a service killed before its first commit cannot
 * skip anything written after this point.
 */
export async function startGroupsAtEnd(admin: Admin, groupPrefix: string): Promise<void> {
  for (const [stage, topic] of Object.entries(STAGE_INPUTS)) {
    const ends = await admin.fetchTopicOffsets(topic);
    await admin.setOffsets({ groupId: `${groupPrefix}-${stage}`, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
  }
}
