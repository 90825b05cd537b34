import { copiesFor, unownedCopy } from '../../services/fan-out/routing';
import type { VisibilityRecord } from '../../services/shared/contracts';
import { visibilityRecord } from '../support/fixtures';

const supplierA = '90-B3-D5-1F-30-01-00-00';
const supplierB = '90-B3-D5-1F-30-02-00-00';
const record: VisibilityRecord = visibilityRecord({
  eventId: 'e1',
  deviceId: '00-DB-12-34-56-78-90-A0',
  originatorId: supplierB,
  requestId: `${supplierB}:00-DB-12-34-56-78-90-A0:1`,
  serviceReferenceVariant: '2.2',
  srvTitle: 'Top Up Device',
});
const owners = [
  { partyId: supplierA, role: 'IS' as const },
  { partyId: supplierB, role: 'GS' as const },
];

describe('copiesFor', () => {
  it('shows the originator only on its own copy by default', () => {
    const [a, b] = copiesFor(record, owners, 'own-requests');
    expect(a).toMatchObject({ recipientPartyId: supplierA, recipientRole: 'IS', sentByRecipient: false, originatorId: null, originatorRole: 'IS' });
    expect(b).toMatchObject({ recipientPartyId: supplierB, recipientRole: 'GS', sentByRecipient: true, originatorId: supplierB });
  });

  it('can show every owner the originator, or nobody', () => {
    expect(copiesFor(record, owners, 'owners').map((c) => c.originatorId)).toEqual([supplierB, supplierB]);
    const hidden = copiesFor(record, owners, 'none');
    expect(hidden.map((c) => c.originatorId)).toEqual([null, null]);
    expect(hidden.map((c) => c.sentByRecipient)).toEqual([false, true]);
  });

  it('does not share the flags array between copies', () => {
    const [a, b] = copiesFor({ ...record, flags: ['UNKNOWN_SRV'] }, owners, 'own-requests');
    a.flags.push('X');
    expect(b.flags).toEqual(['UNKNOWN_SRV']);
  });

  it('marks unowned copies', () => {
    expect(unownedCopy(record)).toMatchObject({ recipientPartyId: null, flags: ['NO_OWNER'] });
  });
});
