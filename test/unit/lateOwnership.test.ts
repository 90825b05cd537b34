// Late registration data, planned without I/O: owners that lack a copy get one (LATE_OWNERSHIP),
// recipients the better-known ownership no longer names get theirs back flagged RETRACTED.
import type { ArchivedRecord } from '../../services/shared/archive';
import { FLAGS } from '../../services/shared/contracts';
import { baseRecord, planLateDeliveries, planRetractions } from '../../services/fan-out/lateOwnership';
import type { Owner, OwnerResolution } from '../../services/shared/ownership';
import { partyRangeFilter } from '../../services/shared/archive';
import { activitySql, seenSql } from '../../services/shared/archiveActivity';
import { entitled } from '../../services/replay/replayPlan';
import { visibilityRecord } from '../support/fixtures';

const A = '90-B3-D5-1F-30-01-00-00';
const B = '90-B3-D5-1F-30-02-00-00';
const ED = '90-B3-D5-1F-30-0E-00-00';
const DEVICE = '00-DB-12-34-56-78-90-A0';

function copy(eventId: string, partyId: string | null, overrides: Partial<ArchivedRecord> = {}): ArchivedRecord {
  return {
    ...visibilityRecord({ eventId, deviceId: DEVICE, originatorId: A, eventTime: 1_000 }),
    recipientPartyId: partyId,
    recipientRole: partyId === null ? null : partyId === ED ? 'ED' : 'IS',
    sentByRecipient: partyId === A,
    delivery: partyId === null ? 'unowned' : 'party',
    ...overrides,
  };
}

const owned = (...owners: Owner[]): OwnerResolution => ({ status: 'owned', owners });
const is = (partyId: string): Owner => ({ partyId, role: 'IS' });
const ed: Owner = { partyId: ED, role: 'ED' };

describe('planRetractions', () => {
  test('a retrospective CoS: the old supplier\'s copy comes back as delivered, flagged RETRACTED; the operator keeps its copy', () => {
    const archived = [copy('e1', A, { flags: ['ROLE_NOT_ELIGIBLE'] }), copy('e1', ED, { originatorId: null })];
    const retractions = planRetractions(archived, () => owned(is(B), ed));
    const { delivery: _delivery, ...asDelivered } = archived[0];
    expect(retractions).toEqual([{ ...asDelivered, flags: ['ROLE_NOT_ELIGIBLE', FLAGS.RETRACTED] }]);
    expect(archived[0].flags).toEqual(['ROLE_NOT_ELIGIBLE']); // the input is not changed
    // The late plan, from the same rows, gives B its copy: both sides of one correction.
    expect(planLateDeliveries(archived, () => owned(is(B), ed)).map((d) => d.owners)).toEqual([[is(B)]]);
  });

  test('owners named at the event\'s time keep their copies', () => {
    expect(planRetractions([copy('e1', A), copy('e1', ED)], () => owned(is(A), ed))).toEqual([]);
  });

  test('never a copy already retracted, never an unowned row', () => {
    const archived = [copy('e1', A, { flags: [FLAGS.RETRACTED] }), copy('e2', null, { flags: [FLAGS.NO_OWNER] })];
    expect(planRetractions(archived, () => owned(is(B)))).toEqual([]);
  });

  test('an unknown owner (no association, no registration at that time) retracts nothing', () => {
    const archived = [copy('e1', A)];
    expect(planRetractions(archived, () => ({ status: 'unknown', reason: 'NO_DEVICE_ASSOCIATION' }))).toEqual([]);
    expect(planRetractions(archived, () => ({ status: 'unknown', reason: 'NO_REGISTERED_OWNER' }))).toEqual([]);
  });

  test('ownership is asked once per event, about the event (no recipient, no per-copy flags)', () => {
    const asked: string[] = [];
    const archived = [copy('e1', A, { flags: [FLAGS.LATE_OWNERSHIP] }), copy('e1', ED), copy('e2', A)];
    const retractions = planRetractions(archived, (record) => {
      asked.push(record.eventId);
      expect(record).toMatchObject({ recipientPartyId: null, recipientRole: null, flags: [] });
      return owned(is(B), ed);
    });
    expect(asked).toEqual(['e1', 'e2']);
    expect(retractions.map((r) => [r.eventId, r.recipientPartyId, r.flags])).toEqual([
      ['e1', A, [FLAGS.LATE_OWNERSHIP, FLAGS.RETRACTED]],
      ['e2', A, [FLAGS.RETRACTED]],
    ]);
  });
});

describe('planLateDeliveries with retracted copies', () => {
  test('a late copy is built without the RETRACTED flag of the row it is rebuilt from', () => {
    expect(baseRecord(copy('e1', A, { flags: ['UNKNOWN_SRV', FLAGS.RETRACTED] })).flags).toEqual(['UNKNOWN_SRV']);
  });

  test('a retracted recipient counts as served: it is not sent the copy again as late', () => {
    expect(planLateDeliveries([copy('e1', A, { flags: [FLAGS.RETRACTED] })], () => owned(is(A)))).toEqual([]);
  });
});

describe('retracted copies are not served to parties', () => {
  const query = { deviceId: DEVICE, from: 0, to: 10_000, after: null, limit: 10 };
  const notRetracted = "NOT has(flags, 'RETRACTED')";

  test('lookup: a party\'s own view and its view as current owner skip them; operators still see them', () => {
    expect(activitySql({ ...query, scope: { kind: 'party', partyId: A, beforeOwnershipUntil: null } }, 'eventId').sql).toContain(notRetracted);
    expect(activitySql({ ...query, scope: { kind: 'party', partyId: A, beforeOwnershipUntil: 5_000 } }, 'eventId').sql).toContain(notRetracted);
    expect(activitySql({ ...query, scope: { kind: 'operator' } }, 'eventId').sql).not.toContain('RETRACTED');
  });

  test('lookup: a retracted copy is no sign that the party has seen the device (read with FINAL)', () => {
    const { sql } = seenSql({ deviceId: DEVICE, partyId: A, from: 0 });
    expect(sql).toContain(notRetracted);
    expect(sql).toContain('FINAL');
    expect(seenSql({ deviceId: DEVICE, partyId: null, from: 0 }).sql).not.toContain('RETRACTED');
  });

  test('replay: neither the archive query nor the entitlement check lets one through', () => {
    expect(partyRangeFilter({ partyId: A, from: 0, to: 10_000 }).where).toContain(notRetracted);
    const range = { partyId: A, from: 0, to: 10_000 };
    expect(entitled(copy('e1', A), range)).toBe(true);
    expect(entitled(copy('e1', A, { flags: [FLAGS.RETRACTED] }), range)).toBe(false);
  });
});
