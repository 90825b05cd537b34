import { committedOffset } from '../../services/shared/partitionCommits';

describe('committedOffset (the client reports offset 0 as null)', () => {
  it.each([
    [null, '0'],
    ['0', '0'],
    [0, '0'],
    ['42', '42'],
    ['9007199254740993', '9007199254740993'],
    ['-1001', undefined],
    [-1, undefined],
    [undefined, undefined],
    ['', undefined],
    ['null', undefined],
  ])('%p -> %p', (reported, expected) => {
    expect(committedOffset(reported as string | number | null | undefined)).toBe(expected);
  });
});
