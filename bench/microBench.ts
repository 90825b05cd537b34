// Pure hot paths, in process: projection, owner resolution, Avro encode/decode. No I/O.
import avro from 'avsc';
import { projectAuditEvent, validateAuditEvent } from '../services/projector/projection';
import { readSchema } from '../services/shared/schemaRegistry';
import { DeviceHistory, MpxnHistory, resolveOwners } from '../services/shared/ownership';
import { copiesFor } from '../services/fan-out/routing';
import { loadDuisSamples } from '../services/cli/duisSamples';
import type { AuditEvent } from '../services/shared/contracts';

export interface MicroResult {
  name: string;
  opsPerSecond: number;
  nsPerOp: number;
}

function measure(name: string, iterations: number, body: (i: number) => void): MicroResult {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) body(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) body(i);
  const ns = Number(process.hrtime.bigint() - start);
  return { name, opsPerSecond: Math.round((iterations / ns) * 1e9), nsPerOp: Math.round(ns / iterations) };
}

export function runMicroBenchmarks(): MicroResult[] {
  const { samples } = loadDuisSamples();
  const now = Date.now();
  const events: AuditEvent[] = samples.map((s, i) => ({
    eventId: `bench-${i}`,
    messageType: 'SERVICE_REQUEST',
    requestId: `90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:${1000 + i}`,
    serviceReference: s.serviceReference,
    serviceReferenceVariant: s.serviceReferenceVariant,
    deviceId: '00-DB-12-34-56-78-90-A0',
    originatorId: '90-B3-D5-1F-30-01-00-00',
    originatorRole: 'IS',
    eventTime: now - 1000,
    responseCode: null,
    payload: s.payload,
  }));
  const auditType = avro.Type.forSchema(JSON.parse(readSchema('AuditEvent')));
  const recordType = avro.Type.forSchema(JSON.parse(readSchema('VisibilityRecord')));
  const encodedAudit = events.map((e) => auditType.toBuffer(e));
  const limits = { now, maxFutureSkewMs: 300_000 };
  const record = projectAuditEvent(validateAuditEvent(events[0], limits));
  const encodedRecord = recordType.toBuffer(record);

  // A device with two years of history: CoS every quarter, a move, two MPxNs.
  const deviceHash: Record<string, string> = { '0|1012345678901': 'A|CHF', '0|7123456': 'A|CHF' };
  const mpanHash: Record<string, string> = {};
  for (let q = 0; q < 8; q++) mpanHash[`IS|${q * 90 * 86_400_000}`] = `90-B3-D5-1F-30-0${q}-00-00`;
  mpanHash['ED|0'] = '90-B3-D5-1F-30-0E-00-00';
  const mprnHash: Record<string, string> = { 'GS|0': '90-B3-D5-1F-30-0A-00-00', 'GT|0': '90-B3-D5-1F-30-0F-00-00' };
  const device = DeviceHistory.fromHash(deviceHash);
  const mpxns = new Map([
    ['1012345678901', MpxnHistory.fromHash(mpanHash)],
    ['7123456', MpxnHistory.fromHash(mprnHash)],
  ]);
  const owners = resolveOwners(device, mpxns, 400 * 86_400_000);
  if (owners.status !== 'owned') throw new Error('bench fixture has no owners');

  return [
    measure('decode AuditEvent (avsc, real DUIS payloads)', 200_000, (i) => auditType.fromBuffer(encodedAudit[i % encodedAudit.length])),
    measure('validate + project (allow-list, catalogue)', 500_000, (i) => projectAuditEvent(validateAuditEvent(events[i % events.length], limits))),
    measure('resolve owners at t (2 MPxNs, 11 registrations)', 1_000_000, (i) => resolveOwners(device, mpxns, (i % 700) * 86_400_000)),
    measure('copies for 4 owners (disclosure policy)', 1_000_000, () => copiesFor(record, owners.owners, 'own-requests')),
    measure('encode VisibilityRecord', 1_000_000, () => recordType.toBuffer(record)),
    measure('decode VisibilityRecord', 1_000_000, () => recordType.fromBuffer(encodedRecord)),
  ];
}
