// Pure correlation of an alert with the audit events that may have caused it, decided for the alert's
// recipient: which events match, which of those the recipient may see, and how they are shown.
// No I/O: the caller supplies the candidate records and the device's ownership over time.
import type { DisclosurePolicy } from '../shared/config';
import type { AlertContext, AlertContextStatus, AlertEvent, OwnerRole, Trigger, TriggerMatch, VisibilityRecord } from '../shared/contracts';

export type { AlertContext, AlertContextStatus, Trigger, TriggerMatch } from '../shared/contracts';
import type { Owner } from '../shared/ownership';
import { discloseOriginator } from '../fan-out/routing';
import { alertTitle } from './alertCatalogue';

/** The alert without its payload: correlation never needs it, so callers need not hold it. */
export type AlertFacts = Omit<AlertEvent, 'payload'>;

/** Owners of the alert's device at a time, or 'unknown' when registration data cannot say. */
export type OwnersAt = (time: number) => readonly Owner[] | 'unknown';

export const DEFAULT_MAX_WINDOW_TRIGGERS = 5;

export interface CorrelationConfig {
  /** ALERT_LOOKBACK_MS: how far before the alert the device window reaches. */
  lookbackMs: number;
  /** At most this many DEVICE_WINDOW triggers are shown. */
  maxWindowTriggers: number;
  disclosure: DisclosurePolicy;
}

export interface CorrelationInput {
  alert: AlertFacts;
  /** Records from visibility.records (recipient fields null, originatorId present). Any device, any order. */
  candidates: readonly VisibilityRecord[];
  ownersAt: OwnersAt;
  /** Whether the alert has waited ALERT_WAIT_MS for the request it names. */
  waitExpired: boolean;
}

export type CorrelationDecision = { kind: 'publish'; context: AlertContext } | { kind: 'wait' };

export function correlateAlert(input: CorrelationInput, config: CorrelationConfig): CorrelationDecision {
  const { alert, ownersAt, waitExpired } = input;
  const recipientId = alert.recipientId;
  const onDevice = uniqueByEventId(input.candidates.filter((r) => r.deviceId === alert.deviceId));
  // An empty requestId names nothing: treating it as a name would make the alert wait for nothing.
  const namesRequest = alert.requestId !== null && alert.requestId !== '';

  const match: TriggerMatch = namesRequest ? 'REQUEST_ID' : 'DEVICE_WINDOW';
  const matched = namesRequest
    ? onDevice.filter((r) => r.requestId === alert.requestId)
    : onDevice.filter((r) => r.messageType === 'SERVICE_REQUEST' && inWindow(r.eventTime, alert.eventTime, config.lookbackMs));
  // Any event of the named request (even only its acknowledgement) ends the wait: publish what is known.
  if (namesRequest && matched.length === 0 && !waitExpired) return { kind: 'wait' };
  // No registration data for the device at the alert's time yet (it arrives on another topic, maybe
  // later): deciding now would hide triggers the recipient may see. Wait, as the fan-out waits for owners.
  if (!waitExpired && ownersAt(alert.eventTime) === 'unknown') return { kind: 'wait' };

  const ownsAt = ownershipCheck(ownersAt, recipientId);
  const visible = matched.filter((r) => r.originatorId === recipientId || ownsAt(r.eventTime)).sort(newestFirst);
  // The cap limits what is shown, so it applies after visibility: a recipient sees its newest visible requests.
  const shown = match === 'DEVICE_WINDOW' ? visible.slice(0, Math.max(0, config.maxWindowTriggers)) : visible;

  const status: AlertContextStatus =
    matched.length === 0 ? 'NO_TRIGGER_FOUND' : shown.length === 0 ? 'TRIGGER_NOT_VISIBLE' : 'CORRELATED';
  return {
    kind: 'publish',
    context: {
      // Named fields only, never a spread of the alert, so nothing else (a payload) can reach the output.
      alertId: alert.alertId,
      alertCode: alert.alertCode,
      alertKind: alert.alertKind,
      deviceId: alert.deviceId,
      eventTime: alert.eventTime,
      alertTitle: alertTitle(alert.alertCode, alert.alertKind),
      recipientPartyId: recipientId,
      recipientRole: roleAt(ownersAt, recipientId, alert.eventTime),
      status,
      triggers: shown.map((r) => triggerFor(r, recipientId, match, config.disclosure)),
    },
  };
}

/** Window bounds are inclusive at both ends: [alert time - lookback, alert time]. */
function inWindow(eventTime: number, alertTime: number, lookbackMs: number): boolean {
  return eventTime >= alertTime - lookbackMs && eventTime <= alertTime;
}

/** A repeated eventId is the same audit event delivered twice (contract), so the first copy stands for it. */
function uniqueByEventId(records: readonly VisibilityRecord[]): VisibilityRecord[] {
  const byEventId = new Map<string, VisibilityRecord>();
  for (const record of records) if (!byEventId.has(record.eventId)) byEventId.set(record.eventId, record);
  return [...byEventId.values()];
}

/** eventTime descending; equal times by eventId ascending (code-unit order, not locale), so output is stable. */
function newestFirst(a: VisibilityRecord, b: VisibilityRecord): number {
  if (a.eventTime !== b.eventTime) return b.eventTime - a.eventTime;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/**
 * Whether the recipient owned the device (in any owning role) at a time. Unknown ownership counts as not
 * owning: showing an event on a guess could disclose another party's activity. Memoised per time.
 */
function ownershipCheck(ownersAt: OwnersAt, partyId: string): (time: number) => boolean {
  const answers = new Map<number, boolean>();
  return (time) => {
    let owns = answers.get(time);
    if (owns === undefined) {
      const owners = ownersAt(time);
      owns = owners !== 'unknown' && owners.some((o) => o.partyId === partyId);
      answers.set(time, owns);
    }
    return owns;
  };
}

function roleAt(ownersAt: OwnersAt, partyId: string, time: number): OwnerRole | null {
  const owners = ownersAt(time);
  if (owners === 'unknown') return null;
  return owners.find((o) => o.partyId === partyId)?.role ?? null;
}

function triggerFor(record: VisibilityRecord, recipientId: string, match: TriggerMatch, policy: DisclosurePolicy): Trigger {
  const sentByRecipient = record.originatorId === recipientId;
  return {
    eventId: record.eventId,
    requestId: record.requestId,
    messageType: record.messageType,
    serviceReferenceVariant: record.serviceReferenceVariant,
    srvTitle: record.srvTitle,
    critical: record.critical,
    eventTime: record.eventTime,
    originatorRole: record.originatorRole,
    originatorId: discloseOriginator(policy, sentByRecipient) ? record.originatorId : null,
    sentByRecipient,
    responseCode: record.responseCode,
    flags: [...record.flags],
    match,
  };
}
