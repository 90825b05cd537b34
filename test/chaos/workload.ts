// The chaos run's input and, computed from it alone (never by the code under test), what every
// party topic must hold. Pure.
import { randomBytes } from 'node:crypto';
import type { AlertEvent, AuditEvent, OwnershipEvent } from '../../services/shared/contracts';

const DAY = 86_400_000;

function eui(): string {
  return [...randomBytes(8)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('-');
}

export interface Device {
  deviceId: string;
  mpan: string;
  supplier: string;
  operator: string;
  /** A Change of Supplier: from `at` on, `to` is the supplier. */
  cos?: { at: number; to: string };
}

export interface Workload {
  suppliers: string[];
  operators: string[];
  devices: Device[];
  ownership: OwnershipEvent[];
  events: AuditEvent[];
  /** eventId -> the parties that must receive exactly one copy. */
  expected: Map<string, string[]>;
  /** Alerts, each naming the request of one event, to the device's supplier at that event's time. */
  alerts: AlertEvent[];
  /** alertId -> its recipient and the one event its AlertContext must name (CORRELATED). */
  expectedAlerts: Map<string, { recipient: string; eventId: string }>;
}

export function supplierAt(device: Device, t: number): string {
  return device.cos && t >= device.cos.at ? device.cos.to : device.supplier;
}

export function makeWorkload(options: { devices: number; events: number; cosShare: number; alertShare?: number; now?: number }): Workload {
  const now = options.now ?? Date.now();
  const run = randomBytes(3).toString('hex');
  const suppliers = Array.from({ length: 10 }, eui);
  const operators = Array.from({ length: 4 }, eui);
  const from = now - 60 * DAY;
  const devices: Device[] = [];
  const ownership: OwnershipEvent[] = [];
  let n = 0;
  const own = (e: Omit<OwnershipEvent, 'eventId' | 'deviceId' | 'deviceType' | 'partyId' | 'role'> & Partial<OwnershipEvent>): OwnershipEvent => ({
    eventId: `chaos-${run}-own-${n++}`,
    deviceId: null,
    deviceType: null,
    partyId: null,
    role: null,
    ...e,
  });
  for (let i = 0; i < options.devices; i++) {
    const device: Device = {
      deviceId: eui(),
      mpan: String(1_000_000_000_000 + Math.floor(Math.random() * 8_999_999_999_999)),
      supplier: suppliers[i % suppliers.length],
      operator: operators[i % operators.length],
    };
    if (Math.random() < options.cosShare) device.cos = { at: now - Math.floor(Math.random() * 20 * DAY), to: suppliers[(i + 1) % suppliers.length] };
    devices.push(device);
    ownership.push(own({ type: 'DEVICE_ASSOCIATED', mpxn: device.mpan, deviceId: device.deviceId, deviceType: 'ESME', effectiveFrom: from }));
    ownership.push(own({ type: 'SUPPLIER_REGISTERED', mpxn: device.mpan, partyId: device.supplier, role: 'IS', effectiveFrom: from }));
    ownership.push(own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: device.mpan, partyId: device.operator, role: 'ED', effectiveFrom: from }));
    if (device.cos) ownership.push(own({ type: 'SUPPLIER_REGISTERED', mpxn: device.mpan, partyId: device.cos.to, role: 'IS', effectiveFrom: device.cos.at }));
  }
  const events: AuditEvent[] = [];
  const expected = new Map<string, string[]>();
  const alerts: AlertEvent[] = [];
  const expectedAlerts = new Map<string, { recipient: string; eventId: string }>();
  const alertEvery = options.alertShare ? Math.round(1 / options.alertShare) : 0;
  for (let i = 0; i < options.events; i++) {
    const device = devices[Math.floor(Math.random() * devices.length)];
    const eventTime = now - 60_000 - Math.floor(Math.random() * 20 * DAY);
    const supplier = supplierAt(device, eventTime);
    const originator = Math.random() < 0.8 ? supplier : eui();
    const event: AuditEvent = {
      eventId: `chaos-${run}-evt-${i}`,
      messageType: 'SERVICE_REQUEST',
      requestId: `${originator}:${device.deviceId}:${i}`,
      serviceReference: '4.1',
      serviceReferenceVariant: '4.1.1',
      deviceId: device.deviceId,
      originatorId: originator,
      originatorRole: originator === supplier ? 'IS' : 'OU',
      eventTime,
      responseCode: null,
      payload: randomBytes(64),
    };
    events.push(event);
    expected.set(event.eventId, [supplier, device.operator]);
    if (alertEvery && i % alertEvery === 0) {
      const alertId = `chaos-${run}-alert-${i}`;
      alerts.push({ alertId, alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: device.deviceId, eventTime: eventTime + 1_000, requestId: event.requestId, recipientId: supplier, payload: randomBytes(32) });
      expectedAlerts.set(alertId, { recipient: supplier, eventId: event.eventId });
    }
  }
  return { suppliers, operators, devices, ownership, events, expected, alerts, expectedAlerts };
}

export interface Comparison {
  expectedCopies: number;
  /** Copies read, retractions not counted. */
  found: number;
  missing: number;
  doubled: number;
  /** Copies to a party not entitled to them that were not retracted. */
  unexpected: number;
  /** Copies to a party not entitled to them, withdrawn by a RETRACTED record (late registration data). */
  retracted: number;
  /** Retractions of copies the party was entitled to, or of copies it never got. */
  wrongRetractions: number;
}

/**
 * Compares what the party topics hold ((eventId, party) pairs, one per record read) with what they
 * must. A retraction (a record flagged RETRACTED) is not a copy: it withdraws one the party was not
 * entitled to, which then counts as retracted instead of unexpected.
 */
export function compare(expected: Map<string, string[]>, records: Array<{ eventId: string; party: string; retraction?: boolean }>): Comparison {
  const counts = new Map<string, number>();
  const retractions = new Map<string, number>();
  for (const { eventId, party, retraction } of records) {
    const key = `${eventId}|${party}`;
    const into = retraction ? retractions : counts;
    into.set(key, (into.get(key) ?? 0) + 1);
  }
  let expectedCopies = 0;
  let missing = 0;
  let doubled = 0;
  const wanted = new Set<string>();
  for (const [eventId, parties] of expected) {
    for (const party of parties) {
      expectedCopies++;
      wanted.add(`${eventId}|${party}`);
      const n = counts.get(`${eventId}|${party}`) ?? 0;
      if (n === 0) missing++;
      if (n > 1) doubled += n - 1;
    }
  }
  let unexpected = 0;
  let retracted = 0;
  for (const [key, n] of counts) {
    if (wanted.has(key)) continue;
    const withdrawn = Math.min(n, retractions.get(key) ?? 0);
    retracted += withdrawn;
    unexpected += n - withdrawn;
  }
  let wrongRetractions = 0;
  for (const [key, r] of retractions) wrongRetractions += wanted.has(key) ? r : Math.max(0, r - (counts.get(key) ?? 0));
  const found = [...counts.values()].reduce((a, b) => a + b, 0);
  return { expectedCopies, found, missing, doubled, unexpected, retracted, wrongRetractions };
}

export interface AlertComparison {
  expectedAlerts: number;
  foundAlerts: number;
  missingAlerts: number;
  doubledAlerts: number;
  /** On the wrong topic, or not CORRELATED with exactly the expected event. */
  wrongAlerts: number;
}

/** Compares the AlertContexts read (one entry per record) with what each alert must produce. */
export function compareAlerts(
  expected: Map<string, { recipient: string; eventId: string }>,
  contexts: Array<{ alertId: string; party: string; status: string; triggerEventIds: string[] }>,
): AlertComparison {
  const seen = new Map<string, number>();
  let wrongAlerts = 0;
  for (const c of contexts) {
    seen.set(c.alertId, (seen.get(c.alertId) ?? 0) + 1);
    const want = expected.get(c.alertId);
    if (!want || want.recipient !== c.party || c.status !== 'CORRELATED' || c.triggerEventIds.join() !== want.eventId) wrongAlerts++;
  }
  let missingAlerts = 0;
  let doubledAlerts = 0;
  for (const alertId of expected.keys()) {
    const n = seen.get(alertId) ?? 0;
    if (n === 0) missingAlerts++;
    if (n > 1) doubledAlerts += n - 1;
  }
  return { expectedAlerts: expected.size, foundAlerts: contexts.length, missingAlerts, doubledAlerts, wrongAlerts };
}
