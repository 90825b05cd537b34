// Party topics are created on a party's first delivery (fan-out copies, alert contexts); this
// remembers which exist so the admin is asked once per topic per process.
import type { Admin } from './kafka';
import { partyTopic } from './contracts';
import type { Logger } from './logger';
import { ensureTopics, partyTopicConfig } from './topics';

export class PartyTopics {
  private readonly known = new Set<string>();

  constructor(
    private readonly admin: Admin,
    private readonly replicationFactor: number,
    private readonly log: Logger,
    private readonly partitions = 1,
  ) {}

  async ensure(partyIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(partyIds)].map(partyTopic).filter((t) => !this.known.has(t));
    if (missing.length === 0) return;
    await ensureTopics(this.admin, missing.map((t) => partyTopicConfig(t, this.replicationFactor, this.partitions)), this.log);
    for (const t of missing) this.known.add(t);
  }
}
