// Identifiers and builders shared by the tests. Unique ids per run keep suites independent on one stack.
import { randomBytes } from 'node:crypto';
import type { AuditEvent, OwnershipEvent, VisibilityRecord } from '../../services/shared/contracts';

export function randomEui64(): string {
  return [...randomBytes(8)].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join('-');
}

export function randomMpan(): string {
  return String(1_000_000_000_000 + Math.floor(Math.random() * 8_999_999_999_999));
}

export function randomMprn(): string {
  return String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999));
}

let counter = 0;
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
}

export function auditEvent(overrides: Partial<AuditEvent> & Pick<AuditEvent, 'deviceId' | 'originatorId'>): AuditEvent {
  const counterValue = String(1000 + (counter += 1));
  return {
    eventId: uniqueId('evt'),
    messageType: 'SERVICE_REQUEST',
    requestId: `${overrides.originatorId}:${overrides.deviceId}:${counterValue}`,
    serviceReference: '2.2',
    serviceReferenceVariant: '2.2',
    originatorRole: 'IS',
    eventTime: Date.now() - 60_000,
    responseCode: null,
    payload: Buffer.from('<sr:Request>secret</sr:Request>'),
    ...overrides,
  };
}

export function ownershipEvent(overrides: Partial<OwnershipEvent> & Pick<OwnershipEvent, 'type' | 'mpxn' | 'effectiveFrom'>): OwnershipEvent {
  return {
    eventId: uniqueId('own'),
    deviceId: null,
    deviceType: null,
    partyId: null,
    role: null,
    ...overrides,
  };
}

/** A visibility.records record (recipient fields null): a Read request by `originatorId` to `deviceId`. */
export function visibilityRecord(overrides: Partial<VisibilityRecord> & Pick<VisibilityRecord, 'eventId' | 'deviceId' | 'originatorId'>): VisibilityRecord {
  return {
    messageType: 'SERVICE_REQUEST',
    requestId: `${overrides.originatorId}:${overrides.deviceId}:${overrides.eventId}`,
    serviceReferenceVariant: '4.1.1',
    eventTime: 1,
    originatorRole: 'IS',
    responseCode: null,
    srvTitle: 'Read Instantaneous Import Registers',
    critical: false,
    recipientPartyId: null,
    recipientRole: null,
    sentByRecipient: null,
    flags: [],
    ...overrides,
  };
}
