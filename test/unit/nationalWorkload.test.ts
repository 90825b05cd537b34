// The national-estate bench workload: its estate, its SRV mix, its churn, pure.
import { makeNationalWorkload } from '../../bench/nationalWorkload';
import { SRV_CATALOGUE } from '../../services/projector/srvCatalogue';
import { parseRequestId } from '../../services/shared/identifiers';

const samples = [
  { name: 'read', serviceReference: '4.1', serviceReferenceVariant: '4.1.1', payload: Buffer.from('<read/>') },
  { name: 'critical', serviceReference: '1.1', serviceReferenceVariant: '1.1.1', payload: Buffer.from('<critical/>') },
  { name: 'other', serviceReference: '6.15', serviceReferenceVariant: '6.15.1', payload: Buffer.from('<other/>') },
];

describe('national bench workload', () => {
  const workload = makeNationalWorkload({ devices: 4_900, alertShare: 0.25, samples: samples as never, run: 7, now: 1_700_000_000_000, events: 20_000 });
  const registrations = [...workload.registrations()];

  it('lays premises out in blocks: 9 of 20 dual fuel (ESME, GSME, comms hub), the rest ESME and comms hub', () => {
    expect(workload.deviceCount).toBe(4_900);
    expect(workload.premisesCount).toBe(2_000);
    const kinds = Array.from({ length: 49 }, (_, d) => workload.deviceAt(d));
    expect(kinds.filter((d) => d.dualFuel).map((d) => d.kind).join()).toBe(Array(9).fill('ESME,GSME,CHF').join());
    expect(kinds.filter((d) => !d.dualFuel).map((d) => d.kind).join()).toBe(Array(11).fill('ESME,CHF').join());
    expect(new Set(kinds.map((d) => d.premises)).size).toBe(20);
    expect(new Set(Array.from({ length: 4_900 }, (_, d) => workload.deviceAt(d).deviceId)).size).toBe(4_900);
  });

  it('registers every device on its meter points, with one supplier and one network operator per meter point', () => {
    expect(registrations).toHaveLength(workload.registrationCount);
    expect(new Set(registrations.map((r) => r.eventId)).size).toBe(registrations.length);
    const associations = registrations.filter((r) => r.type === 'DEVICE_ASSOCIATED');
    const deviceIds = new Set(associations.map((a) => a.deviceId));
    expect(deviceIds.size).toBe(4_900);
    const meterPoints = new Set(associations.map((a) => a.mpxn));
    for (const type of ['SUPPLIER_REGISTERED', 'NETWORK_OPERATOR_REGISTERED'] as const) {
      const registered = registrations.filter((r) => r.type === type).map((r) => r.mpxn);
      expect(new Set(registered).size).toBe(registered.length);
      expect(new Set(registered)).toEqual(meterPoints);
    }
    const parties = new Set(registrations.flatMap((r) => (r.partyId ? [r.partyId] : [])));
    for (const party of parties) expect(workload.partyIds).toContain(party);
  });

  it('owes each event one copy per party owning its device: two, three or four for a dual-fuel comms hub', () => {
    const owners = new Map<string, Set<string>>();
    const partiesOf = new Map<string, string[]>();
    for (const r of registrations) if (r.partyId) partiesOf.set(r.mpxn, [...(partiesOf.get(r.mpxn) ?? []), r.partyId]);
    for (const a of registrations.filter((r) => r.type === 'DEVICE_ASSOCIATED')) {
      const set = owners.get(a.deviceId!) ?? new Set<string>();
      for (const p of partiesOf.get(a.mpxn) ?? []) set.add(p);
      owners.set(a.deviceId!, set);
    }
    let copies = 0;
    const sizes = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const n = owners.get(workload.eventAt(i).deviceId)!.size;
      sizes.add(n);
      copies += n;
    }
    expect(workload.copiesFor(2_000)).toBe(copies);
    expect([...sizes].sort()).toEqual([2, 3, 4]);
  });

  it('draws reads far more often than critical commands, answers nine requests in ten, and spreads events over the estate', () => {
    const events = Array.from({ length: 20_000 }, (_, i) => workload.eventAt(i));
    const share = (variant: string) => events.filter((e) => e.serviceReferenceVariant === variant).length / events.length;
    expect(share('4.1.1')).toBeGreaterThan(0.75);
    expect(share('1.1.1')).toBeLessThan(0.05);
    expect(share('1.1.1')).toBeGreaterThan(0);
    const responses = events.filter((e) => e.messageType === 'SERVICE_RESPONSE');
    expect(responses.length / (events.length / 2)).toBeGreaterThan(0.85);
    expect(responses.length / (events.length / 2)).toBeLessThan(0.95);
    // A response follows its request and names it.
    for (let i = 1; i < 2_000; i += 2) {
      if (events[i].messageType === 'SERVICE_RESPONSE') expect(events[i].requestId).toBe(events[i - 1].requestId);
    }
    for (const e of events.slice(0, 500)) {
      expect(parseRequestId(e.requestId)).toMatchObject({ deviceId: e.deviceId, originatorId: e.originatorId });
      expect(SRV_CATALOGUE.get(e.serviceReferenceVariant)!.eligibleRoles).toContain(e.originatorRole);
    }
    expect(new Set(events.map((e) => e.deviceId)).size).toBeGreaterThan(4_000);
  });

  it('registers Changes of Supplier for about 1 % of meter points over the run, ahead of their date', () => {
    const changes = Array.from({ length: 20_000 }, (_, i) => workload.changeOfSupplierAt(i)).filter((c) => c !== undefined);
    const meterPoints = 2_000 + 900;
    expect(changes).toHaveLength(Math.round(meterPoints * 0.01));
    expect(workload.changesOfSupplierFor(20_000)).toBe(changes.length);
    for (const c of changes) {
      expect(c!.type).toBe('SUPPLIER_REGISTERED');
      expect(c!.effectiveFrom).toBeGreaterThan(1_700_000_000_000);
      expect(registrations.some((r) => r.mpxn === c!.mpxn && r.type === 'SUPPLIER_REGISTERED' && r.role === c!.role)).toBe(true);
    }
  });

  it('raises alerts to a supplier that owns the device, naming the event\'s request', () => {
    const suppliersOf = new Map<string, Set<string>>();
    const supplierOfMpxn = new Map(registrations.filter((r) => r.type === 'SUPPLIER_REGISTERED').map((r) => [r.mpxn, r.partyId!]));
    for (const a of registrations.filter((r) => r.type === 'DEVICE_ASSOCIATED')) {
      suppliersOf.set(a.deviceId!, new Set([...(suppliersOf.get(a.deviceId!) ?? []), supplierOfMpxn.get(a.mpxn)!]));
    }
    expect(workload.alertsFor(20)).toBe(5);
    for (const i of [0, 4, 8, 12, 16]) {
      expect(workload.raisesAlert(i)).toBe(true);
      const alert = workload.alertFor(i);
      expect(alert.requestId).toBe(workload.eventAt(i).requestId);
      expect(suppliersOf.get(alert.deviceId)).toContain(alert.recipientId);
    }
  });
});
