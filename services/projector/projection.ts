// Pure projection of an audit event into a payload-free VisibilityRecord.
// The record is built field by field from an allow-list; nothing is copied wholesale from the
// input, so a payload (or any field added upstream later) cannot reach the output.
import {
  FLAGS,
  MAX_EPOCH_MS,
  MESSAGE_TYPES,
  USER_ROLES,
  type AuditEvent,
  type MessageType,
  type UserRole,
  type VisibilityRecord,
} from '../shared/contracts';
import { normaliseEui64, parseRequestId } from '../shared/identifiers';
import { DlqReason, RejectedRecord, isAbsent } from '../shared/rejection';
import { SRV_CATALOGUE, type SrvDefinition } from './srvCatalogue';

export interface ValidationLimits {
  now: number;
  maxFutureSkewMs: number;
}

/** The audit-event fields a record may carry, already validated and normalised (no payload). */
export type ValidAuditEvent = Omit<AuditEvent, 'payload' | 'serviceReference'>;

const REQUIRED_STRINGS = ['eventId', 'requestId', 'serviceReferenceVariant', 'deviceId', 'originatorId'] as const;

/**
 * Checks a decoded AuditEvent against the contract; throws RejectedRecord with a stable reason, and
 * nothing else, whatever the input. Messages interpolate only validated values: a raw Symbol or an
 * object with a throwing toString would turn a rejection into a crash.
 */
export function validateAuditEvent(decoded: Partial<AuditEvent>, limits: ValidationLimits): ValidAuditEvent {
  if (typeof decoded !== 'object' || decoded === null) {
    throw new RejectedRecord(DlqReason.UNDECODABLE, 'the decoded value is not a record');
  }
  for (const field of REQUIRED_STRINGS) {
    const value = decoded[field];
    if (isAbsent(value)) throw new RejectedRecord(DlqReason.MISSING_FIELD, `${field} is missing or empty`);
    if (typeof value !== 'string') throw new RejectedRecord(DlqReason.INVALID_FIELD, `${field} is not a string`);
  }
  if (isAbsent(decoded.messageType)) throw new RejectedRecord(DlqReason.MISSING_FIELD, 'messageType is missing');
  if (!MESSAGE_TYPES.includes(decoded.messageType as MessageType)) {
    throw new RejectedRecord(DlqReason.INVALID_FIELD, 'messageType is not a known message type');
  }
  if (isAbsent(decoded.originatorRole)) throw new RejectedRecord(DlqReason.MISSING_FIELD, 'originatorRole is missing');
  if (!USER_ROLES.includes(decoded.originatorRole as UserRole)) {
    throw new RejectedRecord(DlqReason.INVALID_FIELD, 'originatorRole is not a known role');
  }
  const deviceId = normaliseEui64(decoded.deviceId);
  if (!deviceId) throw new RejectedRecord(DlqReason.INVALID_DEVICE_ID, 'deviceId is not an EUI-64 (eight hex pairs joined by "-")');
  const originatorId = normaliseEui64(decoded.originatorId);
  if (!originatorId) throw new RejectedRecord(DlqReason.INVALID_USER_ID, 'originatorId is not an EUI-64 User ID');
  const request = parseRequestId(decoded.requestId);
  if (!request) {
    throw new RejectedRecord(DlqReason.INVALID_REQUEST_ID, 'requestId is not <originator User ID>:<target Device ID>:<counter>');
  }
  const eventTime = decoded.eventTime;
  // Beyond MAX_EPOCH_MS no Date (nor the archive's DateTime64) can represent the time: not a time at all, not merely a future one.
  if (typeof eventTime !== 'number' || !Number.isSafeInteger(eventTime) || eventTime <= 0 || eventTime > MAX_EPOCH_MS) {
    throw new RejectedRecord(DlqReason.INVALID_EVENT_TIME, 'eventTime is missing or not a positive epoch-millis value within the Date range');
  }
  if (eventTime > limits.now + limits.maxFutureSkewMs) {
    throw new RejectedRecord(
      DlqReason.FUTURE_EVENT_TIME,
      `eventTime ${new Date(eventTime).toISOString()} is more than ${limits.maxFutureSkewMs} ms ahead of now`,
    );
  }
  const responseCode = decoded.responseCode ?? null;
  // typeof first: RegExp.test would coerce a number (42 passes) and throw on a Symbol.
  if (responseCode !== null && (typeof responseCode !== 'string' || !/^[A-Z0-9]{1,8}$/.test(responseCode))) {
    throw new RejectedRecord(DlqReason.INVALID_FIELD, 'responseCode is not a DUIS response code');
  }
  return {
    eventId: decoded.eventId!,
    messageType: decoded.messageType!,
    requestId: `${request.originatorId}:${request.deviceId}:${request.counter}`,
    serviceReferenceVariant: decoded.serviceReferenceVariant!.trim(),
    deviceId,
    originatorId,
    originatorRole: decoded.originatorRole!,
    eventTime,
    responseCode,
  };
}

export function lookupSrv(variant: string): SrvDefinition | undefined {
  return SRV_CATALOGUE.get(variant);
}

/** The record that goes to visibility.records: recipient fields null, titles from the catalogue. */
export function projectAuditEvent(event: ValidAuditEvent): VisibilityRecord {
  const srv = lookupSrv(event.serviceReferenceVariant);
  const flags: string[] = [];
  if (!srv) flags.push(FLAGS.UNKNOWN_SRV);
  else if (!srv.eligibleRoles.includes(event.originatorRole)) flags.push(FLAGS.ROLE_NOT_ELIGIBLE);
  return {
    eventId: event.eventId,
    messageType: event.messageType,
    requestId: event.requestId,
    serviceReferenceVariant: event.serviceReferenceVariant,
    deviceId: event.deviceId,
    eventTime: event.eventTime,
    originatorRole: event.originatorRole,
    responseCode: event.responseCode,
    srvTitle: srv ? srv.title : `Unknown SRV ${event.serviceReferenceVariant}`,
    critical: srv ? srv.critical : false,
    originatorId: event.originatorId,
    recipientPartyId: null,
    recipientRole: null,
    sentByRecipient: null,
    flags,
  };
}
