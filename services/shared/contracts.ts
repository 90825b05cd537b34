// TypeScript views of the Avro contracts in schemas/ (namespace srv.visibility.v1).
// The .avsc files are the source of truth; these types must stay in step with them.

export const MESSAGE_TYPES = [
  'SERVICE_REQUEST',
  'SIGNED_PRE_COMMAND',
  'PRE_COMMAND',
  'ACKNOWLEDGEMENT',
  'SERVICE_RESPONSE',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const USER_ROLES = ['IS', 'ES', 'GS', 'ED', 'GT', 'OU', 'RSA'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** Roles that own a device: Responsible Suppliers and Network Operators, in precedence order. */
export const OWNER_ROLES = ['IS', 'ES', 'GS', 'ED', 'GT'] as const;
export type OwnerRole = (typeof OWNER_ROLES)[number];
export const SUPPLIER_ROLES: readonly OwnerRole[] = ['IS', 'ES', 'GS'];
export const NETWORK_OPERATOR_ROLES: readonly OwnerRole[] = ['ED', 'GT'];

export const OWNERSHIP_EVENT_TYPES = [
  'DEVICE_ASSOCIATED',
  'DEVICE_DISSOCIATED',
  'SUPPLIER_REGISTERED',
  'NETWORK_OPERATOR_REGISTERED',
] as const;
export type OwnershipEventType = (typeof OWNERSHIP_EVENT_TYPES)[number];

/**
 * The largest epoch-millis value a JS Date can hold (±8.64e15). An Avro timestamp-millis long can be far
 * larger, so every time taken from input is checked against it before anything turns it into a Date.
 */
export const MAX_EPOCH_MS = 8.64e15;

/** The last instant the archive's DateTime64 can hold (ClickHouse: up to 2299-12-31); later input times are invalid. */
export const MAX_ARCHIVE_EPOCH_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

export const DEVICE_TYPES = ['ESME', 'GSME', 'CHF', 'GPF', 'PPMID', 'HCALCS', 'IHD', 'CAD'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

export interface AuditEvent {
  eventId: string;
  messageType: MessageType;
  requestId: string;
  serviceReference: string;
  serviceReferenceVariant: string;
  deviceId: string;
  originatorId: string;
  originatorRole: UserRole;
  eventTime: number;
  responseCode: string | null;
  payload: Buffer;
}

export interface OwnershipEvent {
  eventId: string;
  type: OwnershipEventType;
  mpxn: string;
  deviceId: string | null;
  deviceType: DeviceType | null;
  partyId: string | null;
  role: OwnerRole | null;
  effectiveFrom: number;
}

export interface AlertEvent {
  alertId: string;
  alertCode: string;
  alertKind: 'DEVICE' | 'DCC';
  deviceId: string;
  eventTime: number;
  requestId: string | null;
  recipientId: string;
  payload: Buffer;
}

export interface VisibilityRecord {
  eventId: string;
  messageType: MessageType;
  requestId: string;
  serviceReferenceVariant: string;
  deviceId: string;
  eventTime: number;
  originatorRole: UserRole;
  responseCode: string | null;
  srvTitle: string;
  critical: boolean;
  originatorId: string | null;
  recipientPartyId: string | null;
  recipientRole: OwnerRole | null;
  sentByRecipient: boolean | null;
  flags: string[];
}

/**
 * Exactly the contract's VisibilityRecord fields of a wider row (an archive or lookup row carries
 * columns of its own), absent values as null, flags copied. The one place that lists them. Pure.
 */
export function pickVisibilityRecord(row: { [K in keyof VisibilityRecord]: VisibilityRecord[K] | undefined }): VisibilityRecord {
  return {
    eventId: row.eventId!,
    messageType: row.messageType!,
    requestId: row.requestId!,
    serviceReferenceVariant: row.serviceReferenceVariant!,
    deviceId: row.deviceId!,
    eventTime: row.eventTime!,
    originatorRole: row.originatorRole!,
    responseCode: row.responseCode ?? null,
    srvTitle: row.srvTitle!,
    critical: row.critical!,
    originatorId: row.originatorId ?? null,
    recipientPartyId: row.recipientPartyId ?? null,
    recipientRole: row.recipientRole ?? null,
    sentByRecipient: row.sentByRecipient ?? null,
    flags: [...(row.flags ?? [])],
  };
}

/** Flags a VisibilityRecord may carry (the contract's two, and the ones this project adds; see README). */
export const FLAGS = {
  ROLE_NOT_ELIGIBLE: 'ROLE_NOT_ELIGIBLE',
  UNKNOWN_SRV: 'UNKNOWN_SRV',
  /** Delivered after the fact because registration data arrived late (a retrospective change). */
  LATE_OWNERSHIP: 'LATE_OWNERSHIP',
  /** On visibility.unowned: no owner could be found within the wait. */
  NO_OWNER: 'NO_OWNER',
  /** Re-published from the archive by an operator's replay (npm run replay); the original eventId. */
  REPLAY: 'REPLAY',
  /**
   * A copy the recipient was not entitled to after all (registration data that arrived late: a
   * retrospective CoS, a corrected association): the same record as delivered, sent again once with
   * this flag. The recipient should delete or disregard its copy with that eventId.
   */
  RETRACTED: 'RETRACTED',
} as const;

export const TOPICS = {
  auditEvents: 'sat.audit.events',
  ownershipEvents: 'sat.ownership.events',
  /** This project's changelog of ownership facts, compacted by fact identity (see README). */
  ownershipFacts: 'visibility.ownership.facts',
  alerts: 'sat.alerts',
  visibilityRecords: 'visibility.records',
  unowned: 'visibility.unowned',
  /** This project's: every party copy and unowned record as committed, for the archiver (see README). */
  archive: 'visibility.archive',
  /** This project's: every AlertContext as published to its recipient, for the archiver (the lookup's /v1/alerts). */
  alertContexts: 'visibility.alert-contexts',
  dlq: 'sat.dlq',
  /**
   * This project's changelogs of the items waiting in a delivering stage's state (records waiting
   * for owners, alerts waiting for their trigger), compacted, keyed `<namespace>|<id>`, partitioned
   * like the stage's input: what restores the waiting items when Redis lost them (see README).
   */
  fanOutWaiting: 'visibility.fan-out.waiting',
  alertTriageWaiting: 'visibility.alert-triage.waiting',
  /** This project's: replay checkpoints, compacted, keyed by replay id (see README, Replay). */
  replayProgress: 'visibility.replay.progress',
  partyPrefix: 'visibility.party.',
} as const;

export function partyTopic(partyId: string): string {
  return `${TOPICS.partyPrefix}${partyId}`;
}

// schemas/AlertContext.avsc: what alert triage publishes on party topics.
export const ALERT_CONTEXT_STATUSES = ['CORRELATED', 'NO_TRIGGER_FOUND', 'TRIGGER_NOT_VISIBLE'] as const;
export type AlertContextStatus = (typeof ALERT_CONTEXT_STATUSES)[number];
export const TRIGGER_MATCHES = ['REQUEST_ID', 'DEVICE_WINDOW'] as const;
export type TriggerMatch = (typeof TRIGGER_MATCHES)[number];

export interface Trigger {
  eventId: string;
  requestId: string;
  messageType: MessageType;
  serviceReferenceVariant: string;
  srvTitle: string;
  critical: boolean;
  eventTime: number;
  originatorRole: UserRole;
  originatorId: string | null;
  sentByRecipient: boolean;
  responseCode: string | null;
  flags: string[];
  match: TriggerMatch;
}

export interface AlertContext {
  alertId: string;
  alertCode: string;
  alertKind: AlertEvent['alertKind'];
  deviceId: string;
  eventTime: number;
  alertTitle: string;
  recipientPartyId: string;
  recipientRole: OwnerRole | null;
  status: AlertContextStatus;
  triggers: Trigger[];
}
