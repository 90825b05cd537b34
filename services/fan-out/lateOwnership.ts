// Pure planning for late registration data: given what the archive says was delivered for some
// events and who owns their devices now that more is known, which owners still lack a copy.
import type { ArchivedRecord } from '../shared/archive';
import { FLAGS, type VisibilityRecord } from '../shared/contracts';
import { parseRequestId } from '../shared/identifiers';
import type { Owner, OwnerResolution } from '../shared/ownership';

export interface LateDelivery {
  record: VisibilityRecord;
  owners: Owner[];
}

/** The record as the projector made it, rebuilt from any archived copy of it. */
export function baseRecord(copy: ArchivedRecord): VisibilityRecord {
  return {
    eventId: copy.eventId,
    messageType: copy.messageType,
    requestId: copy.requestId,
    serviceReferenceVariant: copy.serviceReferenceVariant,
    deviceId: copy.deviceId,
    eventTime: copy.eventTime,
    originatorRole: copy.originatorRole,
    responseCode: copy.responseCode,
    srvTitle: copy.srvTitle,
    critical: copy.critical,
    // Copies may hide the originator (disclosure policy); the Request ID always names it.
    originatorId: copy.originatorId ?? parseRequestId(copy.requestId)?.originatorId ?? null,
    recipientPartyId: null,
    recipientRole: null,
    sentByRecipient: null,
    flags: copy.flags.filter((f) => f !== FLAGS.NO_OWNER && f !== FLAGS.LATE_OWNERSHIP),
  };
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
