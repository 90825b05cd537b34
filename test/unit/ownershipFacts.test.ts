import { factKey, factToEvent, validateOwnershipEvent } from '../../services/ownership-projector/ownershipFacts';
import { DlqReason, RejectedRecord } from '../../services/shared/rejection';
import { ownershipEvent } from '../support/fixtures';

const mpan = '1012345678901';
const mprn = '7123456';
const party = '90-B3-D5-1F-30-01-00-00';
const device = '00-DB-12-34-56-78-90-A0';

function reason(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof RejectedRecord) return error.reason;
    throw error;
  }
}

describe('validateOwnershipEvent', () => {
  it('turns a supplier registration into a registration fact', () => {
    expect(validateOwnershipEvent(ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party.toLowerCase(), role: 'IS', effectiveFrom: 5 }))).toEqual({
      kind: 'registration',
      mpxn: mpan,
      role: 'IS',
      partyId: party,
      effectiveFrom: 5,
    });
  });

  it('turns an association into an association fact', () => {
    expect(validateOwnershipEvent(ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mprn, deviceId: device, deviceType: 'GSME', effectiveFrom: 5 }))).toEqual({
      kind: 'association',
      deviceId: device,
      mpxn: mprn,
      effectiveFrom: 5,
      associated: true,
      deviceType: 'GSME',
    });
  });

  it.each([
    ['a supplier event with a network role', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'ED' }, DlqReason.ROLE_MISMATCH],
    ['a network event with a supplier role', { type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: party, role: 'IS' }, DlqReason.ROLE_MISMATCH],
    ['a gas role on an MPAN', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'GS' }, DlqReason.ROLE_MISMATCH],
    ['a gas meter on an MPAN', { type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'GSME' }, DlqReason.ROLE_MISMATCH],
    ['a registration without role', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party }, DlqReason.MISSING_FIELD],
    ['a registration without party', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, role: 'IS' }, DlqReason.MISSING_FIELD],
    ['an association without device', { type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceType: 'ESME' }, DlqReason.MISSING_FIELD],
    ['a malformed device id', { type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: 'nope', deviceType: 'ESME' }, DlqReason.INVALID_DEVICE_ID],
    ['a malformed MPxN', { type: 'SUPPLIER_REGISTERED', mpxn: '12AB', partyId: party, role: 'IS' }, DlqReason.INVALID_MPXN],
    ['a malformed party id', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: 'x', role: 'IS' }, DlqReason.INVALID_USER_ID],
    ['an unknown role', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'XX' }, DlqReason.INVALID_FIELD],
    // The ROLE_MISMATCH message interpolated the raw role, and a Symbol cannot be made a string.
    ['a Symbol role', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: Symbol('IS') }, DlqReason.INVALID_FIELD],
    ['an unknown type', { type: 'SUPPLIER_DEREGISTERED', mpxn: mpan, partyId: party, role: 'IS' }, DlqReason.INVALID_FIELD],
    ['a missing type', { type: undefined, mpxn: mpan, partyId: party, role: 'IS' }, DlqReason.MISSING_FIELD],
    ['an unknown device type', { type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'TOASTER' }, DlqReason.INVALID_FIELD],
    ['a numeric eventId', { eventId: 7, type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'IS' }, DlqReason.INVALID_FIELD],
    ['an empty eventId', { eventId: '', type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'IS' }, DlqReason.MISSING_FIELD],
    ['a numeric MPxN', { type: 'SUPPLIER_REGISTERED', mpxn: 1012345678901, partyId: party, role: 'IS' }, DlqReason.INVALID_MPXN],
    // The fan-out turns effectiveFrom into a Date when it reconciles the archive.
    ['an effective date beyond the Date range', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'IS', effectiveFrom: 9e15 }, DlqReason.INVALID_EVENT_TIME],
    ['an effective date after 2299, beyond the archive', { type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'IS', effectiveFrom: Date.UTC(2300, 0, 1) }, DlqReason.INVALID_EVENT_TIME],
  ])('rejects %s', (_name, fields, expected) => {
    expect(reason(() => validateOwnershipEvent(ownershipEvent({ effectiveFrom: 1, ...(fields as object) } as never)))).toBe(expected);
  });
});

describe('changelog form of a fact', () => {
  const events = [
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mprn, deviceId: device, deviceType: 'GSME', effectiveFrom: 7 }),
    ownershipEvent({ type: 'DEVICE_DISSOCIATED', mpxn: mpan, deviceId: device, effectiveFrom: 8 }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: party, role: 'ES', effectiveFrom: 9 }),
    ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mprn, partyId: party, role: 'GT', effectiveFrom: 10 }),
  ];

  it.each(events.map((e) => [e.type, e]))('round-trips a %s', (_type, event) => {
    const fact = validateOwnershipEvent(event);
    expect(validateOwnershipEvent(factToEvent(fact, event.eventId))).toEqual(fact);
  });

  it('keys facts by identity: same identity, same key; different fact, different key', () => {
    const keys = events.map((e) => factKey(validateOwnershipEvent(e)));
    expect(new Set(keys).size).toBe(events.length);
    const correction = validateOwnershipEvent({ ...events[2], partyId: '90-B3-D5-1F-30-09-00-00' });
    expect(factKey(correction)).toBe(keys[2]);
  });
});
