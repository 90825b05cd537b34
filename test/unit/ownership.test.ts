import { DeviceHistory, MpxnHistory, associationField, associationValue, registrationField, resolveOwners, type AssociationFact, type RegistrationFact } from '../../services/shared/ownership';

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 0, 1);
const chf = 'AA-00-00-00-00-00-00-01';
const gsme = 'AA-00-00-00-00-00-00-02';
const mpan = '1012345678901';
const mprn = '7123456';
const supplierA = '90-B3-D5-1F-30-01-00-00';
const supplierB = '90-B3-D5-1F-30-02-00-00';
const distributor = '90-B3-D5-1F-30-0E-00-00';
const transporter = '90-B3-D5-1F-30-0F-00-00';

/** Builds the stores the way Redis holds them: hashes keyed by fact identity. */
function world(associations: AssociationFact[], registrations: RegistrationFact[]) {
  const deviceHashes = new Map<string, Record<string, string>>();
  for (const fact of associations) {
    const hash = deviceHashes.get(fact.deviceId) ?? {};
    hash[associationField(fact)] = associationValue(fact);
    deviceHashes.set(fact.deviceId, hash);
  }
  const mpxnHashes = new Map<string, Record<string, string>>();
  for (const fact of registrations) {
    const hash = mpxnHashes.get(fact.mpxn) ?? {};
    hash[registrationField(fact)] = fact.partyId;
    mpxnHashes.set(fact.mpxn, hash);
  }
  const mpxns = new Map([...mpxnHashes].map(([k, v]) => [k, MpxnHistory.fromHash(v)]));
  return (deviceId: string, t: number) => {
    const hash = deviceHashes.get(deviceId);
    return resolveOwners(hash ? DeviceHistory.fromHash(hash) : undefined, mpxns, t);
  };
}

const assoc = (deviceId: string, mpxn: string, at: number, deviceType: AssociationFact['deviceType'] = 'CHF'): AssociationFact => ({ deviceId, mpxn, effectiveFrom: at, associated: true, deviceType });
const dissoc = (deviceId: string, mpxn: string, at: number): AssociationFact => ({ deviceId, mpxn, effectiveFrom: at, associated: false, deviceType: null });
const reg = (mpxn: string, role: RegistrationFact['role'], partyId: string, at: number): RegistrationFact => ({ mpxn, role, partyId, effectiveFrom: at });

describe('resolveOwners', () => {
  const cos = T0 + 10 * DAY;
  const baseRegs = [reg(mpan, 'IS', supplierA, T0), reg(mpan, 'ED', distributor, T0), reg(mpan, 'IS', supplierB, cos)];
  const owners = world([assoc(chf, mpan, T0)], baseRegs);

  it('gives the old supplier events before the CoS and the new one events at or after it', () => {
    expect(owners(chf, cos - 1)).toEqual({ status: 'owned', owners: [{ partyId: supplierA, role: 'IS' }, { partyId: distributor, role: 'ED' }] });
    expect(owners(chf, cos)).toEqual({ status: 'owned', owners: [{ partyId: supplierB, role: 'IS' }, { partyId: distributor, role: 'ED' }] });
  });

  it('does not depend on the order facts arrived in', () => {
    const facts = [assoc(chf, mpan, T0), ...baseRegs];
    for (let i = 0; i < 20; i++) {
      const shuffled = [...facts].sort(() => Math.random() - 0.5);
      const resolve = world(shuffled.filter((f): f is AssociationFact => 'deviceId' in f), shuffled.filter((f): f is RegistrationFact => 'role' in f));
      expect(resolve(chf, cos - 1)).toEqual(owners(chf, cos - 1));
      expect(resolve(chf, cos + 1)).toEqual(owners(chf, cos + 1));
    }
  });

  it('says why nobody owns a device', () => {
    expect(owners(chf, T0 - 1)).toEqual({ status: 'unknown', reason: 'NO_DEVICE_ASSOCIATION' });
    expect(owners('AA-00-00-00-00-00-00-99', T0)).toEqual({ status: 'unknown', reason: 'NO_DEVICE_ASSOCIATION' });
    const noRegs = world([assoc(chf, mpan, T0)], []);
    expect(noRegs(chf, T0)).toEqual({ status: 'unknown', reason: 'NO_REGISTERED_OWNER' });
  });

  it('shows a dual-fuel hub to all four owners and the gas meter to gas owners only', () => {
    const resolve = world(
      [assoc(chf, mpan, T0), assoc(chf, mprn, T0), assoc(gsme, mprn, T0, 'GSME')],
      [reg(mpan, 'IS', supplierA, T0), reg(mpan, 'ED', distributor, T0), reg(mprn, 'GS', supplierB, T0), reg(mprn, 'GT', transporter, T0)],
    );
    expect(resolve(chf, T0 + DAY)).toEqual({
      status: 'owned',
      owners: [
        { partyId: supplierA, role: 'IS' },
        { partyId: supplierB, role: 'GS' },
        { partyId: distributor, role: 'ED' },
        { partyId: transporter, role: 'GT' },
      ],
    });
    expect(resolve(gsme, T0 + DAY)).toEqual({ status: 'owned', owners: [{ partyId: supplierB, role: 'GS' }, { partyId: transporter, role: 'GT' }] });
  });

  it('gives a dual-fuel supplier one copy, under its electricity role', () => {
    const resolve = world([assoc(chf, mpan, T0), assoc(chf, mprn, T0)], [reg(mpan, 'IS', supplierA, T0), reg(mprn, 'GS', supplierA, T0)]);
    expect(resolve(chf, T0)).toEqual({ status: 'owned', owners: [{ partyId: supplierA, role: 'IS' }] });
  });

  it('follows a device moved from one MPxN to another', () => {
    const otherMpan = '1099999999999';
    const move = T0 + 5 * DAY;
    const resolve = world(
      [assoc(chf, mpan, T0), dissoc(chf, mpan, move), assoc(chf, otherMpan, move)],
      [reg(mpan, 'IS', supplierA, T0), reg(otherMpan, 'IS', supplierB, T0)],
    );
    expect(resolve(chf, move - 1)).toEqual({ status: 'owned', owners: [{ partyId: supplierA, role: 'IS' }] });
    expect(resolve(chf, move)).toEqual({ status: 'owned', owners: [{ partyId: supplierB, role: 'IS' }] });
  });

  it('has no owner after a device is dissociated (decommissioned)', () => {
    const resolve = world([assoc(chf, mpan, T0), dissoc(chf, mpan, T0 + DAY)], [reg(mpan, 'IS', supplierA, T0)]);
    expect(resolve(chf, T0 + DAY - 1).status).toBe('owned');
    expect(resolve(chf, T0 + DAY)).toEqual({ status: 'unknown', reason: 'NO_DEVICE_ASSOCIATION' });
  });

  it('includes an export supplier', () => {
    const resolve = world([assoc(chf, mpan, T0)], [reg(mpan, 'IS', supplierA, T0), reg(mpan, 'ES', supplierB, T0)]);
    expect(resolve(chf, T0)).toEqual({ status: 'owned', owners: [{ partyId: supplierA, role: 'IS' }, { partyId: supplierB, role: 'ES' }] });
  });
});
