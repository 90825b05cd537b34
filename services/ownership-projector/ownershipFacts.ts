// Pure validation of registration events into ownership facts.
import {
  DEVICE_TYPES,
  MAX_ARCHIVE_EPOCH_MS,
  NETWORK_OPERATOR_ROLES,
  OWNER_ROLES,
  OWNERSHIP_EVENT_TYPES,
  SUPPLIER_ROLES,
  type DeviceType,
  type OwnerRole,
  type OwnershipEvent,
} from '../shared/contracts';
import { isMpan, isMprn, normaliseEui64 } from '../shared/identifiers';
import type { OwnershipFact } from '../shared/ownership';
import { DlqReason, RejectedRecord, isAbsent } from '../shared/rejection';

/** Which kind of MPxN each role registers on: suppliers and distributors of electricity on an MPAN, gas on an MPRN. */
const ROLE_SUPPLY: Record<OwnerRole, 'MPAN' | 'MPRN'> = { IS: 'MPAN', ES: 'MPAN', ED: 'MPAN', GS: 'MPRN', GT: 'MPRN' };
/** Meters sit on one kind of MPxN; hubs and other devices may sit on either. */
const DEVICE_SUPPLY: Partial<Record<DeviceType, 'MPAN' | 'MPRN'>> = { ESME: 'MPAN', GSME: 'MPRN', GPF: 'MPRN' };

/**
 * Future effective dates are normal (a CoS is notified ahead), so they are accepted.
 * Messages interpolate only validated values: a raw Symbol or odd object would make a rejection throw.
 */
export function validateOwnershipEvent(event: Partial<OwnershipEvent>): OwnershipFact {
  if (typeof event !== 'object' || event === null) {
    throw new RejectedRecord(DlqReason.UNDECODABLE, 'the decoded value is not a record');
  }
  if (isAbsent(event.eventId)) throw new RejectedRecord(DlqReason.MISSING_FIELD, 'eventId is missing or empty');
  if (typeof event.eventId !== 'string') throw new RejectedRecord(DlqReason.INVALID_FIELD, 'eventId is not a string');
  if (isAbsent(event.type)) throw new RejectedRecord(DlqReason.MISSING_FIELD, 'type is missing');
  if (!OWNERSHIP_EVENT_TYPES.includes(event.type as never)) {
    throw new RejectedRecord(DlqReason.INVALID_FIELD, 'type is not a known ownership event type');
  }
  const mpxn = typeof event.mpxn === 'string' ? event.mpxn.trim() : '';
  const supply = isMpan(mpxn) ? 'MPAN' : isMprn(mpxn) ? 'MPRN' : null;
  if (!supply) throw new RejectedRecord(DlqReason.INVALID_MPXN, 'mpxn is neither an MPAN (13 digits) nor an MPRN (6 to 10 digits)');
  const effectiveFrom = event.effectiveFrom;
  // Beyond the archive's range the fan-out could not compare it with archived times (nor store it).
  if (typeof effectiveFrom !== 'number' || !Number.isSafeInteger(effectiveFrom) || effectiveFrom < 0 || effectiveFrom > MAX_ARCHIVE_EPOCH_MS) {
    throw new RejectedRecord(DlqReason.INVALID_EVENT_TIME, 'effectiveFrom is missing or not an epoch-millis value between 1970 and 2299-12-31');
  }

  if (event.type === 'DEVICE_ASSOCIATED' || event.type === 'DEVICE_DISSOCIATED') {
    if (event.deviceId == null) throw new RejectedRecord(DlqReason.MISSING_FIELD, `${event.type} needs deviceId`);
    const deviceId = normaliseEui64(event.deviceId);
    if (!deviceId) throw new RejectedRecord(DlqReason.INVALID_DEVICE_ID, 'deviceId is not an EUI-64 (eight hex pairs joined by "-")');
    const deviceType = event.deviceType ?? null;
    if (deviceType !== null && !DEVICE_TYPES.includes(deviceType)) {
      throw new RejectedRecord(DlqReason.INVALID_FIELD, 'deviceType is not a known device type');
    }
    if (event.type === 'DEVICE_ASSOCIATED' && deviceType === null) {
      throw new RejectedRecord(DlqReason.MISSING_FIELD, 'DEVICE_ASSOCIATED needs deviceType');
    }
    const needs = deviceType ? DEVICE_SUPPLY[deviceType] : undefined;
    if (needs && needs !== supply) {
      throw new RejectedRecord(DlqReason.ROLE_MISMATCH, `a ${deviceType} sits on an ${needs}, but ${mpxn} is an ${supply}`);
    }
    return { kind: 'association', deviceId, mpxn, effectiveFrom, associated: event.type === 'DEVICE_ASSOCIATED', deviceType };
  }

  const allowed = event.type === 'SUPPLIER_REGISTERED' ? SUPPLIER_ROLES : NETWORK_OPERATOR_ROLES;
  if (event.role == null) throw new RejectedRecord(DlqReason.MISSING_FIELD, `${event.type} needs role`);
  if (!OWNER_ROLES.includes(event.role)) throw new RejectedRecord(DlqReason.INVALID_FIELD, 'role is not a known owner role');
  if (!allowed.includes(event.role)) {
    throw new RejectedRecord(DlqReason.ROLE_MISMATCH, `role ${event.role} does not fit ${event.type} (allowed: ${allowed.join(', ')})`);
  }
  if (ROLE_SUPPLY[event.role] !== supply) {
    throw new RejectedRecord(DlqReason.ROLE_MISMATCH, `role ${event.role} registers on an ${ROLE_SUPPLY[event.role]}, but ${mpxn} is an ${supply}`);
  }
  if (event.partyId == null) throw new RejectedRecord(DlqReason.MISSING_FIELD, `${event.type} needs partyId`);
  const partyId = normaliseEui64(event.partyId);
  if (!partyId) throw new RejectedRecord(DlqReason.INVALID_USER_ID, 'partyId is not an EUI-64 User ID');
  return { kind: 'registration', mpxn, role: event.role, partyId, effectiveFrom };
}

/**
 * Key of a fact on the changelog topic: its identity, so compaction keeps every fact (and only
 * the newest version of each), unlike sat.ownership.events, which is compacted by MPxN.
 */
export function factKey(fact: OwnershipFact): string {
  return fact.kind === 'association'
    ? `device|${fact.deviceId}|${fact.mpxn}|${fact.effectiveFrom}`
    : `registration|${fact.mpxn}|${fact.role}|${fact.effectiveFrom}`;
}

/** A fact written back as a (normalised) OwnershipEvent, for the changelog topic. */
export function factToEvent(fact: OwnershipFact, eventId: string): OwnershipEvent {
  if (fact.kind === 'association') {
    return {
      eventId,
      type: fact.associated ? 'DEVICE_ASSOCIATED' : 'DEVICE_DISSOCIATED',
      mpxn: fact.mpxn,
      deviceId: fact.deviceId,
      deviceType: fact.deviceType,
      partyId: null,
      role: null,
      effectiveFrom: fact.effectiveFrom,
    };
  }
  return {
    eventId,
    type: SUPPLIER_ROLES.includes(fact.role) ? 'SUPPLIER_REGISTERED' : 'NETWORK_OPERATOR_REGISTERED',
    mpxn: fact.mpxn,
    deviceId: null,
    deviceType: null,
    partyId: fact.partyId,
    role: fact.role,
    effectiveFrom: fact.effectiveFrom,
  };
}
