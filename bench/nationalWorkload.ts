// The bench's national-estate workload, pure and index-addressed (nothing per device is held in
// memory, so a million devices cost nothing until they are written):
// - premises in blocks of 20: 9 dual fuel (an ESME on the MPAN, a GSME on the MPRN, a comms hub
//   on both: 3 devices) and 11 electricity only (ESME and comms hub on the MPAN: 2 devices);
//   owners: the MPAN's import supplier and distributor, the MPRN's gas supplier and transporter
//   (one copy per party: a supplier of both fuels gets one);
// - 30 suppliers with skewed market shares (the largest ~19 %, Zipf), 14 distribution network
//   operators by region, 8 gas transporters; most dual-fuel premises buy gas from their
//   electricity supplier;
// - SRVs drawn by weight from the DUIS samples: reads dominate (x30), other non-critical requests
//   x5, critical commands x1; nine requests in ten get a Service Response (a tenth of those an
//   error code); each is sent by the role eligible for it, preferring the device's supplier;
// - devices are drawn by a hash of the event index, so consecutive events hit unrelated devices
//   (caches see a national spread, not a loop over a few thousand);
// - Changes of Supplier at about 1 % of meter points a day, compressed into the run: registered
//   ahead of their effective date, as the industry does, so copies owed during the run do not
//   change but the ownership projector and the fan-out's caches see the churn;
// - alerts to the device's supplier naming a request sent earlier.
import type { AlertEvent, AuditEvent, OwnershipEvent, UserRole } from '../services/shared/contracts';
import type { DuisSample } from '../services/cli/duisSamples';
import { SRV_CATALOGUE } from '../services/projector/srvCatalogue';
import { eui, type BenchWorkload } from './workload';

const DAY = 86_400_000;
const BLOCK_PREMISES = 20;
const BLOCK_DUAL = 9;
const BLOCK_DEVICES = BLOCK_DUAL * 3 + (BLOCK_PREMISES - BLOCK_DUAL) * 2; // 49
const SUPPLIERS = 30;
const DISTRIBUTORS = 14;
const TRANSPORTERS = 8;
/** Share of meter points changing supplier per day (Ofgem: about 1 % a day at busy times). */
export const COS_SHARE_PER_DAY = 0.01;

/** 32-bit mix (murmur3 finaliser): a fixed pseudo-random spread of an index. */
export function mix(n: number): number {
  let h = (n ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A cumulative table for drawing index k with probability weights[k] / sum. */
function drawer(weights: number[]): (u: number) => number {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return (u) => {
    const target = (u / 0x1_0000_0000) * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

export type DeviceKind = 'ESME' | 'GSME' | 'CHF';

export interface DeviceAt {
  deviceId: string;
  kind: DeviceKind;
  premises: number;
  dualFuel: boolean;
}

export interface NationalOptions {
  devices: number;
  alertShare: number;
  samples: DuisSample[];
  run: number;
  now: number;
  /** Audit events in the run: Changes of Supplier are spread over them (1 % of meter points a day, the run standing for a day). */
  events: number;
}

export interface NationalWorkload extends BenchWorkload {
  deviceAt(d: number): DeviceAt;
  premisesCount: number;
  /** The Change of Supplier due before the i-th audit event, if any (future-dated registration). */
  changeOfSupplierAt(i: number): OwnershipEvent | undefined;
  changesOfSupplierFor(events: number): number;
}

export function makeNationalWorkload(options: NationalOptions): NationalWorkload {
  const { run, now, samples } = options;
  const blocks = Math.ceil(options.devices / BLOCK_DEVICES);
  const devices = blocks * BLOCK_DEVICES;
  const premisesCount = blocks * BLOCK_PREMISES;
  const runBase = (run % 800) * 1_000_000_000; // keeps MPANs at 13 digits and runs apart
  const supplierShare = drawer(Array.from({ length: SUPPLIERS }, (_, k) => 1 / (k + 1)));
  const supplierOf = (premises: number) => eui(0x90, supplierShare(mix(premises * 3 + 1)));
  const gasSupplierOf = (premises: number) => (mix(premises * 3 + 2) % 10 < 8 ? supplierOf(premises) : eui(0x92, supplierShare(mix(premises * 7 + 5))));
  const distributorOf = (premises: number) => eui(0x91, premises % DISTRIBUTORS);
  const transporterOf = (premises: number) => eui(0x93, premises % TRANSPORTERS);
  const mpanOf = (premises: number) => String(1_000_000_000_000 + runBase + premises);
  const mprnOf = (premises: number) => String(1_000_000_000 + ((run % 8) * 1_000_000_000 + premises) % 8_999_999_999);
  const isDual = (premises: number) => premises % BLOCK_PREMISES < BLOCK_DUAL;

  function deviceAt(d: number): DeviceAt {
    const block = Math.floor(d / BLOCK_DEVICES);
    const r = d % BLOCK_DEVICES;
    const deviceId = eui(0xd0, (run % 4096) * 100_000_000 + d);
    if (r < BLOCK_DUAL * 3) {
      const premises = block * BLOCK_PREMISES + Math.floor(r / 3);
      return { deviceId, premises, dualFuel: true, kind: (['ESME', 'GSME', 'CHF'] as const)[r % 3] };
    }
    const s = r - BLOCK_DUAL * 3;
    const premises = block * BLOCK_PREMISES + BLOCK_DUAL + Math.floor(s / 2);
    return { deviceId, premises, dualFuel: false, kind: s % 2 === 0 ? 'ESME' : 'CHF' };
  }
  /** One copy per owning party: a dual-fuel comms hub whose gas comes from its electricity supplier has three. */
  const ownersOf = (device: DeviceAt) => (device.kind === 'CHF' && device.dualFuel ? (gasSupplierOf(device.premises) === supplierOf(device.premises) ? 3 : 4) : 2);

  // SRV weights: reads dominate, critical commands are rare.
  const weights = samples.map((s) => {
    const srv = SRV_CATALOGUE.get(s.serviceReferenceVariant);
    if (srv?.critical) return 1;
    return /read|retrieve/i.test(srv?.title ?? s.name) ? 30 : 5;
  });
  const drawSample = drawer(weights);

  /** Slot k holds request k and, for nine in ten, its response right after (events 2k and 2k+1). */
  const slotOf = (i: number) => Math.floor(i / 2);
  const answered = (k: number) => mix(k * 5 + 3) % 10 < 9;
  const isResponseAt = (i: number) => i % 2 === 1 && answered(slotOf(i));
  /** The request event i belongs to: its slot, or for an unanswered request's second event a slot of its own (offset past any k). */
  const requestAt = (i: number) => (i % 2 === 1 && !isResponseAt(i) ? slotOf(i) + 0x4000_0000 : slotOf(i));
  const deviceOfEvent = (i: number) => deviceAt(deviceIndexOf(requestAt(i)));
  const deviceIndexOf = (k: number) => mix(k * 2 + 1) % devices;
  function originatorOf(k: number, device: DeviceAt, sample: DuisSample): { id: string; role: UserRole } {
    const listed = SRV_CATALOGUE.get(sample.serviceReferenceVariant)?.eligibleRoles ?? [];
    const eligible = listed.length > 0 ? listed : (['IS'] as const);
    const supplierRole: UserRole = device.kind === 'GSME' ? 'GS' : 'IS';
    const byRole: Partial<Record<UserRole, string>> = {
      IS: supplierOf(device.premises),
      GS: device.dualFuel ? gasSupplierOf(device.premises) : undefined,
      ED: distributorOf(device.premises),
      GT: device.dualFuel ? transporterOf(device.premises) : undefined,
    };
    // One request in ten from another User of the same role (a party the device's owners do not see as theirs).
    const role = (eligible.includes(supplierRole) ? supplierRole : (eligible.find((r) => byRole[r as UserRole]) ?? eligible[0])) as UserRole;
    const id = mix(k * 11 + 7) % 10 === 0 ? eui(0x94, mix(k) % 50) : (byRole[role] ?? eui(0x94, mix(k) % 50));
    return { id, role };
  }
  const requestId = (k: number, originator: string, deviceId: string) => `${originator}:${deviceId}:${k}`;

  function eventAt(i: number): AuditEvent {
    const isResponse = isResponseAt(i);
    const slot = requestAt(i);
    const device = deviceOfEvent(i);
    const sample = samples[drawSample(mix(slot * 13 + 11))];
    const originator = originatorOf(slot, device, sample);
    const errorCode = mix(slot * 17 + 13) % 10 === 0;
    return {
      eventId: `bench-${run}-e${i}`,
      messageType: isResponse ? 'SERVICE_RESPONSE' : 'SERVICE_REQUEST',
      requestId: requestId(slot, originator.id, device.deviceId),
      serviceReference: sample.serviceReference,
      serviceReferenceVariant: sample.serviceReferenceVariant,
      deviceId: device.deviceId,
      originatorId: originator.id,
      originatorRole: originator.role,
      eventTime: Date.now() - 1_000,
      responseCode: isResponse ? (errorCode ? 'E65' : 'I0') : null,
      payload: sample.payload,
    };
  }

  function* registrations(): Iterable<OwnershipEvent> {
    let n = 0;
    const own = (e: Partial<OwnershipEvent> & Pick<OwnershipEvent, 'type' | 'mpxn'>): OwnershipEvent => ({
      eventId: `bench-${run}-o${n++}`, deviceId: null, deviceType: null, partyId: null, role: null, effectiveFrom: now - 30 * DAY, ...e,
    });
    for (let d = 0; d < devices; d++) {
      const device = deviceAt(d);
      const mpan = mpanOf(device.premises);
      const mprn = mprnOf(device.premises);
      if (device.kind !== 'GSME') yield own({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device.deviceId, deviceType: device.kind });
      if (device.kind !== 'ESME' && device.dualFuel) yield own({ type: 'DEVICE_ASSOCIATED', mpxn: mprn, deviceId: device.deviceId, deviceType: device.kind });
      // Each meter point's parties once, with its first device.
      if (device.kind === 'ESME') {
        yield own({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplierOf(device.premises), role: 'IS' });
        yield own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: distributorOf(device.premises), role: 'ED' });
      }
      if (device.kind === 'GSME') {
        yield own({ type: 'SUPPLIER_REGISTERED', mpxn: mprn, partyId: gasSupplierOf(device.premises), role: 'GS' });
        yield own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mprn, partyId: transporterOf(device.premises), role: 'GT' });
      }
    }
  }
  const registrationCount = blocks * (BLOCK_DUAL * 8 + (BLOCK_PREMISES - BLOCK_DUAL) * 4);

  // Meter points: every premises' MPAN, the dual-fuel ones' MPRN too.
  const meterPoints = premisesCount + blocks * BLOCK_DUAL;
  const cosTotal = Math.round(meterPoints * COS_SHARE_PER_DAY);
  const cosEvery = cosTotal > 0 ? Math.max(1, Math.floor(options.events / cosTotal)) : 0;
  function changeOfSupplierAt(i: number): OwnershipEvent | undefined {
    if (!cosEvery || i % cosEvery !== 0 || i / cosEvery >= cosTotal) return undefined;
    const c = i / cosEvery;
    const premises = mix(c * 19 + 17) % premisesCount;
    const gas = isDual(premises) && mix(c) % 3 === 0;
    return {
      eventId: `bench-${run}-cos${c}`, type: 'SUPPLIER_REGISTERED', mpxn: gas ? mprnOf(premises) : mpanOf(premises), deviceId: null, deviceType: null,
      partyId: eui(0x90, (supplierShare(mix(c * 23 + 29)) + 1) % SUPPLIERS), role: gas ? 'GS' : 'IS',
      // Registered ahead of the switch, as the industry does: copies owed during the run stay put.
      effectiveFrom: now + 14 * DAY,
    };
  }

  const alertEvery = options.alertShare > 0 ? Math.max(1, Math.round(1 / options.alertShare)) : 0;
  const partyIds = new Set<string>();
  for (let k = 0; k < SUPPLIERS; k++) partyIds.add(eui(0x90, k)).add(eui(0x92, k));
  for (let k = 0; k < DISTRIBUTORS; k++) partyIds.add(eui(0x91, k));
  for (let k = 0; k < TRANSPORTERS; k++) partyIds.add(eui(0x93, k));

  return {
    deviceCount: devices,
    deviceAt,
    premisesCount,
    registrations,
    registrationCount,
    partyIds: [...partyIds],
    anySupplier: eui(0x90, 0),
    eventAt,
    raisesAlert: (i) => alertEvery > 0 && i % alertEvery === 0,
    alertFor: (i) => {
      const event = eventAt(i);
      const device = deviceOfEvent(i);
      return {
        alertId: `bench-${run}-a${i}`, alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: event.deviceId, eventTime: Date.now(),
        requestId: event.requestId, recipientId: device.kind === 'GSME' ? gasSupplierOf(device.premises) : supplierOf(device.premises), payload: Buffer.from('<gbcs:Alert/>'),
      } satisfies AlertEvent;
    },
    copiesFor: (events) => {
      let copies = 0;
      for (let i = 0; i < events; i++) copies += ownersOf(deviceOfEvent(i));
      return copies;
    },
    alertsFor: (events) => (alertEvery ? Math.ceil(events / alertEvery) : 0),
    changeOfSupplierAt,
    changesOfSupplierFor: (events) => {
      let n = 0;
      for (let i = 0; i < events; i++) if (changeOfSupplierAt(i)) n++;
      return n;
    },
  };
}
