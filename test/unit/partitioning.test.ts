import { murmur2, partitionOfKey } from '../../services/fan-out/partitioning';

describe('partitioning (Java client rule)', () => {
  // Expected values from Apache Kafka's UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%s) is %d', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('places a key on murmur2 & 0x7fffffff modulo the partition count', () => {
    expect(partitionOfKey('foobar', 6)).toBe((-790332482 & 0x7fffffff) % 6);
    for (let i = 0; i < 1000; i++) expect(partitionOfKey(`device-${i}`, 6)).toBeGreaterThanOrEqual(0);
  });
});
