// The pure decisions of npm run replay: arguments, replay id, replayed copies, entitlement,
// batches, pacing, checkpoints; and the archiver's party-range query string both ways.
import type { ArchivedRecord } from '../../services/shared/archive';
import { partyRangeFilter } from '../../services/shared/archive';
import { partyRangeParams } from '../../services/shared/archiveClient';
import { parsePartyRangeQuery } from '../../services/archiver/partyRangeRoute';
import {
  DEFAULT_RATE,
  MAX_BATCH,
  advance,
  batchSize,
  batches,
  decodeCheckpoint,
  defaultReplayId,
  encodeCheckpoint,
  entitled,
  initialCheckpoint,
  isLastBatch,
  mismatch,
  pacingDelayMs,
  parseReplayArgs,
  replayRecord,
  summaryLine,
} from '../../services/replay/replayPlan';
import { visibilityRecord } from '../support/fixtures';

const PARTY = '90-B3-D5-1F-30-01-00-00';
const OTHER = '90-B3-D5-1F-30-02-00-00';
const DEVICE = '00-DB-12-34-56-78-90-A0';

function row(overrides: Partial<ArchivedRecord> = {}): ArchivedRecord {
  return {
    ...visibilityRecord({ eventId: 'evt-1', deviceId: DEVICE, originatorId: null, eventTime: 1_000 }),
    recipientPartyId: PARTY,
    recipientRole: 'IS',
    sentByRecipient: false,
    delivery: 'party',
    ...overrides,
  };
}

function ok(argv: string[]) {
  const parsed = parseReplayArgs(argv);
  if (!('ok' in parsed)) throw new Error(`expected arguments to parse: ${JSON.stringify(parsed)}`);
  return parsed.ok;
}

function error(argv: string[]): string {
  const parsed = parseReplayArgs(argv);
  if (!('error' in parsed)) throw new Error(`expected an error: ${JSON.stringify(parsed)}`);
  return parsed.error;
}

describe('replay arguments', () => {
  test('party, device, times in epoch ms or ISO-8601, defaults for rate and id', () => {
    const args = ok(['--party', PARTY.toLowerCase(), '--device', DEVICE, '--from', '2026-11-01', '--to=1796083200000']);
    expect(args.range).toEqual({ partyId: PARTY, deviceId: DEVICE, from: Date.UTC(2026, 10, 1), to: 1796083200000 });
    expect(args.rate).toBe(DEFAULT_RATE);
    expect(args.replayId).toBe(`${PARTY}.${DEVICE}.${Date.UTC(2026, 10, 1)}-1796083200000`);
    expect(args.archiverUrl).toBeUndefined();
  });

  test('without a device, with a rate, an id and an archiver URL', () => {
    const args = ok(['--party', PARTY, '--from', '0', '--to', '0', '--rate', '20', '--replay-id', 'ops-2026-12-01.a', '--archiver-url', 'http://127.0.0.1:9464/']);
    expect(args.range).toEqual({ partyId: PARTY, from: 0, to: 0 });
    expect(args).toMatchObject({ rate: 20, replayId: 'ops-2026-12-01.a', archiverUrl: 'http://127.0.0.1:9464' });
  });

  test('the default id is the same for the same replay and differs otherwise', () => {
    const a = ok(['--party', PARTY, '--from', '1', '--to', '2']).replayId;
    expect(ok(['--to', '2', '--from', '1', '--party', PARTY.toLowerCase()]).replayId).toBe(a);
    expect(ok(['--party', PARTY, '--from', '1', '--to', '3']).replayId).not.toBe(a);
    expect(ok(['--party', PARTY, '--device', DEVICE, '--from', '1', '--to', '2']).replayId).not.toBe(a);
    expect(defaultReplayId({ partyId: PARTY, from: 1, to: 2 })).toBe(a);
  });

  test.each([
    [[], /--party is required/],
    [['--party', 'SUPPLIER-A', '--from', '1', '--to', '2'], /--party "SUPPLIER-A" is not an EUI-64/],
    [['--party', PARTY, '--device', '00-DB-12-34', '--from', '1', '--to', '2'], /--device "00-DB-12-34" is not an EUI-64/],
    [['--party', PARTY, '--device', "00-DB-12-34-56-78-90-A0' OR 1=1", '--from', '1', '--to', '2'], /is not an EUI-64/],
    [['--party', PARTY, '--to', '2'], /--from is required/],
    [['--party', PARTY, '--from', '1'], /--to is required/],
    [['--party', PARTY, '--from', 'yesterday', '--to', '2'], /--from "yesterday" is not epoch milliseconds or an ISO-8601/],
    [['--party', PARTY, '--from', '2026-02-30', '--to', '2026-03-02'], /--from "2026-02-30"/],
    [['--party', PARTY, '--from', '5', '--to', '4'], /--from .* is after --to/],
    [['--party', PARTY, '--from', '1', '--to', '2', '--rate', '0'], /--rate "0" must be a whole number/],
    [['--party', PARTY, '--from', '1', '--to', '2', '--rate', '1.5'], /--rate "1.5"/],
    [['--party', PARTY, '--from', '1', '--to', '2', '--rate', '1000000'], /from 1 to 100000/],
    [['--party', PARTY, '--from', '1', '--to', '2', '--replay-id', 'a b'], /--replay-id "a b" must be/],
    [['--party', PARTY, '--from', '1', '--to', '2', '--archiver-url', 'ftp://x'], /--archiver-url "ftp:\/\/x"/],
    [['--party', PARTY, '--from', '1', '--to', '2', '--colour', 'red'], /unknown option --colour/],
    [['--party', PARTY, '--party', OTHER, '--from', '1', '--to', '2'], /--party given twice/],
    [['--party', '--from', '1', '--to', '2'], /--party needs a value/],
    [['--party', PARTY, '--from', '1', '--to'], /--to needs a value/],
    [['--party', PARTY, 'extra', '--from', '1', '--to', '2'], /unexpected argument "extra"/],
  ])('%j is refused: %s', (argv, message) => {
    expect(error(argv as string[])).toMatch(message);
  });

  test('--help asks for the usage', () => {
    expect(parseReplayArgs(['--party', PARTY, '--help'])).toEqual({ help: true });
  });
});

describe('replayed copies', () => {
  test('the archived copy as delivered, flagged REPLAY, nothing of the archive row besides', () => {
    const archived = row({ flags: ['LATE_OWNERSHIP'], originatorId: PARTY, sentByRecipient: true, responseCode: 'I0' });
    const replayed = replayRecord(archived);
    const { delivery: _delivery, ...contractFields } = archived;
    expect(replayed).toEqual({ ...contractFields, flags: ['LATE_OWNERSHIP', 'REPLAY'] });
    expect(Object.keys(replayed)).not.toContain('delivery');
    expect(archived.flags).toEqual(['LATE_OWNERSHIP']);
  });

  test('REPLAY is added once', () => {
    expect(replayRecord(row({ flags: ['REPLAY'] })).flags).toEqual(['REPLAY']);
  });

  test('only copies delivered to the party, of its device and range', () => {
    const range = { partyId: PARTY, deviceId: DEVICE, from: 1_000, to: 2_000 };
    expect(entitled(row(), range)).toBe(true);
    expect(entitled(row({ recipientPartyId: OTHER }), range)).toBe(false);
    expect(entitled(row({ recipientPartyId: null, recipientRole: null, delivery: 'unowned' }), range)).toBe(false);
    expect(entitled(row({ delivery: 'unowned' }), range)).toBe(false);
    expect(entitled(row({ deviceId: '00-DB-12-34-56-78-90-A1' }), range)).toBe(false);
    expect(entitled(row({ deviceId: '00-DB-12-34-56-78-90-A1' }), { partyId: PARTY, from: 1_000, to: 2_000 })).toBe(true);
    expect(entitled(row({ eventTime: 999 }), range)).toBe(false);
    expect(entitled(row({ eventTime: 2_000 }), range)).toBe(false);
    expect(entitled(row({ eventTime: 1_999 }), range)).toBe(true);
  });
});

describe('batches, pacing and checkpoints', () => {
  test('about four transactions a second, within 1 and MAX_BATCH records', () => {
    expect(batchSize(1)).toBe(1);
    expect(batchSize(10)).toBe(2);
    expect(batchSize(1_000)).toBe(250);
    expect(batchSize(100_000)).toBe(MAX_BATCH);
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 2)).toEqual([]);
  });

  test('pacing keeps the run at its rate on average', () => {
    expect(pacingDelayMs(10_000, 0, 100, 10_000)).toBe(0);
    expect(pacingDelayMs(10_000, 50, 100, 10_100)).toBe(400);
    expect(pacingDelayMs(10_000, 50, 100, 11_000)).toBe(0);
  });

  test('a checkpoint moves to the last row of its batch and counts what was published and skipped', () => {
    const range = { partyId: PARTY, from: 0, to: 10_000 };
    const first = initialCheckpoint('r1', range, 5);
    expect(first).toMatchObject({ cursor: null, published: 0, skipped: 0, done: false, deviceId: null });
    const batch = [row({ eventId: 'a', eventTime: 1 }), row({ eventId: 'b', eventTime: 2 }), row({ eventId: 'c', eventTime: 2 })];
    const second = advance(first, batch, 2, false, 6);
    expect(second).toMatchObject({ cursor: { eventTime: 2, eventId: 'c', deviceId: DEVICE }, published: 2, skipped: 1, done: false, updatedAt: 6 });
    const end = advance(second, [], 0, true, 7);
    expect(end).toMatchObject({ cursor: second.cursor, published: 2, skipped: 1, done: true });
  });

  test('the last batch is known only on a page shorter than a full page', () => {
    expect(isLastBatch(3, 10, 1, 2)).toBe(true);
    expect(isLastBatch(3, 10, 0, 2)).toBe(false);
    expect(isLastBatch(10, 10, 4, 5)).toBe(false);
    expect(isLastBatch(0, 10, 0, 1)).toBe(true);
  });

  test('a replay id reused for another replay is refused', () => {
    const range = { partyId: PARTY, deviceId: DEVICE, from: 1, to: 2 };
    const checkpoint = initialCheckpoint('r1', range, 0);
    expect(mismatch(checkpoint, range)).toBeNull();
    expect(mismatch(checkpoint, { ...range, to: 3 })).toMatch(/replay id r1 belongs to party/);
    expect(mismatch(checkpoint, { partyId: PARTY, from: 1, to: 2 })).toMatch(/use another --replay-id/);
    expect(mismatch(checkpoint, { ...range, partyId: OTHER })).not.toBeNull();
  });

  test('checkpoints round-trip; anything else decodes to null', () => {
    const checkpoint = advance(initialCheckpoint('r1', { partyId: PARTY, from: 1, to: 2 }, 0), [row()], 1, true, 9);
    expect(decodeCheckpoint(encodeCheckpoint(checkpoint))).toEqual(checkpoint);
    expect(decodeCheckpoint(null)).toBeNull();
    expect(decodeCheckpoint(Buffer.from('not json'))).toBeNull();
    expect(decodeCheckpoint(Buffer.from(JSON.stringify({ ...checkpoint, version: 2 })))).toBeNull();
    expect(decodeCheckpoint(Buffer.from(JSON.stringify({ ...checkpoint, cursor: { eventTime: '1' } })))).toBeNull();
    expect(decodeCheckpoint(Buffer.from(JSON.stringify({ ...checkpoint, published: -0.5 })))).toBeNull();
  });

  test('the final count line', () => {
    expect(summaryLine({ replayId: 'r1', published: 90, skipped: 0, alreadyDone: 10, total: 100, finished: true, seconds: 2 })).toBe(
      'replay r1 finished: published 90, skipped 0, already done 10 (of 100) in 2.0 s, 45 records/s',
    );
  });
});

describe('the archive query for a party range', () => {
  test('only the party, only delivered copies, parameters bound, keyset after the cursor', () => {
    const { where, params } = partyRangeFilter({ partyId: PARTY, deviceId: DEVICE, from: 1, to: 2 }, { eventTime: 5, eventId: "x' OR 1=1", deviceId: DEVICE });
    expect(where).toContain('recipientPartyId = {partyId:String}');
    expect(where).toContain("delivery = 'party'");
    expect(where).toContain('deviceId = {deviceId:String}');
    expect(where).not.toContain('OR 1=1');
    expect(params).toMatchObject({ partyId: PARTY, deviceId: DEVICE, from: 1, to: 2, afterTime: 5, afterEventId: "x' OR 1=1", afterDeviceId: DEVICE });
    expect(partyRangeFilter({ partyId: PARTY, from: 1, to: 2 }).where).not.toContain('deviceId');
  });

  test("the client's query string is what the archiver's route reads", () => {
    const range = { partyId: PARTY, deviceId: DEVICE, from: 1, to: 2 };
    const after = { eventTime: 5, eventId: 'evt-a&b=c', deviceId: DEVICE };
    expect(parsePartyRangeQuery(partyRangeParams(range, after, 300))).toEqual({ range, after, limit: 300 });
    expect(parsePartyRangeQuery(partyRangeParams({ partyId: PARTY, from: 1, to: 2 }))).toEqual({ range: { partyId: PARTY, from: 1, to: 2 }, limit: 1000 });
  });

  test.each([
    ['from=1&to=2', /partyId/],
    [`partyId=${PARTY}&from=2&to=1`, /from is after to/],
    [`partyId=${PARTY}&from=x&to=1`, /epoch millis or ISO-8601/],
    [`partyId=${PARTY}&from=1&to=2&deviceId=nope`, /deviceId/],
    [`partyId=${PARTY}&from=1&to=2&afterTime=5`, /go together/],
    [`partyId=${PARTY}&from=1&to=2&limit=0`, /limit/],
    [`partyId=${PARTY}&from=1&to=2&limit=10001`, /limit/],
  ])('the route refuses %s', (query, message) => {
    const parsed = parsePartyRangeQuery(new URLSearchParams(query));
    expect('error' in parsed && parsed.error).toMatch(message);
  });
});
