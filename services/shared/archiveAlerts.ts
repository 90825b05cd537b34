// Archived AlertContexts (table alert_context_archive, infra/clickhouse/archive.sql) for the lookup's
// GET /v1/alerts/{alertId}: the row a context becomes, the context a row becomes again (exactly the
// contract's fields), the read's SQL (FINAL, bound parameters) and its encoding for the archiver's
// internal HTTP route. Pure.
import type { AlertContext, OwnerRole, Trigger } from './contracts';
import { normaliseEui64 } from './identifiers';

/** What the lookup's route accepts as an alertId; alerts with other characters cannot be asked for. */
export const ALERT_ID_PATTERN = '^[A-Za-z0-9._:-]+$';
export const MAX_ALERT_ID_LENGTH = 200;
const ALERT_ID = new RegExp(ALERT_ID_PATTERN);

export function isAlertId(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.length <= MAX_ALERT_ID_LENGTH && ALERT_ID.test(value);
}

/** One recipient's context of an alert, or (recipient null: operators) the alert's lowest-numbered recipient's. */
export interface AlertContextQuery {
  alertId: string;
  recipientPartyId: string | null;
  /** Only alerts whose eventTime is at or after this (the lookup's retention window), epoch ms. */
  from: number;
}

/** What the lookup reads archived alerts through: the Archive itself, or the archiver's internal route. */
export interface AlertContextReader {
  alertContext(query: AlertContextQuery): Promise<AlertContext | null>;
}

function toClickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The JSONEachRow line of one context. */
export function alertContextRow(context: AlertContext): string {
  return JSON.stringify({
    recipientPartyId: context.recipientPartyId,
    alertId: context.alertId,
    alertCode: context.alertCode,
    alertKind: context.alertKind,
    deviceId: context.deviceId,
    eventTime: toClickHouseTime(context.eventTime),
    alertTitle: context.alertTitle,
    recipientRole: context.recipientRole,
    status: context.status,
    triggers: JSON.stringify(context.triggers.map(trigger)),
  });
}

export const ALERT_SELECT_COLUMNS = `recipientPartyId, alertId, alertCode, alertKind, deviceId,
  toUnixTimestamp64Milli(eventTime) AS eventTimeMs, alertTitle, recipientRole, status, triggers`;

export interface AlertContextRowRead {
  recipientPartyId: string;
  alertId: string;
  alertCode: string;
  alertKind: string;
  deviceId: string;
  eventTimeMs: string | number;
  alertTitle: string;
  recipientRole: string | null;
  status: string;
  triggers: string;
}

/** Exactly the contract's Trigger fields, in its order, nothing else of the value. */
function trigger(t: Trigger): Trigger {
  return {
    eventId: t.eventId,
    requestId: t.requestId,
    messageType: t.messageType,
    serviceReferenceVariant: t.serviceReferenceVariant,
    srvTitle: t.srvTitle,
    critical: t.critical,
    eventTime: Number(t.eventTime),
    originatorRole: t.originatorRole,
    originatorId: t.originatorId ?? null,
    sentByRecipient: t.sentByRecipient,
    responseCode: t.responseCode ?? null,
    flags: [...(t.flags ?? [])],
    match: t.match,
  };
}

export function fromAlertRow(row: AlertContextRowRead): AlertContext {
  return {
    alertId: row.alertId,
    alertCode: row.alertCode,
    alertKind: row.alertKind as AlertContext['alertKind'],
    deviceId: row.deviceId,
    eventTime: Number(row.eventTimeMs),
    alertTitle: row.alertTitle,
    recipientPartyId: row.recipientPartyId,
    recipientRole: (row.recipientRole || null) as OwnerRole | null,
    status: row.status as AlertContext['status'],
    triggers: (JSON.parse(row.triggers) as Trigger[]).map(trigger),
  };
}

export function alertContextSql(query: AlertContextQuery): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { alertId: query.alertId, from: query.from };
  let recipient = '';
  if (query.recipientPartyId !== null) {
    recipient = 'recipientPartyId = {recipientPartyId:String} AND ';
    params.recipientPartyId = query.recipientPartyId;
  }
  return {
    sql: `SELECT ${ALERT_SELECT_COLUMNS} FROM alert_context_archive FINAL
      WHERE ${recipient}alertId = {alertId:String} AND eventTime >= fromUnixTimestamp64Milli({from:Int64})
      ORDER BY recipientPartyId LIMIT 1`,
    params,
  };
}

// The archiver's internal route carries the query as URL parameters, checked again on arrival.

export function alertToParams(query: AlertContextQuery): URLSearchParams {
  const params = new URLSearchParams({ alertId: query.alertId, from: String(query.from) });
  if (query.recipientPartyId !== null) params.set('recipientPartyId', query.recipientPartyId);
  return params;
}

export function alertFromParams(params: URLSearchParams): AlertContextQuery | { error: string } {
  const alertId = params.get('alertId');
  const rawFrom = params.get('from');
  const rawRecipient = params.get('recipientPartyId');
  const recipientPartyId = rawRecipient === null ? null : normaliseEui64(rawRecipient);
  if (!isAlertId(alertId) || rawFrom === null || !/^-?[0-9]{1,16}$/.test(rawFrom) || (rawRecipient !== null && !recipientPartyId)) {
    return { error: 'alertId, from (epoch ms) and optionally recipientPartyId (EUI-64) are required' };
  }
  return { alertId, from: Number(rawFrom), recipientPartyId };
}
