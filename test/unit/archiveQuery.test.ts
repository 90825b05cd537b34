import { MAX_ARCHIVE_LIMIT, parseArchiveQuery } from '../../services/archiver/archiveRoute';

const parse = (query: string) => parseArchiveQuery(new URLSearchParams(query));
const party = '90-B3-D5-1F-30-01-00-00';
const device = '00-DB-12-34-56-78-90-A0';

describe('GET /archive parameters', () => {
  it('normalises identifiers and reads epoch millis and ISO times', () => {
    expect(parse(`deviceId=${device.toLowerCase()}&partyId=${party.toLowerCase()}&eventId=evt-1&from=1000&to=2026-01-01T00:00:00Z&limit=50`)).toEqual({
      query: { deviceId: device, recipientPartyId: party, eventId: 'evt-1', from: 1000, to: Date.UTC(2026, 0, 1), limit: 50 },
    });
  });

  it('leaves out what is not asked for', () => {
    expect(parse('')).toEqual({ query: {} });
  });

  it('reads partyId= (present, empty) as "unowned records only", not as "any party"', () => {
    expect(parse('partyId=')).toEqual({ query: { recipientPartyId: '' } });
    expect(parse('deviceId=' + device)).toEqual({ query: { deviceId: device } });
  });

  it.each([
    ['limit=abc', /limit/],
    ['limit=', /limit/],
    ['limit=0', /limit/],
    ['limit=-5', /limit/],
    ['limit=1.5', /limit/],
    ['limit=1e3', /limit/],
    [`limit=${MAX_ARCHIVE_LIMIT + 1}`, /limit/],
    ['limit=99999999999999999999', /limit/],
    ['from=9e99', /from/],
    ['to=99999999999999999999', /to/],
    ['from=8640000000000001', /from/],
    ['from=', /from/],
    ['from=yesterday', /from/],
    // V8's lenient Date.parse reads these as dates in 2001; the contract says epoch millis or ISO.
    ['from=-1', /from/],
    ['from= 5', /from/],
    ['to=2026-02-30', /to/],
    ['to=2026-01-01T25:00Z', /to/],
    ['from=2000&to=1000', /from is after to/],
    ['from=2026-01-02&to=2026-01-01', /from is after to/],
    ['partyId=somebody', /partyId/],
    ['deviceId=00-DB-12', /deviceId/],
  ])('refuses %s with a message', (query, message) => {
    expect(parse(query)).toEqual({ error: expect.stringMatching(message) });
  });

  it('reads digits as epoch millis, never as a month (Date.parse("5") is May 2001)', () => {
    expect(parse('from=5')).toEqual({ query: { from: 5 } });
  });

  it('accepts the limits of the ranges', () => {
    expect(parse(`limit=1&from=0&to=8640000000000000`)).toEqual({ query: { limit: 1, from: 0, to: 8.64e15 } });
    expect(parse(`limit=${MAX_ARCHIVE_LIMIT}&from=7&to=7`)).toEqual({ query: { limit: MAX_ARCHIVE_LIMIT, from: 7, to: 7 } });
  });
});
