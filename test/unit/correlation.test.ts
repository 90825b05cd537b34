import fs from 'node:fs';
import path from 'node:path';
import { Type } from 'avsc';
import fc from 'fast-check';
import {
  DEFAULT_MAX_WINDOW_TRIGGERS,
  correlateAlert,
  type CorrelationConfig,
  type CorrelationDecision,
  type OwnersAt,
} from '../../services/alert-triage/correlation';
import type { DisclosurePolicy } from '../../services/shared/config';
import { visibilityRecord } from '../support/fixtures';
import { ALERT_CONTEXT_STATUSES, MESSAGE_TYPES, OWNER_ROLES, TRIGGER_MATCHES, type AlertContext, type AlertEvent, type OwnerRole, type VisibilityRecord } from '../../services/shared/contracts';

const device = '00-DB-12-34-56-78-90-A0';
const otherDevice = '00-DB-12-34-56-78-90-A1';
const supplierA = '90-B3-D5-1F-30-01-00-00'; // the alert's recipient throughout
const supplierB = '90-B3-D5-1F-30-02-00-00';
const networkOperator = '90-B3-D5-1F-30-03-00-00';
const MIN = 60_000;
const T = Date.UTC(2025, 0, 15, 12, 0, 0);
const config: CorrelationConfig = { lookbackMs: 15 * MIN, maxWindowTriggers: DEFAULT_MAX_WINDOW_TRIGGERS, disclosure: 'own-requests' };

function alert(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    alertId: 'alert-1',
    alertCode: '0x8F1C',
    alertKind: 'DEVICE',
    deviceId: device,
    eventTime: T,
    requestId: null,
    recipientId: supplierA,
    payload: Buffer.from('<secret GBCS payload>'),
    ...overrides,
  };
}

function record(eventId: string, eventTime: number, overrides: Partial<VisibilityRecord> = {}): VisibilityRecord {
  return visibilityRecord({ eventId, deviceId: device, originatorId: supplierB, eventTime, requestId: `${supplierB}:${device}:${eventId}`, ...overrides });
}

interface Period {
  partyId: string;
  role: OwnerRole;
  from: number;
  to?: number;
}

/** Ownership as periods [from, to); 'unknown' before `knownFrom`. */
function ownership(periods: Period[], knownFrom = -Infinity): OwnersAt {
  return (t) => (t < knownFrom ? 'unknown' : periods.filter((p) => p.from <= t && t < (p.to ?? Infinity)).map(({ partyId, role }) => ({ partyId, role })));
}

const aOwnsAlways = ownership([{ partyId: supplierA, role: 'IS', from: -Infinity }]);

function published(decision: CorrelationDecision): AlertContext {
  if (decision.kind !== 'publish') throw new Error(`expected publish, got ${decision.kind}`);
  return decision.context;
}

describe('correlateAlert: an alert that names a request', () => {
  const requestId = `${supplierB}:${device}:42`;

  it('matches the request and its responses on the device, newest first, wherever they fall in time', () => {
    const candidates = [
      record('sr', T - 3 * 60 * MIN, { requestId }),
      record('ack', T - 3 * 60 * MIN + 10, { requestId, messageType: 'ACKNOWLEDGEMENT', responseCode: 'I99' }),
      record('resp', T + 5 * MIN, { requestId, messageType: 'SERVICE_RESPONSE', responseCode: 'I0' }),
      record('other-request', T - MIN),
      record('other-device', T - MIN, { requestId, deviceId: otherDevice }),
    ];
    const context = published(correlateAlert({ alert: alert({ requestId }), candidates, ownersAt: aOwnsAlways, waitExpired: false }, config));
    expect(context.status).toBe('CORRELATED');
    expect(context.triggers.map((t) => [t.eventId, t.match])).toEqual([
      ['resp', 'REQUEST_ID'],
      ['ack', 'REQUEST_ID'],
      ['sr', 'REQUEST_ID'],
    ]);
    expect(context.triggers[0]).toMatchObject({ messageType: 'SERVICE_RESPONSE', responseCode: 'I0' });
  });

  it('waits while the request has not arrived, then publishes NO_TRIGGER_FOUND once the wait expires', () => {
    const candidates = [record('unrelated', T - MIN)];
    const input = { alert: alert({ requestId }), candidates, ownersAt: aOwnsAlways };
    expect(correlateAlert({ ...input, waitExpired: false }, config)).toEqual({ kind: 'wait' });
    const context = published(correlateAlert({ ...input, waitExpired: true }, config));
    expect(context).toMatchObject({ status: 'NO_TRIGGER_FOUND', triggers: [], recipientRole: 'IS' });
  });

  it('does not fall back to the device window: the unrelated request in the window is not a trigger', () => {
    const context = published(
      correlateAlert({ alert: alert({ requestId }), candidates: [record('in-window', T - MIN)], ownersAt: aOwnsAlways, waitExpired: true }, config),
    );
    expect(context.status).toBe('NO_TRIGGER_FOUND');
  });

  it('stops waiting when only part of the request has arrived', () => {
    const candidates = [record('ack', T - MIN, { requestId, messageType: 'ACKNOWLEDGEMENT' })];
    const context = published(correlateAlert({ alert: alert({ requestId }), candidates, ownersAt: aOwnsAlways, waitExpired: false }, config));
    expect(context.triggers.map((t) => t.eventId)).toEqual(['ack']);
  });

  it('treats an empty requestId as naming nothing', () => {
    const context = published(
      correlateAlert({ alert: alert({ requestId: '' }), candidates: [record('in-window', T - MIN)], ownersAt: aOwnsAlways, waitExpired: false }, config),
    );
    expect(context.triggers.map((t) => [t.eventId, t.match])).toEqual([['in-window', 'DEVICE_WINDOW']]);
  });
});

describe('correlateAlert: an alert that names no request', () => {
  const run = (candidates: VisibilityRecord[], overrides: Partial<CorrelationConfig> = {}, ownersAt = aOwnsAlways) =>
    published(correlateAlert({ alert: alert(), candidates, ownersAt, waitExpired: false }, { ...config, ...overrides }));

  it('takes Service Requests on the device from lookback before the alert up to it, both ends inclusive', () => {
    const context = run([
      record('at-start', T - 15 * MIN),
      record('before-start', T - 15 * MIN - 1),
      record('at-alert', T),
      record('after-alert', T + 1),
      record('response', T - MIN, { messageType: 'SERVICE_RESPONSE' }),
      record('pre-command', T - MIN, { messageType: 'PRE_COMMAND' }),
      record('other-device', T - MIN, { deviceId: otherDevice }),
    ]);
    expect(context.status).toBe('CORRELATED');
    expect(context.triggers.map((t) => [t.eventId, t.match])).toEqual([
      ['at-alert', 'DEVICE_WINDOW'],
      ['at-start', 'DEVICE_WINDOW'],
    ]);
  });

  it('never waits, and says NO_TRIGGER_FOUND for an empty window', () => {
    expect(run([record('old', T - 60 * MIN)])).toMatchObject({ status: 'NO_TRIGGER_FOUND', triggers: [] });
  });

  it('orders newest first, equal times by eventId, and shows at most maxWindowTriggers', () => {
    const candidates = [1, 2, 3, 4, 5, 6, 7].map((n) => record(`e${n}`, T - n * MIN));
    candidates.push(record('e0b', T), record('e0a', T));
    expect(run(candidates).triggers.map((t) => t.eventId)).toEqual(['e0a', 'e0b', 'e1', 'e2', 'e3']);
    expect(run(candidates, { maxWindowTriggers: 2 }).triggers.map((t) => t.eventId)).toEqual(['e0a', 'e0b']);
  });

  it('applies the cap to what the recipient may see, not before', () => {
    // A owns the device only until T - 10 min; six newer requests by B are not A's to see.
    const ownersAt = ownership([{ partyId: supplierA, role: 'IS', from: -Infinity, to: T - 10 * MIN }]);
    const candidates = [1, 2, 3, 4, 5, 6].map((n) => record(`newer${n}`, T - n * MIN));
    candidates.push(record('older', T - 12 * MIN));
    expect(run(candidates, {}, ownersAt).triggers.map((t) => t.eventId)).toEqual(['older']);
  });

  it('keeps one trigger per eventId when a record was delivered twice', () => {
    const context = run([record('dup', T - MIN), record('dup', T - MIN), record('other', T - 2 * MIN)]);
    expect(context.triggers.map((t) => t.eventId)).toEqual(['dup', 'other']);
  });
});

describe('correlateAlert: what the recipient may see', () => {
  const run = (candidates: VisibilityRecord[], ownersAt: OwnersAt, disclosure: DisclosurePolicy = 'own-requests') =>
    published(correlateAlert({ alert: alert(), candidates, ownersAt, waitExpired: true }, { ...config, disclosure }));

  it('hides a trigger from a recipient that did not own the device at its time (TRIGGER_NOT_VISIBLE)', () => {
    // Change of Supplier at T - 5 min: B's read at T - 10 min belongs to B's ownership, not A's.
    const ownersAt = ownership([
      { partyId: supplierB, role: 'IS', from: -Infinity, to: T - 5 * MIN },
      { partyId: supplierA, role: 'IS', from: T - 5 * MIN },
    ]);
    const context = run([record('b-read', T - 10 * MIN)], ownersAt);
    expect(context).toMatchObject({ status: 'TRIGGER_NOT_VISIBLE', triggers: [], recipientRole: 'IS', recipientPartyId: supplierA });
  });

  it('shows the recipient its own request even when it did not own the device', () => {
    const ownersAt = ownership([{ partyId: supplierB, role: 'IS', from: -Infinity }]);
    const own = record('a-request', T - MIN, { originatorId: supplierA, originatorRole: 'ES' });
    const context = run([own, record('b-request', T - 2 * MIN)], ownersAt);
    expect(context.status).toBe('CORRELATED');
    expect(context.recipientRole).toBeNull();
    expect(context.triggers).toEqual([
      expect.objectContaining({ eventId: 'a-request', sentByRecipient: true, originatorId: supplierA, originatorRole: 'ES' }),
    ]);
  });

  it('shows only the visible ones when some are and some are not', () => {
    const ownersAt = ownership([
      { partyId: supplierB, role: 'IS', from: -Infinity, to: T - 5 * MIN },
      { partyId: supplierA, role: 'IS', from: T - 5 * MIN },
      { partyId: networkOperator, role: 'ED', from: -Infinity },
    ]);
    const context = run(
      [
        record('b-before-cos', T - 10 * MIN),
        record('b-after-cos', T - 3 * MIN),
        record('a-own-before-cos', T - 12 * MIN, { originatorId: supplierA }),
        record('dno-after-cos', T - MIN, { originatorId: networkOperator, originatorRole: 'ED' }),
      ],
      ownersAt,
    );
    expect(context.status).toBe('CORRELATED');
    expect(context.triggers.map((t) => [t.eventId, t.sentByRecipient])).toEqual([
      ['dno-after-cos', false],
      ['b-after-cos', false],
      ['a-own-before-cos', true],
    ]);
  });

  it('treats unknown ownership at a trigger as not owning, except for the recipient’s own requests', () => {
    const ownersAt = ownership([{ partyId: supplierA, role: 'GS', from: -Infinity }], T - 5 * MIN);
    const context = run([record('b-unknown', T - 10 * MIN), record('a-unknown', T - 11 * MIN, { originatorId: supplierA })], ownersAt);
    expect(context.triggers.map((t) => t.eventId)).toEqual(['a-unknown']);
    expect(context.recipientRole).toBe('GS');
  });

  it('waits while no registration data is known for the device at the alert time, as the fan-out waits for owners', () => {
    const unknown = ownership([], Infinity);
    const input = { alert: alert(), candidates: [record('b', T - MIN)], ownersAt: unknown };
    expect(correlateAlert({ ...input, waitExpired: false }, config)).toEqual({ kind: 'wait' });
    expect(correlateAlert({ ...input, waitExpired: true }, config).kind).toBe('publish');
    expect(correlateAlert({ ...input, ownersAt: aOwnsAlways, waitExpired: false }, config).kind).toBe('publish');
  });

  it('gives a null recipientRole when ownership at the alert time is unknown', () => {
    const context = run([record('b', T - MIN)], ownership([], Infinity));
    expect(context).toMatchObject({ recipientRole: null, status: 'TRIGGER_NOT_VISIBLE' });
  });

  it('applies the disclosure policy to originatorId, and always shows the role', () => {
    const candidates = [record('own', T - MIN, { originatorId: supplierA }), record('other', T - 2 * MIN, { originatorId: supplierB, originatorRole: 'GS' })];
    const ids = (policy: DisclosurePolicy) => run(candidates, aOwnsAlways, policy).triggers.map((t) => [t.originatorId, t.originatorRole, t.sentByRecipient]);
    expect(ids('own-requests')).toEqual([
      [supplierA, 'IS', true],
      [null, 'GS', false],
    ]);
    expect(ids('owners')).toEqual([
      [supplierA, 'IS', true],
      [supplierB, 'GS', false],
    ]);
    expect(ids('none')).toEqual([
      [null, 'IS', true],
      [null, 'GS', false],
    ]);
  });

  it('copies flags without sharing the array', () => {
    const candidate = record('flagged', T - MIN, { flags: ['ROLE_NOT_ELIGIBLE'] });
    const [trigger] = run([candidate], aOwnsAlways).triggers;
    expect(trigger.flags).toEqual(['ROLE_NOT_ELIGIBLE']);
    trigger.flags.push('X');
    expect(candidate.flags).toEqual(['ROLE_NOT_ELIGIBLE']);
  });

  it('copies the alert fields, titles the code from the catalogue, and carries no payload', () => {
    const context = run([], aOwnsAlways);
    expect(context).toEqual({
      alertId: 'alert-1',
      alertCode: '0x8F1C',
      alertKind: 'DEVICE',
      deviceId: device,
      eventTime: T,
      alertTitle: 'Firmware Verification Failed',
      recipientPartyId: supplierA,
      recipientRole: 'IS',
      status: 'NO_TRIGGER_FOUND',
      triggers: [],
    });
    expect(JSON.stringify(context)).not.toContain('secret');
    expect(published(correlateAlert({ alert: alert({ alertCode: 'N27', alertKind: 'DCC' }), candidates: [], ownersAt: aOwnsAlways, waitExpired: true }, config)).alertTitle).toBe(
      'Alert N27',
    );
  });
});

describe('AlertContext schema', () => {
  const readSchema = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../../schemas', `${name}.avsc`), 'utf8'));
  const schema = readSchema('AlertContext');
  /** Named types of a schema by full name, as avsc registers them. */
  const namedTypes = (json: unknown) => {
    const registry: Record<string, Type> = {};
    Type.forSchema(json as never, { registry });
    return registry;
  };
  const fieldNames = (type: Type) => (type as unknown as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
  const symbols = (type: Type) => (type as unknown as { symbols: string[] }).symbols;
  const registry = namedTypes(schema);
  const type = registry['srv.visibility.v1.AlertContext'];

  const sample = published(
    correlateAlert(
      {
        alert: alert({ requestId: 'r-1' }),
        candidates: [
          record('sr', T - MIN, { requestId: 'r-1', originatorId: supplierA, flags: ['ROLE_NOT_ELIGIBLE'] }),
          record('resp', T + MIN, { requestId: 'r-1', messageType: 'SERVICE_RESPONSE', responseCode: 'I0', originatorId: supplierA }),
        ],
        ownersAt: aOwnsAlways,
        waitExpired: false,
      },
      config,
    ),
  );

  it('parses with avsc and holds exactly the fields the contract defines', () => {
    expect(fieldNames(type)).toEqual(['alertId', 'alertCode', 'alertKind', 'deviceId', 'eventTime', 'alertTitle', 'recipientPartyId', 'recipientRole', 'status', 'triggers']);
    expect(fieldNames(registry['srv.visibility.v1.Trigger'])).toEqual([
      'eventId',
      'requestId',
      'messageType',
      'serviceReferenceVariant',
      'srvTitle',
      'critical',
      'eventTime',
      'originatorRole',
      'originatorId',
      'sentByRecipient',
      'responseCode',
      'flags',
      'match',
    ]);
    expect(symbols(registry['srv.visibility.v1.AlertContextStatus'])).toEqual([...ALERT_CONTEXT_STATUSES]);
    expect(symbols(registry['srv.visibility.v1.TriggerMatch'])).toEqual([...TRIGGER_MATCHES]);
  });

  it('declares its shared enums exactly as the other schemas do', () => {
    const others = { ...namedTypes(readSchema('VisibilityRecord')), ...namedTypes(readSchema('AlertEvent')) };
    for (const name of ['AlertKind', 'OwnerRole', 'MessageType', 'UserRole']) {
      const fullName = `srv.visibility.v1.${name}`;
      expect(symbols(registry[fullName])).toEqual(symbols(others[fullName]));
    }
    expect(symbols(registry['srv.visibility.v1.MessageType'])).toEqual([...MESSAGE_TYPES]);
    expect(symbols(registry['srv.visibility.v1.OwnerRole'])).toEqual([...OWNER_ROLES]);
  });

  it('has no payload field at any depth', () => {
    const names: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const fields = (node as { fields?: Array<{ name: string }> }).fields;
        if (Array.isArray(fields)) names.push(...fields.map((f) => f.name));
        Object.values(node).forEach(walk);
      }
    };
    walk(schema);
    expect(names).toContain('triggers');
    expect(names.filter((n) => /payload/i.test(n))).toEqual([]);
  });

  it('round-trips a context built by correlateAlert, field for field', () => {
    expect(sample.triggers).toHaveLength(2);
    expect(Object.keys(sample).sort()).toEqual([...fieldNames(type)].sort());
    for (const trigger of sample.triggers) expect(Object.keys(trigger).sort()).toEqual([...fieldNames(registry['srv.visibility.v1.Trigger'])].sort());
    expect(type.isValid(sample)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
  });
});

describe('correlateAlert: property', () => {
  const parties = [supplierA, supplierB, networkOperator, '90-B3-D5-1F-30-04-00-00'];
  const periodArb = fc.record({ partyId: fc.constantFrom(...parties), role: fc.constantFrom(...OWNER_ROLES), from: fc.integer({ min: 0, max: 100 }), to: fc.integer({ min: 0, max: 100 }) });
  const recordArb = fc.record({
    eventId: fc.constantFrom('e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8'),
    messageType: fc.constantFrom(...MESSAGE_TYPES),
    requestId: fc.constantFrom('r1', 'r2', 'r3'),
    deviceId: fc.constantFrom(device, otherDevice),
    eventTime: fc.integer({ min: 0, max: 100 }),
    originatorId: fc.constantFrom(...parties),
  });

  it('never returns a trigger the recipient may not see, nor an originator the policy hides', () => {
    fc.assert(
      fc.property(
        fc.array(periodArb, { maxLength: 6 }),
        fc.integer({ min: 0, max: 101 }),
        // Distinct eventIds, some delivered twice: a repeated eventId is the same event (contract).
        fc.uniqueArray(recordArb, { selector: (r) => r.eventId, maxLength: 8 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.constantFrom(null, 'r1', 'r2', 'r4'),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom<DisclosurePolicy>('own-requests', 'owners', 'none'),
        fc.boolean(),
        (periods, knownFrom, distinct, redelivered, requestId, alertTime, lookbackMs, maxWindowTriggers, disclosure, waitExpired) => {
          const unique = distinct.map((p) => record(p.eventId, p.eventTime, p));
          const candidates = [...unique, ...unique.filter((_, i) => redelivered[i]).map((r) => ({ ...r, flags: [...r.flags] }))];
          const recipient = supplierA;
          // An oracle written independently of ownersAt: owns at t when known and inside one of its periods.
          const owned = (t: number) => t >= knownFrom && periods.some((p) => p.partyId === recipient && p.from <= t && t < p.to);
          const decision = correlateAlert(
            {
              alert: alert({ requestId, eventTime: alertTime }),
              candidates,
              ownersAt: ownership(periods.map((p) => ({ ...p })), knownFrom),
              waitExpired,
            },
            { lookbackMs, maxWindowTriggers, disclosure },
          );
          if (decision.kind === 'wait') {
            // Waiting is for a named request not seen yet, or for registration data not here yet.
            expect(waitExpired).toBe(false);
            const requestMissing = requestId !== null && !candidates.some((c) => c.deviceId === device && c.requestId === requestId);
            expect(requestMissing || alertTime < knownFrom).toBe(true);
            return;
          }
          const { context } = decision;
          expect(new Set(context.triggers.map((t) => t.eventId)).size).toBe(context.triggers.length);
          for (const trigger of context.triggers) {
            const source = candidates.find((c) => c.deviceId === device && c.eventId === trigger.eventId)!;
            expect(source).toBeDefined();
            expect(owned(source.eventTime) || source.originatorId === recipient).toBe(true);
            expect(trigger.sentByRecipient).toBe(source.originatorId === recipient);
            if (trigger.originatorId !== null) {
              expect(trigger.originatorId).toBe(source.originatorId);
              expect(disclosure === 'owners' || (disclosure === 'own-requests' && trigger.sentByRecipient)).toBe(true);
            }
          }
          if (requestId === null) expect(context.triggers.length).toBeLessThanOrEqual(maxWindowTriggers);
          expect(context.status === 'CORRELATED').toBe(context.triggers.length > 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
