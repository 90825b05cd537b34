// Pure planning for late registration data: given what the archive says was delivered for some
// events and who owns their devices now that more is known, which owners still lack a copy
// (planLateDeliveries) and which recipients were sent a copy they were not entitled to
// (planRetractions).
import type { ArchivedRecord } from '../shared/archive';
import { FLAGS, pickVisibilityRecord, type VisibilityRecord } from '../shared/contracts';
import { parseRequestId } from '../shared/identifiers';
import type { Owner, OwnerResolution } from '../shared/ownership';

export interface LateDelivery {
  record: VisibilityRecord;
  owners: Owner[];
}

/** The record as the projector made it, rebuilt from any archived copy of it. */
export function baseRecord(copy: ArchivedRecord): VisibilityRecord {
  return {
    ...pickVisibilityRecord(copy),
    // Copies may hide the originator (disclosure policy); the Request ID always names it.
    originatorId: copy.originatorId ?? parseRequestId(copy.requestId)?.originatorId ?? null,
    recipientPartyId: null,
    recipientRole: null,
    sentByRecipient: null,
    flags: copy.flags.filter((f) => f !== FLAGS.NO_OWNER && f !== FLAGS.LATE_OWNERSHIP && f !== FLAGS.RETRACTED),
  };
}

/** An archived copy as it was delivered to its recipient (the contract's fields only). */
export function deliveredRecord(copy: ArchivedRecord): VisibilityRecord {
  return pickVisibilityRecord(copy);
}

export function planLateDeliveries(archived: ArchivedRecord[], ownersOf: (record: VisibilityRecord) => OwnerResolution): LateDelivery[] {
  const byEvent = new Map<string, { record: VisibilityRecord; recipients: Set<string> }>();
  for (const copy of archived) {
    let entry = byEvent.get(copy.eventId);
    if (!entry) byEvent.set(copy.eventId, (entry = { record: baseRecord(copy), recipients: new Set() }));
    if (copy.delivery === 'party' && copy.recipientPartyId) entry.recipients.add(copy.recipientPartyId);
  }
  const plan: LateDelivery[] = [];
  for (const { record, recipients } of byEvent.values()) {
    const resolution = ownersOf(record);
    if (resolution.status !== 'owned') continue;
    const missing = resolution.owners.filter((o) => !recipients.has(o.partyId));
    if (missing.length > 0) plan.push({ record, owners: missing });
  }
  return plan;
}

/**
 * Party copies whose recipient the better-known ownership no longer names as an owner at the
 * event's time (a retrospective CoS, a corrected association): each comes back as delivered (same
 * eventId, recipientPartyId, recipientRole) with RETRACTED added. Never a copy already retracted
 * (its archive row carries RETRACTED), never an unowned row. Only a positive answer ('owned', with
 * other owners) retracts: 'unknown' (no association, no registered owner at that time) may be
 * registration data still arriving (a correction's dissociation before its new association, a
 * store being rebuilt), and telling a party to drop a copy on an absence of knowledge could be
 * wrong; such copies stay until the data names their owners.
 */
export function planRetractions(archived: ArchivedRecord[], ownersOf: (record: VisibilityRecord) => OwnerResolution): VisibilityRecord[] {
  const resolutions = new Map<string, OwnerResolution>();
  const retractions: VisibilityRecord[] = [];
  for (const copy of archived) {
    if (copy.delivery !== 'party' || !copy.recipientPartyId || copy.flags.includes(FLAGS.RETRACTED)) continue;
    let resolution = resolutions.get(copy.eventId);
    if (!resolution) resolutions.set(copy.eventId, (resolution = ownersOf(baseRecord(copy))));
    if (resolution.status !== 'owned' || resolution.owners.some((o) => o.partyId === copy.recipientPartyId)) continue;
    const record = deliveredRecord(copy);
    record.flags.push(FLAGS.RETRACTED);
    retractions.push(record);
  }
  return retractions;
}
