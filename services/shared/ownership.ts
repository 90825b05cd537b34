// Ownership over time, as pure data and pure functions (no I/O).
//
// Two kinds of effective-dated facts:
//  - association: device D is (or stops being) on MPxN M from time t;
//  - registration: on MPxN M, role R is held by party P from time t, until the next
//    registration for the same M and R.
// Owners of D at t = every party registered at t on any MPxN associated with D at t.
// Facts are keyed by their identity, so the answer for a given t never depends on the order in
// which facts arrived; a fact with the same identity replaces the earlier one (a correction).
import { OWNER_ROLES, type DeviceType, type OwnerRole } from './contracts';

export interface AssociationFact {
  deviceId: string;
  mpxn: string;
  effectiveFrom: number;
  associated: boolean;
  deviceType: DeviceType | null;
}

export interface RegistrationFact {
  mpxn: string;
  role: OwnerRole;
  partyId: string;
  effectiveFrom: number;
}

export type OwnershipFact = ({ kind: 'association' } & AssociationFact) | ({ kind: 'registration' } & RegistrationFact);

// Redis hash encodings: field = identity of the fact, value = what it says.
export function associationField(fact: AssociationFact): string {
  return `${fact.effectiveFrom}|${fact.mpxn}`;
}
export function associationValue(fact: AssociationFact): string {
  return fact.associated ? `A|${fact.deviceType ?? ''}` : 'D';
}
export function registrationField(fact: RegistrationFact): string {
  return `${fact.role}|${fact.effectiveFrom}`;
}

type Timeline<T> = Array<readonly [time: number, value: T]>;

/** A device's association history, per MPxN, sorted by time. */
export class DeviceHistory {
  readonly byMpxn = new Map<string, Timeline<boolean>>();

  static fromHash(hash: Record<string, string>): DeviceHistory {
    const history = new DeviceHistory();
    for (const [field, value] of Object.entries(hash)) {
      const bar = field.indexOf('|');
      const time = Number(field.slice(0, bar));
      const mpxn = field.slice(bar + 1);
      let timeline = history.byMpxn.get(mpxn);
      if (!timeline) history.byMpxn.set(mpxn, (timeline = []));
      timeline.push([time, value.startsWith('A')]);
    }
    for (const timeline of history.byMpxn.values()) timeline.sort((a, b) => a[0] - b[0]);
    return history;
  }

  get isEmpty(): boolean {
    return this.byMpxn.size === 0;
  }

  /** Every MPxN this device has ever been recorded on. */
  mpxns(): string[] {
    return [...this.byMpxn.keys()];
  }

  /** MPxNs the device sits on at time t. */
  mpxnsAt(t: number): string[] {
    const result: string[] = [];
    for (const [mpxn, timeline] of this.byMpxn) {
      if (valueAt(timeline, t) === true) result.push(mpxn);
    }
    return result.sort();
  }
}

/** An MPxN's registrations, per owning role, sorted by time. */
export class MpxnHistory {
  readonly byRole = new Map<OwnerRole, Timeline<string>>();

  static fromHash(hash: Record<string, string>): MpxnHistory {
    const history = new MpxnHistory();
    for (const [field, partyId] of Object.entries(hash)) {
      const [role, time] = field.split('|');
      let timeline = history.byRole.get(role as OwnerRole);
      if (!timeline) history.byRole.set(role as OwnerRole, (timeline = []));
      timeline.push([Number(time), partyId]);
    }
    for (const timeline of history.byRole.values()) timeline.sort((a, b) => a[0] - b[0]);
    return history;
  }

  registeredAt(t: number): Array<{ role: OwnerRole; partyId: string }> {
    const result: Array<{ role: OwnerRole; partyId: string }> = [];
    for (const role of OWNER_ROLES) {
      const timeline = this.byRole.get(role);
      const partyId = timeline && valueAt(timeline, t);
      if (partyId) result.push({ role, partyId });
    }
    return result;
  }
}

/** The value in force at t: the last entry whose time is <= t. Binary search; timelines are sorted. */
function valueAt<T>(timeline: Timeline<T>, t: number): T | undefined {
  let lo = 0;
  let hi = timeline.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (timeline[mid][0] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? undefined : timeline[found][1];
}

export interface Owner {
  partyId: string;
  role: OwnerRole;
}

export type OwnerResolution =
  | { status: 'owned'; owners: Owner[] }
  | { status: 'unknown'; reason: 'NO_DEVICE_ASSOCIATION' | 'NO_REGISTERED_OWNER' };

/**
 * Owners of a device at time t. One entry per party: a party holding several roles (a dual-fuel
 * supplier is both IS and GS) gets one copy, under its first role in IS, ES, GS, ED, GT order.
 */
export function resolveOwners(
  device: DeviceHistory | undefined,
  mpxns: ReadonlyMap<string, MpxnHistory>,
  t: number,
): OwnerResolution {
  const onMpxns = device ? device.mpxnsAt(t) : [];
  if (onMpxns.length === 0) return { status: 'unknown', reason: 'NO_DEVICE_ASSOCIATION' };
  const byParty = new Map<string, Owner>();
  const rank = (role: OwnerRole) => OWNER_ROLES.indexOf(role);
  for (const mpxn of onMpxns) {
    for (const owner of mpxns.get(mpxn)?.registeredAt(t) ?? []) {
      const current = byParty.get(owner.partyId);
      if (!current || rank(owner.role) < rank(current.role)) byParty.set(owner.partyId, owner);
    }
  }
  if (byParty.size === 0) return { status: 'unknown', reason: 'NO_REGISTERED_OWNER' };
  const owners = [...byParty.values()].sort((a, b) => rank(a.role) - rank(b.role) || a.partyId.localeCompare(b.partyId));
  return { status: 'owned', owners };
}
