import { isMpan, isMprn, normaliseEui64, parseRequestId } from '../../services/shared/identifiers';

describe('EUI-64 identifiers', () => {
  it('accepts upper case and normalises lower case', () => {
    expect(normaliseEui64('00-DB-12-34-56-78-90-A0')).toBe('00-DB-12-34-56-78-90-A0');
    expect(normaliseEui64('00-db-12-34-56-78-90-a0')).toBe('00-DB-12-34-56-78-90-A0');
  });

  // '\uFB00' (the ligature 'ﬀ') upper-cases to 'FF', which used to pass; full-width letters must not pass either.
  it.each(['00DB1234567890A0', '00-DB-12-34-56-78-90', '00:DB:12:34:56:78:90:A0', '00-DB-12-34-56-78-90-AG', '', ' 00-DB-12-34-56-78-90-A0', '00-DB-12-34-56-78-90-A0\n', '00-DB-12-34-56-78-90-\uFB00', '00-DB-12-34-56-78-90-\uFF21\uFF10', null, 42, Symbol('id'), {}])(
    'rejects %p',
    (value) => expect(normaliseEui64(value)).toBeNull(),
  );
});

describe('DUIS Request IDs', () => {
  it('splits originator, device and counter', () => {
    expect(parseRequestId('90-b3-d5-1f-30-01-00-00:00-DB-12-34-56-78-90-A0:12884901888')).toEqual({
      originatorId: '90-B3-D5-1F-30-01-00-00',
      deviceId: '00-DB-12-34-56-78-90-A0',
      counter: '12884901888',
    });
  });

  it.each([
    '90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0',
    '90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:abc',
    '90-B3-D5-1F-30-01-00:00-DB-12-34-56-78-90-A0:1',
    '90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1:2',
    '',
  ])('rejects %p', (value) => expect(parseRequestId(value)).toBeNull());
});

describe('MPxNs', () => {
  it('tells MPANs (13 digits) from MPRNs (6 to 10 digits)', () => {
    expect(isMpan('1234567890123')).toBe(true);
    expect(isMprn('1234567890123')).toBe(false);
    expect(isMprn('123456')).toBe(true);
    expect(isMprn('1234567890')).toBe(true);
    expect(isMprn('12345')).toBe(false);
    expect(isMpan('12345678901a3')).toBe(false);
  });

  it('refuses non-strings instead of coercing them', () => {
    expect(isMpan(1234567890123)).toBe(false);
    expect(isMprn(1234567)).toBe(false);
    expect(isMpan(Symbol('mpan'))).toBe(false);
  });
});
