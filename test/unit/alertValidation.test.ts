import fc from 'fast-check';
import { validateAlertEvent } from '../../services/alert-triage/alertValidation';
import type { AlertEvent } from '../../services/shared/contracts';
import { RejectedRecord } from '../../services/shared/rejection';

const now = Date.UTC(2026, 10, 30, 12);
const limits = { now, maxFutureSkewMs: 300_000 };
const good: AlertEvent = {
  alertId: 'a-1', alertCode: '0x8f70', alertKind: 'DEVICE', deviceId: '00-db-12-34-56-78-90-a0', eventTime: now - 1000,
  requestId: '90-b3-d5-1f-30-aa-00-00:00-db-12-34-56-78-90-a0:1001', recipientId: '90-b3-d5-1f-30-02-00-00', payload: Buffer.from('secret'),
};
const reasonOf = (override: Partial<Record<keyof AlertEvent, unknown>>) => {
  try {
    validateAlertEvent({ ...good, ...override } as Partial<AlertEvent>, limits);
    return 'accepted';
  } catch (error) {
    return (error as RejectedRecord).reason;
  }
};

describe('validateAlertEvent', () => {
  test('normalises identifiers and the request id as the projector does, and drops the payload', () => {
    const facts = validateAlertEvent(good, limits);
    expect(facts).toEqual({
      alertId: 'a-1', alertCode: '0x8f70', alertKind: 'DEVICE', deviceId: '00-DB-12-34-56-78-90-A0', eventTime: now - 1000,
      requestId: '90-B3-D5-1F-30-AA-00-00:00-DB-12-34-56-78-90-A0:1001', recipientId: '90-B3-D5-1F-30-02-00-00',
    });
    expect(Object.keys(facts)).not.toContain('payload');
  });

  test('no request id, or an empty one, names no request', () => {
    expect(validateAlertEvent({ ...good, requestId: null }, limits).requestId).toBeNull();
    expect(validateAlertEvent({ ...good, requestId: '  ' }, limits).requestId).toBeNull();
  });

  test.each([
    [{ alertId: '' }, 'MISSING_FIELD'],
    [{ alertCode: null }, 'MISSING_FIELD'],
    [{ alertCode: 'no such code!' }, 'INVALID_FIELD'],
    [{ alertKind: 'OTHER' }, 'INVALID_FIELD'],
    [{ deviceId: 'meter' }, 'INVALID_DEVICE_ID'],
    [{ recipientId: 42 }, 'INVALID_FIELD'],
    [{ recipientId: 'someone' }, 'INVALID_USER_ID'],
    [{ requestId: 'a:b' }, 'INVALID_REQUEST_ID'],
    [{ eventTime: 9e15 }, 'INVALID_EVENT_TIME'],
    [{ eventTime: -5 }, 'INVALID_EVENT_TIME'],
    [{ eventTime: now + 3_600_000 }, 'FUTURE_EVENT_TIME'],
  ])('%j is rejected as %s', (override, reason) => {
    expect(reasonOf(override)).toBe(reason);
  });

  test('any field values: a result or a rejection, never another exception', () => {
    const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined), fc.boolean(), fc.object());
    fc.assert(
      fc.property(fc.record({ alertId: anything, alertCode: anything, alertKind: anything, deviceId: anything, eventTime: anything, requestId: anything, recipientId: anything }), (fields) => {
        try {
          validateAlertEvent(fields as Partial<AlertEvent>, limits);
        } catch (error) {
          expect(error).toBeInstanceOf(RejectedRecord);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
