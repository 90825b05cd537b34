// Pure validation of a decoded AlertEvent: the alert without its payload, normalised, or a
// RejectedRecord with a stable reason. Built field by field, so the payload cannot pass through.
import { MAX_EPOCH_MS, type AlertEvent } from '../shared/contracts';
import { normaliseEui64, parseRequestId } from '../shared/identifiers';
import { DlqReason, RejectedRecord, isAbsent } from '../shared/rejection';
import type { AlertFacts } from './correlation';

const ALERT_KINDS: ReadonlyArray<AlertEvent['alertKind']> = ['DEVICE', 'DCC'];

export interface AlertLimits {
  now: number;
  maxFutureSkewMs: number;
}

export function validateAlertEvent(decoded: Partial<AlertEvent>, limits: AlertLimits): AlertFacts {
  if (typeof decoded !== 'object' || decoded === null) throw new RejectedRecord(DlqReason.UNDECODABLE, 'the decoded value is not a record');
  for (const field of ['alertId', 'alertCode', 'deviceId', 'recipientId'] as const) {
    const value = decoded[field];
    if (isAbsent(value)) throw new RejectedRecord(DlqReason.MISSING_FIELD, `${field} is missing or empty`);
    if (typeof value !== 'string') throw new RejectedRecord(DlqReason.INVALID_FIELD, `${field} is not a string`);
  }
  if (!ALERT_KINDS.includes(decoded.alertKind as AlertEvent['alertKind'])) throw new RejectedRecord(DlqReason.INVALID_FIELD, 'alertKind is not DEVICE or DCC');
  const alertCode = decoded.alertCode!.trim();
  if (!/^[0-9A-Za-z]{1,12}$/.test(alertCode.replace(/^0x/i, ''))) throw new RejectedRecord(DlqReason.INVALID_FIELD, 'alertCode is not an alert code (e.g. 0x8F1C, N27)');
  const deviceId = normaliseEui64(decoded.deviceId);
  if (!deviceId) throw new RejectedRecord(DlqReason.INVALID_DEVICE_ID, 'deviceId is not an EUI-64 (eight hex pairs joined by "-")');
  const recipientId = normaliseEui64(decoded.recipientId);
  if (!recipientId) throw new RejectedRecord(DlqReason.INVALID_USER_ID, 'recipientId is not an EUI-64 User ID');
  const eventTime = decoded.eventTime;
  if (typeof eventTime !== 'number' || !Number.isSafeInteger(eventTime) || eventTime <= 0 || eventTime > MAX_EPOCH_MS) {
    throw new RejectedRecord(DlqReason.INVALID_EVENT_TIME, 'eventTime is missing or not a positive epoch-millis value within the Date range');
  }
  if (eventTime > limits.now + limits.maxFutureSkewMs) {
    throw new RejectedRecord(DlqReason.FUTURE_EVENT_TIME, `eventTime is more than ${limits.maxFutureSkewMs} ms ahead of now`);
  }
  let requestId: string | null = null;
  if (!isAbsent(decoded.requestId)) {
    const request = parseRequestId(decoded.requestId);
    if (!request) throw new RejectedRecord(DlqReason.INVALID_REQUEST_ID, 'requestId is not <originator User ID>:<target Device ID>:<counter>');
    // The same normal form the projector gives audit events, so the two match.
    requestId = `${request.originatorId}:${request.deviceId}:${request.counter}`;
  }
  return { alertId: decoded.alertId!.trim(), alertCode, alertKind: decoded.alertKind!, deviceId, eventTime, requestId, recipientId };
}
