// The bench's workload, pure: an estate of devices (each on its own MPAN with an import supplier
// and a distributor; every fourth premises dual fuel, with a gas supplier and a gas transporter
// too: four owners), audit events cycling over the devices with real DUIS payloads, and alerts
// naming earlier requests. Identifiers carry the run, so runs never collide.
import type { AlertEvent, AuditEvent, OwnershipEvent } from '../services/shared/contracts';
import type { DuisSample } from '../services/cli/duisSamples';

const DAY = 86_400_000;

/** An EUI-64 of the bench's: a prefix byte, 5E, then n in hex. */
export function eui(prefix: number, n: number): string {
  const hex = n.toString(16).toUpperCase().padStart(12, '0').slice(-12);
  return [prefix.toString(16).toUpperCase().padStart(2, '0'), '5E', ...hex.match(/../g)!].join('-');
}

export interface BenchWorkload {
  deviceCount: number;
  /** The estate's registrations, written before the timed part. */
  registrations(): Iterable<OwnershipEvent>;
  registrationCount: number;
  /** A registration to write before the i-th audit event (the national estate's Changes of Supplier). */
  changeOfSupplierAt?(i: number): OwnershipEvent | undefined;
  /** Every party that owns a device (each has a party topic). */
  partyIds: string[];
  /** The i-th audit event (device i mod devices, sample i mod samples; every third a response). */
  eventAt(i: number): AuditEvent;
  /** Whether the i-th event raises an alert, and that alert: to the device's import supplier, naming the event's request. */
  raisesAlert(i: number): boolean;
  alertFor(i: number): AlertEvent;
  /** Party copies the first `events` events owe. */
  copiesFor(events: number): number;
  alertsFor(events: number): number;
  /** A party id of the estate (for sizing a copy). */
  anySupplier: string;
}

export function makeBenchWorkload(options: { devices: number; alertShare: number; samples: DuisSample[]; run: number; now: number }): BenchWorkload {
  const { run, now, samples } = options;
  const ownership: OwnershipEvent[] = [];
  const ownersPerDevice: number[] = [];
  const devices: string[] = [];
  const supplier = (k: number) => eui(0x90, k % 20);
  for (let d = 0; d < options.devices; d++) {
    const device = eui(0xd0, run * 100_000 + d);
    const mpan = String(1_000_000_000_000 + run * 100_000 + d);
    devices.push(device);
    const own = (e: Partial<OwnershipEvent> & Pick<OwnershipEvent, 'type' | 'mpxn'>): OwnershipEvent => ({ eventId: `bench-${run}-${ownership.length}`, deviceId: null, deviceType: null, partyId: null, role: null, effectiveFrom: now - 30 * DAY, ...e });
    ownership.push(own({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'CHF' }));
    ownership.push(own({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier(d), role: 'IS' }));
    ownership.push(own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: eui(0x91, d % 14), role: 'ED' }));
    if (d % 4 === 0) {
      const mprn = String(100_000_000 + ((run * 100_000 + d) % 900_000_000));
      ownership.push(own({ type: 'DEVICE_ASSOCIATED', mpxn: mprn, deviceId: device, deviceType: 'CHF' }));
      ownership.push(own({ type: 'SUPPLIER_REGISTERED', mpxn: mprn, partyId: eui(0x92, d % 20), role: 'GS' }));
      ownership.push(own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mprn, partyId: eui(0x93, d % 8), role: 'GT' }));
      ownersPerDevice.push(4);
    } else ownersPerDevice.push(2);
  }
  const deviceOf = (i: number) => devices[i % devices.length];
  const requestOf = (i: number) => `${supplier(i)}:${deviceOf(i)}:${i}`;
  const alertEvery = options.alertShare > 0 ? Math.max(1, Math.round(1 / options.alertShare)) : 0;
  return {
    deviceCount: devices.length,
    registrations: () => ownership,
    registrationCount: ownership.length,
    partyIds: [...new Set(ownership.flatMap((e) => (e.partyId ? [e.partyId] : [])))],
    anySupplier: supplier(1),
    eventAt: (i) => {
      const s = samples[i % samples.length];
      return {
        eventId: `bench-${run}-e${i}`, messageType: i % 3 === 2 ? 'SERVICE_RESPONSE' : 'SERVICE_REQUEST', requestId: requestOf(i),
        serviceReference: s.serviceReference, serviceReferenceVariant: s.serviceReferenceVariant, deviceId: deviceOf(i), originatorId: supplier(i),
        originatorRole: 'IS', eventTime: Date.now() - 1_000, responseCode: i % 3 === 2 ? 'I0' : null, payload: s.payload,
      };
    },
    raisesAlert: (i) => alertEvery > 0 && i % alertEvery === 0,
    alertFor: (i) => ({
      alertId: `bench-${run}-a${i}`, alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: deviceOf(i), eventTime: Date.now(),
      requestId: requestOf(i), recipientId: supplier(i % devices.length), payload: Buffer.from('<gbcs:Alert/>'),
    }),
    copiesFor: (events) => {
      let copies = 0;
      for (let i = 0; i < events; i++) copies += ownersPerDevice[i % devices.length];
      return copies;
    },
    alertsFor: (events) => (alertEvery ? Math.ceil(events / alertEvery) : 0),
  };
}
