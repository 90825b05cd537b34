import { ExpiringIdSet } from '../../services/shared/schemaRegistry';

describe('unknown schema ids (negative cache of the registry lookups)', () => {
  let now = 1_000;
  const clock = () => now;

  it('remembers an unknown id for the TTL, then forgets it so the registry is asked again', () => {
    const unknown = new ExpiringIdSet(30_000, clock);
    unknown.add(42);
    expect(unknown.has(42)).toBe(true);
    now += 29_999;
    expect(unknown.has(42)).toBe(true);
    now += 1;
    expect(unknown.has(42)).toBe(false);
    expect(unknown.has(7)).toBe(false);
  });

  it('restarts the TTL when an id is found unknown again', () => {
    const unknown = new ExpiringIdSet(1_000, clock);
    unknown.add(1);
    now += 900;
    unknown.add(1);
    now += 900;
    expect(unknown.has(1)).toBe(true);
    now += 100;
    expect(unknown.has(1)).toBe(false);
  });

  it('drops expired ids as new ones arrive, so a stream of garbage ids does not grow it without bound', () => {
    const unknown = new ExpiringIdSet(1_000, clock);
    for (let id = 0; id < 10_000; id++) {
      unknown.add(id);
      now += 1;
    }
    // Only the ids of the last TTL (1 ms apart) are still held.
    expect(unknown.size).toBeLessThanOrEqual(1_001);
    expect(unknown.has(9_999)).toBe(true);
    expect(unknown.has(0)).toBe(false);
  });
});
