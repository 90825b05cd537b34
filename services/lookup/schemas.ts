// JSON schemas of the lookup API's parameters and answers: Fastify validates requests with them and
// the OpenAPI document (openapi.ts) is built from them, so the two cannot drift apart.
import { ALERT_ID_PATTERN, MAX_ALERT_ID_LENGTH } from '../shared/archiveAlerts';
import { MAX_CURSOR_LENGTH } from './cursor';
import { DEFAULT_LIMIT, MAX_LIMIT } from './params';

export const EUI64_PATTERN = '^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$';

const time = (what: string) => ({
  type: 'string',
  maxLength: 40,
  description: `${what}: epoch milliseconds or ISO-8601 (2026-11-30, 2026-11-30T12:00:00Z, ...)`,
});

export const pageQuerystring = {
  from: time('Oldest eventTime served, inclusive; never before the retention window (three calendar months)'),
  to: time('eventTime bound, exclusive'),
  cursor: { type: 'string', maxLength: MAX_CURSOR_LENGTH, pattern: '^[A-Za-z0-9_.-]+$', description: 'Opaque: the `next` of the previous page, for the same caller and query' },
  // A string of digits, parsed by params.ts: JSON-schema coercion would take "1e3" or "0x10".
  limit: { type: 'string', pattern: '^[0-9]{1,7}$', description: `Items per page: a whole number, 1 to ${MAX_LIMIT}, default ${DEFAULT_LIMIT}` },
} as const;

export const deviceParams = {
  type: 'object',
  required: ['deviceId'],
  properties: { deviceId: { type: 'string', pattern: EUI64_PATTERN, description: 'Device ID, EUI-64 (lower case is normalised)' } },
} as const;

export const activityQuerystring = { type: 'object', additionalProperties: false, properties: pageQuerystring } as const;

export const unownedQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: { ...pageQuerystring, deviceId: { type: 'string', pattern: EUI64_PATTERN, description: 'Only this device' } },
} as const;

export const alertParams = {
  type: 'object',
  required: ['alertId'],
  properties: { alertId: { type: 'string', minLength: 1, maxLength: MAX_ALERT_ID_LENGTH, pattern: ALERT_ID_PATTERN, description: 'As in AlertEvent' } },
} as const;

export const alertQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    recipientPartyId: { type: 'string', pattern: EUI64_PATTERN, description: 'Operators only: whose AlertContext (default: the alert\'s recipient; the lowest User ID should one alertId have several)' },
  },
} as const;

export const pageFileParams = {
  type: 'object',
  required: ['file'],
  properties: { file: { type: 'string', maxLength: 64 } },
} as const;

const nullable = (type: string) => ({ type: [type, 'null'] });

export const visibilityRecordSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'eventId', 'messageType', 'requestId', 'serviceReferenceVariant', 'deviceId', 'eventTime', 'originatorRole', 'responseCode',
    'srvTitle', 'critical', 'originatorId', 'recipientPartyId', 'recipientRole', 'sentByRecipient', 'flags',
  ],
  properties: {
    eventId: { type: 'string' },
    messageType: { type: 'string', enum: ['SERVICE_REQUEST', 'SIGNED_PRE_COMMAND', 'PRE_COMMAND', 'ACKNOWLEDGEMENT', 'SERVICE_RESPONSE'] },
    requestId: { type: 'string' },
    serviceReferenceVariant: { type: 'string' },
    deviceId: { type: 'string' },
    eventTime: { type: 'integer', description: 'epoch milliseconds' },
    originatorRole: { type: 'string' },
    responseCode: nullable('string'),
    srvTitle: { type: 'string' },
    critical: { type: 'boolean' },
    originatorId: nullable('string'),
    recipientPartyId: nullable('string'),
    recipientRole: nullable('string'),
    sentByRecipient: nullable('boolean'),
    flags: { type: 'array', items: { type: 'string' }, description: 'ROLE_NOT_ELIGIBLE, UNKNOWN_SRV, LATE_OWNERSHIP, NO_OWNER, BEFORE_OWNERSHIP, RETRACTED (operators only), ...' },
  },
} as const;

const triggerSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'eventId', 'requestId', 'messageType', 'serviceReferenceVariant', 'srvTitle', 'critical', 'eventTime', 'originatorRole',
    'originatorId', 'sentByRecipient', 'responseCode', 'flags', 'match',
  ],
  properties: {
    eventId: { type: 'string' },
    requestId: { type: 'string' },
    messageType: visibilityRecordSchema.properties.messageType,
    serviceReferenceVariant: { type: 'string' },
    srvTitle: { type: 'string' },
    critical: { type: 'boolean' },
    eventTime: { type: 'integer', description: 'epoch milliseconds' },
    originatorRole: { type: 'string' },
    originatorId: nullable('string'),
    sentByRecipient: { type: 'boolean' },
    responseCode: nullable('string'),
    flags: { type: 'array', items: { type: 'string' } },
    match: { type: 'string', enum: ['REQUEST_ID', 'DEVICE_WINDOW'] },
  },
} as const;

/** schemas/AlertContext.avsc as JSON: times epoch ms, absent values null. */
export const alertContextSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['alertId', 'alertCode', 'alertKind', 'deviceId', 'eventTime', 'alertTitle', 'recipientPartyId', 'recipientRole', 'status', 'triggers'],
  properties: {
    alertId: { type: 'string' },
    alertCode: { type: 'string' },
    alertKind: { type: 'string', enum: ['DEVICE', 'DCC'] },
    deviceId: { type: 'string' },
    eventTime: { type: 'integer', description: 'epoch milliseconds' },
    alertTitle: { type: 'string' },
    recipientPartyId: { type: 'string' },
    recipientRole: nullable('string'),
    status: { type: 'string', enum: ['CORRELATED', 'NO_TRIGGER_FOUND', 'TRIGGER_NOT_VISIBLE'] },
    triggers: { type: 'array', items: triggerSchema, description: 'Newest first; empty unless status is CORRELATED' },
  },
} as const;

export const pageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next'],
  properties: { items: { type: 'array', items: visibilityRecordSchema }, next: { type: ['string', 'null'] } },
} as const;

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const meSchema = {
  type: 'object',
  required: ['subject', 'operator'],
  properties: { subject: { type: 'string' }, operator: { type: 'boolean' } },
} as const;
