// Writes copies inside the caller's transaction: party copies (skipping (eventId, party) pairs
// already delivered), retractions of copies a party was not entitled to (once per (eventId, party):
// the ledger member `<partyId>#retracted`), records without owners to visibility.unowned, and each
// of them, the same bytes, to visibility.archive, which the archiver stage reads (read committed) into ClickHouse.
// The Kafka timestamp is the time of writing (the producer's default), never eventTime: retention
// counts from when a record was written, so a copy of an old event is not deleted on arrival.
import type { Admin } from '../shared/kafka';
import { sendBounded, type Sender } from '../shared/boundedSend';
import type { Config } from '../shared/config';
import { TOPICS, partyTopic, type VisibilityRecord } from '../shared/contracts';
import type { Logger } from '../shared/logger';
import type { Metrics } from '../shared/metrics';
import type { Owner } from '../shared/ownership';
import type { AvroCodec } from '../shared/schemaRegistry';
import type { SchemaIds } from '../shared/runtime';
import { PartyTopics } from '../shared/partyTopics';
import type { FanOutState } from './fanOutState';
import { copiesFor, unownedCopy } from './routing';

export interface Routed {
  record: VisibilityRecord;
  owners: Owner[];
}

/** The ledger member that says an event's copy was retracted from this party (beside the party's own member). */
export function retractedMember(partyId: string): string {
  return `${partyId}#retracted`;
}

/** Ledger entries for sent retractions. Pure. */
export function retractedPairs(retractions: VisibilityRecord[]): Array<[string, string[]]> {
  return retractions.filter((r) => r.recipientPartyId).map((r) => [r.eventId, [retractedMember(r.recipientPartyId!)]]);
}

export interface Expired {
  record: VisibilityRecord;
  reason: string;
}

export class Delivery {
  private readonly partyTopics: PartyTopics;

  constructor(
    private readonly config: Config,
    private readonly codec: AvroCodec,
    private readonly schemaIds: SchemaIds,
    admin: Admin,
    private readonly state: FanOutState,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    this.partyTopics = new PartyTopics(admin, config.topicReplicationFactor, log, config.partyTopicPartitions);
  }

  /** The copies these records owe their owners, minus those already delivered (ledger, this batch). */
  async freshCopies(items: Routed[], extraFlags: string[] = []): Promise<VisibilityRecord[]> {
    if (items.length === 0) return [];
    const delivered = await this.state.deliveredTo(items.map((i) => i.record.eventId));
    const fresh: VisibilityRecord[] = [];
    const inBatch = new Set<string>();
    for (const { record, owners } of items) {
      for (const copy of copiesFor(record, owners, this.config.originatorDisclosure, extraFlags)) {
        const id = `${copy.eventId}\u0000${copy.recipientPartyId}`;
        if (delivered.get(copy.eventId)?.has(copy.recipientPartyId!) || inBatch.has(id)) {
          this.metrics.duplicates.inc();
          continue;
        }
        inBatch.add(id);
        fresh.push(copy);
      }
    }
    return fresh;
  }

  /** Writes party copies to their topics and to visibility.archive; returns what it wrote. */
  async deliver(sender: Sender, items: Routed[], extraFlags: string[] = []): Promise<VisibilityRecord[]> {
    return this.send(sender, await this.freshCopies(items, extraFlags));
  }

  /**
   * Writes retractions (lateOwnership.ts, planRetractions: copies as delivered, flagged RETRACTED)
   * to their parties' topics, same key, and to visibility.archive, where the newer row replaces the
   * copy's; skips those the ledger or this call already holds. Returns what it wrote.
   */
  async retract(sender: Sender, retractions: VisibilityRecord[]): Promise<VisibilityRecord[]> {
    if (retractions.length === 0) return [];
    const ledger = await this.state.deliveredTo(retractions.map((r) => r.eventId));
    const fresh: VisibilityRecord[] = [];
    const inCall = new Set<string>();
    for (const retraction of retractions) {
      const member = retractedMember(retraction.recipientPartyId!);
      const id = `${retraction.eventId}\u0000${member}`;
      if (ledger.get(retraction.eventId)?.has(member) || inCall.has(id)) {
        this.metrics.duplicates.inc();
        continue;
      }
      inCall.add(id);
      fresh.push(retraction);
    }
    return this.send(sender, fresh);
  }

  private async send(sender: Sender, fresh: VisibilityRecord[]): Promise<VisibilityRecord[]> {
    if (fresh.length === 0) return [];
    const t0 = performance.now();
    await this.partyTopics.ensure(fresh.map((c) => c.recipientPartyId!));
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
    const archived: Array<{ key: string; value: Buffer }> = [];
    for (const copy of fresh) {
      const topic = partyTopic(copy.recipientPartyId!);
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      const message = { key: copy.deviceId, value: this.codec.encodeSync(this.schemaIds.party, copy) };
      messages.push(message);
      archived.push(message);
    }
    byTopic.set(TOPICS.archive, archived);
    await sendBounded(sender, [...byTopic].map(([topic, messages]) => ({ topic, messages })), this.config.maxSendBytes);
    this.log.debug({ copies: fresh.length, produceMs: Math.round(performance.now() - t0) }, 'delivered');
    return fresh;
  }

  /** Records that waited OWNERSHIP_WAIT_MS without owners: to visibility.unowned and visibility.archive. */
  async giveUp(sender: Sender, expired: Expired[]): Promise<void> {
    if (expired.length === 0) return;
    const copies = expired.map(({ record, reason }) => ({ record: unownedCopy(record), reason }));
    const messages = copies.map(({ record, reason }) => ({
      key: record.deviceId,
      value: this.codec.encodeSync(this.schemaIds.unowned, record),
      headers: { 'unowned.reason': reason, 'unowned.waited.ms': String(this.config.ownershipWaitMs) },
    }));
    const archived = messages.map(({ key, value }) => ({ key, value }));
    await sendBounded(sender, [{ topic: TOPICS.unowned, messages }, { topic: TOPICS.archive, messages: archived }], this.config.maxSendBytes);
  }

}
