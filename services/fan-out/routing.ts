// Pure routing: one copy of a record per owner, with the disclosure policy applied.
import type { DisclosurePolicy } from '../shared/config';
import { FLAGS, type VisibilityRecord } from '../shared/contracts';
import type { Owner } from '../shared/ownership';

/**
 * Whether a recipient may see who sent the request. `own-requests` (default): only on its own
 * requests, so Users cannot watch competitors' activity by User ID; `owners`: every owner sees it;
 * `none`: nobody does. The originator's role is always shown.
 */
export function discloseOriginator(policy: DisclosurePolicy, sentByRecipient: boolean): boolean {
  if (policy === 'owners') return true;
  if (policy === 'none') return false;
  return sentByRecipient;
}

export function copyFor(record: VisibilityRecord, owner: Owner, policy: DisclosurePolicy, extraFlags: string[] = []): VisibilityRecord {
  const sentByRecipient = record.originatorId === owner.partyId;
  return {
    eventId: record.eventId,
    messageType: record.messageType,
    requestId: record.requestId,
    serviceReferenceVariant: record.serviceReferenceVariant,
    deviceId: record.deviceId,
    eventTime: record.eventTime,
    originatorRole: record.originatorRole,
    responseCode: record.responseCode,
    srvTitle: record.srvTitle,
    critical: record.critical,
    originatorId: discloseOriginator(policy, sentByRecipient) ? record.originatorId : null,
    recipientPartyId: owner.partyId,
    recipientRole: owner.role,
    sentByRecipient,
    flags: extraFlags.length ? [...record.flags, ...extraFlags.filter((f) => !record.flags.includes(f))] : [...record.flags],
  };
}

export function copiesFor(record: VisibilityRecord, owners: readonly Owner[], policy: DisclosurePolicy, extraFlags: string[] = []): VisibilityRecord[] {
  return owners.map((owner) => copyFor(record, owner, policy, extraFlags));
}

/** The copy that goes to visibility.unowned for operators: no recipient, flagged with why. */
export function unownedCopy(record: VisibilityRecord): VisibilityRecord {
  return {
    ...record,
    recipientPartyId: null,
    recipientRole: null,
    sentByRecipient: null,
    flags: record.flags.includes(FLAGS.NO_OWNER) ? [...record.flags] : [...record.flags, FLAGS.NO_OWNER],
  };
}
