// Who sees what through the lookup API. Pure: ownership histories and archive rows in, decisions
// and response items out.
import type { ActivityRow, ActivityScope } from '../shared/archiveActivity';
import { FLAGS, pickVisibilityRecord, type OwnerRole, type VisibilityRecord } from '../shared/contracts';
import { resolveOwners, type DeviceHistory, type MpxnHistory } from '../shared/ownership';

export const BEFORE_OWNERSHIP = 'BEFORE_OWNERSHIP';

/** The authenticated caller: a party (sub = its User ID) or an operator. */
export interface Caller {
  subject: string;
  operator: boolean;
}

export interface Standing {
  /** Whether the party has owned the device at any time up to now. */
  everOwned: boolean;
  /** Its current ownership: role now, and since when it has held the device without a break. */
  current: { role: OwnerRole; since: number } | null;
}

/** Instants where the device's owners can change: its associations and its MPxNs' registrations. */
function changePoints(device: DeviceHistory, mpxns: ReadonlyMap<string, MpxnHistory>): number[] {
  const points = new Set<number>();
  for (const timeline of device.byMpxn.values()) for (const [time] of timeline) points.add(time);
  for (const mpxn of device.mpxns()) {
    for (const timeline of mpxns.get(mpxn)?.byRole.values() ?? []) for (const [time] of timeline) points.add(time);
  }
  return [...points].sort((a, b) => a - b);
}

/** A party's ownership of a device as of `now` (facts dated later are not in force yet). */
export function ownershipStanding(device: DeviceHistory | undefined, mpxns: ReadonlyMap<string, MpxnHistory>, partyId: string, now: number): Standing {
  if (!device || device.isEmpty) return { everOwned: false, current: null };
  const roleAt = (t: number): OwnerRole | undefined => {
    const resolution = resolveOwners(device, mpxns, t);
    return resolution.status === 'owned' ? resolution.owners.find((o) => o.partyId === partyId)?.role : undefined;
  };
  // Owners are constant between change points, so looking at each point up to now covers all time.
  const points = changePoints(device, mpxns).filter((t) => t <= now);
  const everOwned = points.some((t) => roleAt(t) !== undefined);
  const role = roleAt(now);
  if (!role) return { everOwned, current: null };
  let since = now;
  for (let i = points.length - 1; i >= 0 && roleAt(points[i]) !== undefined; i--) since = points[i];
  return { everOwned, current: { role, since } };
}

/** What a party's query reads: its copies, and, as current owner, the device's earlier records. */
export function partyScope(partyId: string, standing: Standing, beforeOwnershipEnabled: boolean): ActivityScope {
  return { kind: 'party', partyId, beforeOwnershipUntil: beforeOwnershipEnabled && standing.current ? standing.current.since : null };
}

/**
 * No rows on a page and no cursor: is the device the caller's business at all? A party: it owns or
 * owned the device, or holds a copy within the window. An operator: the device is known anywhere.
 * Otherwise the answer is the same 404 as for a device nobody knows.
 */
export function deviceVisible(caller: Caller, facts: { standing: Standing | null; deviceKnownToOwnership: boolean; archived: boolean }): boolean {
  if (caller.operator) return facts.deviceKnownToOwnership || facts.archived;
  return (facts.standing?.everOwned ?? false) || facts.archived;
}

/** Flags that describe the event itself; the others (LATE_OWNERSHIP, NO_OWNER, ...) describe one recipient's copy. */
const EVENT_FLAGS: ReadonlySet<string> = new Set([FLAGS.ROLE_NOT_ELIGIBLE, FLAGS.UNKNOWN_SRV]);

/** Exactly the contract's VisibilityRecord fields, nothing else of the row. */
export function record(row: ActivityRow): VisibilityRecord {
  return pickVisibilityRecord(row);
}

/**
 * A party's item. Its own copy as delivered; an earlier record shown to the current owner becomes
 * its own view of it: originator hidden, recipient fields its own, flagged BEFORE_OWNERSHIP, only
 * the event's own flags kept.
 */
export function partyItem(row: ActivityRow, partyId: string, currentRole: OwnerRole | null): VisibilityRecord {
  const item = record(row);
  if (!row.beforeOwnership) {
    // The archive's row for this party is this party's copy; anything else is a defect, never shown.
    if (row.recipientPartyId !== partyId) throw new Error('a row of another recipient reached a party view');
    return item;
  }
  return {
    ...item,
    originatorId: null,
    recipientPartyId: partyId,
    recipientRole: currentRole,
    sentByRecipient: row.originatorId === partyId,
    flags: [...row.flags.filter((f) => EVENT_FLAGS.has(f)), BEFORE_OWNERSHIP],
  };
}
