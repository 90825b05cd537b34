// Paged device activity for the lookup API: the query, its SQL (FINAL, bound parameters, keyset on
// (eventTime, eventId[, recipientPartyId]) newest first), and its encoding for the archiver's
// internal HTTP route (a lookup in another process than the embedded engine's). Pure.
import type { ArchivedRecord } from './archive';
import type { AlertContextReader } from './archiveAlerts';
import { normaliseEui64 } from './identifiers';

/** Where a page ends: the last row returned. recipientPartyId only orders operators' views (one row per copy). */
export interface Keyset {
  eventTime: number;
  eventId: string;
  recipientPartyId: string;
}

export type ActivityScope =
  /** A party's own copies; with beforeOwnershipUntil, also one row per other event on the device before that instant. */
  | { kind: 'party'; partyId: string; beforeOwnershipUntil: number | null }
  /** Every copy of the device, whoever received it (operators). */
  | { kind: 'operator' }
  /** Records no owner was found for (recipientPartyId ''), of one device or all (operators). */
  | { kind: 'unowned' };

export interface ActivityQuery {
  /** Required except for the unowned scope. */
  deviceId: string | null;
  scope: ActivityScope;
  /** eventTime from (inclusive) to (exclusive), epoch ms. */
  from: number;
  to: number;
  after: Keyset | null;
  /** Rows to return; the lookup asks for one more than a page to know whether there is a next. */
  limit: number;
}

export interface ActivityRow extends ArchivedRecord {
  /** Another recipient's copy (or an unowned record) shown to the current owner. */
  beforeOwnership: boolean;
}

/** Does the archive hold rows of this device (received by this party, if given) from `from` on? */
export interface SeenQuery {
  deviceId: string;
  partyId: string | null;
  from: number;
}

/** What the lookup reads: the Archive itself, or the archiver's internal route (alerts: shared/archiveAlerts.ts). */
export interface ActivityReader extends AlertContextReader {
  activity(query: ActivityQuery): Promise<ActivityRow[]>;
  seen(query: SeenQuery): Promise<boolean>;
}

export const MAX_ACTIVITY_ROWS = 1001;
const MAX_EVENT_ID_LENGTH = 512;

const TIME = (name: string) => `fromUnixTimestamp64Milli({${name}:Int64})`;
/**
 * A copy retracted from its recipient (FLAGS.RETRACTED) is not served to parties: not to the party
 * it was withdrawn from, nor to a current owner as another recipient's copy, nor as a sign that a
 * party has seen the device. Operators still see it, flagged: who was sent what, and that it was withdrawn.
 */
const NOT_RETRACTED = "NOT has(flags, 'RETRACTED')";
const RANGE = `eventTime >= ${TIME('from')} AND eventTime < ${TIME('to')}`;

/** The SQL and its bound parameters; `columns` is the archive's SELECT list (eventTimeMs, ...). */
export function activitySql(query: ActivityQuery, columns: string): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { from: query.from, to: query.to, limit: query.limit };
  const conditions = [RANGE];
  if (query.deviceId !== null) {
    conditions.push('deviceId = {deviceId:String}');
    params.deviceId = query.deviceId;
  } else if (query.scope.kind !== 'unowned') throw new Error('a device is required outside the unowned scope');
  let keysetByEvent = '';
  let keysetByCopy = '';
  if (query.after) {
    Object.assign(params, { afterTime: query.after.eventTime, afterId: query.after.eventId, afterRecipient: query.after.recipientPartyId });
    // The plain bound first lets the primary key prune; the tuple decides within one millisecond.
    keysetByEvent = ` AND eventTime <= ${TIME('afterTime')} AND (eventTime, eventId) < (${TIME('afterTime')}, {afterId:String})`;
    keysetByCopy = ` AND eventTime <= ${TIME('afterTime')} AND (eventTime, eventId, recipientPartyId) < (${TIME('afterTime')}, {afterId:String}, {afterRecipient:String})`;
  }
  const where = conditions.join(' AND ');
  const scope = query.scope;
  if (scope.kind === 'operator' || scope.kind === 'unowned') {
    const unowned = scope.kind === 'unowned' ? " AND recipientPartyId = ''" : '';
    return {
      sql: `SELECT ${columns}, 0 AS beforeOwnership FROM visibility_archive FINAL
        WHERE ${where}${unowned}${keysetByCopy}
        ORDER BY eventTime DESC, eventId DESC, recipientPartyId DESC LIMIT {limit:UInt32}`,
      params,
    };
  }
  params.partyId = scope.partyId;
  const own = `SELECT ${columns}, 0 AS beforeOwnership FROM visibility_archive FINAL
    WHERE ${where} AND recipientPartyId = {partyId:String} AND ${NOT_RETRACTED}${keysetByEvent}
    ORDER BY eventTime DESC, eventId DESC LIMIT {limit:UInt32}`;
  if (scope.beforeOwnershipUntil === null) return { sql: own, params };
  params.until = scope.beforeOwnershipUntil;
  // One scan: the caller's copies, and every other copy from before `until`; per event the
  // caller's own copy if it has one (copies of one event share its eventTime, so they are adjacent
  // in this order), else any one other copy, whose recipient-specific fields the lookup replaces.
  return {
    sql: `SELECT ${columns}, recipientPartyId != {partyId:String} AS beforeOwnership FROM visibility_archive FINAL
      WHERE ${where} AND (recipientPartyId = {partyId:String} OR eventTime < ${TIME('until')}) AND ${NOT_RETRACTED}${keysetByEvent}
      ORDER BY eventTime DESC, eventId DESC, recipientPartyId = {partyId:String} DESC, recipientPartyId DESC
      LIMIT 1 BY eventId LIMIT {limit:UInt32}`,
    params,
  };
}

export function seenSql(query: SeenQuery): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { deviceId: query.deviceId, from: query.from };
  let party = '';
  let final = '';
  if (query.partyId !== null) {
    party = ` AND recipientPartyId = {partyId:String} AND ${NOT_RETRACTED}`;
    // FINAL: a retracted copy's older, unflagged row may still sit in an unmerged part.
    final = ' FINAL';
    params.partyId = query.partyId;
  }
  return {
    sql: `SELECT 1 AS seen FROM visibility_archive${final} WHERE deviceId = {deviceId:String}${party} AND eventTime >= ${TIME('from')} LIMIT 1`,
    params,
  };
}

// The archiver's internal route carries the query as URL parameters, checked again on arrival.

export function activityToParams(query: ActivityQuery): URLSearchParams {
  const params = new URLSearchParams({ scope: query.scope.kind, from: String(query.from), to: String(query.to), limit: String(query.limit) });
  if (query.deviceId !== null) params.set('deviceId', query.deviceId);
  if (query.scope.kind === 'party') {
    params.set('partyId', query.scope.partyId);
    if (query.scope.beforeOwnershipUntil !== null) params.set('beforeOwnershipUntil', String(query.scope.beforeOwnershipUntil));
  }
  if (query.after) {
    params.set('afterTime', String(query.after.eventTime));
    params.set('afterId', query.after.eventId);
    params.set('afterRecipient', query.after.recipientPartyId);
  }
  return params;
}

function epochParam(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name);
  return raw !== null && /^-?[0-9]{1,16}$/.test(raw) ? Number(raw) : null;
}

export function activityFromParams(params: URLSearchParams): ActivityQuery | { error: string } {
  const from = epochParam(params, 'from');
  const to = epochParam(params, 'to');
  const limit = epochParam(params, 'limit');
  if (from === null || to === null) return { error: 'from and to (epoch ms) are required' };
  if (limit === null || limit < 1 || limit > MAX_ACTIVITY_ROWS) return { error: `limit must be 1 to ${MAX_ACTIVITY_ROWS}` };
  const rawDevice = params.get('deviceId');
  const deviceId = rawDevice === null ? null : normaliseEui64(rawDevice);
  if (rawDevice !== null && deviceId === null) return { error: 'deviceId is not an EUI-64' };
  let scope: ActivityScope;
  const kind = params.get('scope');
  if (kind === 'party') {
    const partyId = normaliseEui64(params.get('partyId'));
    if (!partyId) return { error: 'partyId is not an EUI-64' };
    const until = params.has('beforeOwnershipUntil') ? epochParam(params, 'beforeOwnershipUntil') : null;
    if (params.has('beforeOwnershipUntil') && until === null) return { error: 'beforeOwnershipUntil is not epoch ms' };
    scope = { kind, partyId, beforeOwnershipUntil: until };
  } else if (kind === 'operator' || kind === 'unowned') scope = { kind };
  else return { error: 'scope must be party, operator or unowned' };
  if (deviceId === null && kind !== 'unowned') return { error: 'deviceId is required' };
  let after: Keyset | null = null;
  if (params.has('afterTime')) {
    const eventTime = epochParam(params, 'afterTime');
    const eventId = params.get('afterId') ?? '';
    const recipientPartyId = params.get('afterRecipient') ?? '';
    if (eventTime === null || eventId === '' || eventId.length > MAX_EVENT_ID_LENGTH || (recipientPartyId !== '' && !normaliseEui64(recipientPartyId))) {
      return { error: 'afterTime (epoch ms), afterId and afterRecipient (EUI-64 or empty) describe the last row' };
    }
    after = { eventTime, eventId, recipientPartyId };
  }
  return { deviceId, scope, from, to, after, limit };
}

export function seenToParams(query: SeenQuery): URLSearchParams {
  const params = new URLSearchParams({ deviceId: query.deviceId, from: String(query.from) });
  if (query.partyId !== null) params.set('partyId', query.partyId);
  return params;
}

export function seenFromParams(params: URLSearchParams): SeenQuery | { error: string } {
  const deviceId = normaliseEui64(params.get('deviceId'));
  const from = epochParam(params, 'from');
  const rawParty = params.get('partyId');
  const partyId = rawParty === null ? null : normaliseEui64(rawParty);
  if (!deviceId || from === null || (rawParty !== null && !partyId)) return { error: 'deviceId (EUI-64), from (epoch ms) and optionally partyId (EUI-64) are required' };
  return { deviceId, partyId, from };
}
