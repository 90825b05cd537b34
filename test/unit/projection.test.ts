import fs from 'node:fs';
import path from 'node:path';
import { projectAuditEvent, validateAuditEvent } from '../../services/projector/projection';
import { SRV_CATALOGUE } from '../../services/projector/srvCatalogue';
import { DlqReason, RejectedRecord } from '../../services/shared/rejection';
import { auditEvent, randomEui64 } from '../support/fixtures';

const now = Date.UTC(2026, 10, 29, 12);
const limits = { now, maxFutureSkewMs: 5 * 60_000 };
const supplier = '90-B3-D5-1F-30-01-00-00';
const device = '00-DB-12-34-56-78-90-A0';

function reason(fn: () => unknown): DlqReason {
  try {
    fn();
  } catch (error) {
    if (error instanceof RejectedRecord) return error.reason;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('validateAuditEvent', () => {
  const good = () => auditEvent({ deviceId: device, originatorId: supplier, eventTime: now - 1000 });

  it('normalises lower-case identifiers', () => {
    const event = validateAuditEvent(
      { ...good(), deviceId: device.toLowerCase(), originatorId: supplier.toLowerCase(), requestId: `${supplier.toLowerCase()}:${device.toLowerCase()}:7` },
      limits,
    );
    expect(event.deviceId).toBe(device);
    expect(event.originatorId).toBe(supplier);
    expect(event.requestId).toBe(`${supplier}:${device}:7`);
  });

  it.each([
    ['missing deviceId', { deviceId: undefined }, DlqReason.MISSING_FIELD],
    ['empty eventId', { eventId: '' }, DlqReason.MISSING_FIELD],
    ['malformed EUI-64 device', { deviceId: '00-DB-12-34-56-78-90' }, DlqReason.INVALID_DEVICE_ID],
    ['malformed originator', { originatorId: 'supplier-1' }, DlqReason.INVALID_USER_ID],
    ['malformed Request ID', { requestId: 'not-a-request-id' }, DlqReason.INVALID_REQUEST_ID],
    ['event time far in the future', { eventTime: now + 24 * 3600_000 }, DlqReason.FUTURE_EVENT_TIME],
    ['event time zero', { eventTime: 0 }, DlqReason.INVALID_EVENT_TIME],
    ['unknown role', { originatorRole: 'XX' }, DlqReason.INVALID_FIELD],
    ['missing role', { originatorRole: undefined }, DlqReason.MISSING_FIELD],
    ['unknown message type', { messageType: 'SERVICE_REQUESTS' }, DlqReason.INVALID_FIELD],
    ['missing message type', { messageType: null }, DlqReason.MISSING_FIELD],
    ['a number where a string belongs', { eventId: 42 }, DlqReason.INVALID_FIELD],
    ['an object where a string belongs', { deviceId: { toString: (): string => device } }, DlqReason.INVALID_FIELD],
    ['whitespace-only eventId', { eventId: ' \t ' }, DlqReason.MISSING_FIELD],
    ['malformed response code', { responseCode: 'e65' }, DlqReason.INVALID_FIELD],
    // RegExp.test coerced 42 to "42", so a number used to pass as a response code.
    ['numeric response code', { responseCode: 42 }, DlqReason.INVALID_FIELD],
    ['Symbol response code', { responseCode: Symbol('I0') }, DlqReason.INVALID_FIELD],
    // A valid Avro long beyond the Date range: new Date(9e15).toISOString() threw a RangeError here.
    ['event time beyond the Date range', { eventTime: 9e15 }, DlqReason.INVALID_EVENT_TIME],
    ['event time just beyond the Date range', { eventTime: 8.64e15 + 1 }, DlqReason.INVALID_EVENT_TIME],
    ['event time beyond 2^53', { eventTime: 2 ** 63 }, DlqReason.INVALID_EVENT_TIME],
    ['event time NaN', { eventTime: NaN }, DlqReason.INVALID_EVENT_TIME],
    ['event time as a string', { eventTime: String(now) }, DlqReason.INVALID_EVENT_TIME],
    ['device id with a ligature that upper-cases to hex', { deviceId: '00-DB-12-34-56-78-90-\uFB00' }, DlqReason.INVALID_DEVICE_ID],
  ])('rejects %s', (_name, override, expected) => {
    expect(reason(() => validateAuditEvent({ ...good(), ...(override as object) }, limits))).toBe(expected);
  });

  it('rejects the last Date-representable time as future, with its ISO time in the message', () => {
    expect(() => validateAuditEvent({ ...good(), eventTime: 8.64e15 }, limits)).toThrow(/\+275760-09-13T00:00:00.000Z is more than/);
  });

  it.each([null, undefined, 'a string', 42])('rejects a decoded value that is not a record (%p)', (decoded) => {
    expect(reason(() => validateAuditEvent(decoded as never, limits))).toBe(DlqReason.UNDECODABLE);
  });

  it('accepts an event inside the future skew', () => {
    expect(validateAuditEvent({ ...good(), eventTime: now + 60_000 }, limits).eventTime).toBe(now + 60_000);
  });
});

describe('projectAuditEvent', () => {
  it('keeps titles and never the payload', () => {
    const input = { ...auditEvent({ deviceId: device, originatorId: supplier, eventTime: now }), payload: Buffer.from('TOP-SECRET-TARIFF') };
    const record = projectAuditEvent(validateAuditEvent(input, limits));
    expect(record).toEqual({
      eventId: input.eventId,
      messageType: 'SERVICE_REQUEST',
      requestId: input.requestId,
      serviceReferenceVariant: '2.2',
      deviceId: device,
      eventTime: now,
      originatorRole: 'IS',
      responseCode: null,
      srvTitle: 'Top Up Device',
      critical: false,
      originatorId: supplier,
      recipientPartyId: null,
      recipientRole: null,
      sentByRecipient: null,
      flags: [],
    });
    expect(JSON.stringify(record)).not.toContain('TOP-SECRET');
    expect(Object.keys(record)).not.toContain('payload');
  });

  it('ignores fields it does not know (allow-list, not deny-list)', () => {
    const input = { ...auditEvent({ deviceId: device, originatorId: supplier, eventTime: now }), gbcsPayload: 'SECRET', extra: { payload: 'x' } };
    const record = projectAuditEvent(validateAuditEvent(input as never, limits));
    expect(JSON.stringify(record)).not.toMatch(/SECRET|gbcs|extra/);
  });

  it('flags an unknown variant and still delivers it', () => {
    const record = projectAuditEvent(validateAuditEvent({ ...auditEvent({ deviceId: device, originatorId: supplier, eventTime: now }), serviceReferenceVariant: '99.9' }, limits));
    expect(record.srvTitle).toBe('Unknown SRV 99.9');
    expect(record.flags).toEqual(['UNKNOWN_SRV']);
    expect(record.critical).toBe(false);
  });

  it('flags an originator whose role may not send the SRV', () => {
    // 6.15.1 Update Security Credentials (KRP) is critical and open to IS GS ED GT, not OU.
    const event = auditEvent({ deviceId: device, originatorId: randomEui64(), eventTime: now, serviceReferenceVariant: '6.15.1', serviceReference: '6.15', originatorRole: 'OU' });
    const record = projectAuditEvent(validateAuditEvent(event, limits));
    expect(record.flags).toEqual(['ROLE_NOT_ELIGIBLE']);
    expect(record.critical).toBe(true);
  });

  it('gives responses the title of their request and keeps the response code', () => {
    const event = auditEvent({ deviceId: device, originatorId: supplier, eventTime: now, messageType: 'SERVICE_RESPONSE', serviceReference: '11.2', serviceReferenceVariant: '11.2', responseCode: 'E65' });
    const record = projectAuditEvent(validateAuditEvent(event, limits));
    expect(record).toMatchObject({ messageType: 'SERVICE_RESPONSE', srvTitle: 'Read Firmware Version', responseCode: 'E65', flags: [] });
  });
});

describe('SRV catalogue', () => {
  it('has the 129 DUIS variants', () => {
    expect(SRV_CATALOGUE.size).toBe(129);
  });

  const reference = path.resolve(__dirname, '../../../shared/reference/duis-srv-catalogue.csv');
  (fs.existsSync(reference) ? it : it.skip)('matches the published DUIS catalogue row by row', () => {
    const rows = fs.readFileSync(reference, 'utf8').trim().split(/\r?\n/).slice(1);
    expect(rows).toHaveLength(129);
    for (const row of rows) {
      const [variant, serviceReference, title, critical, , , , , roles] = row.split(',');
      expect(SRV_CATALOGUE.get(variant)).toEqual({
        variant,
        serviceReference,
        title,
        critical: critical === 'Yes',
        eligibleRoles: roles.split(' ').filter(Boolean),
      });
    }
  });
});
