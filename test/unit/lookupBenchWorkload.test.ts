// The lookup bench's estate, lookups and latency summary (the SQL itself runs in the bench, which
// checks that the devices and owners named here really have rows before it starts timing).
import { benchSrvs, defaultEstate, deviceIdOf, estateParties, latencySummary, ownersOf, pickLookup, seedSql, strangerOf, supplierOf } from '../../bench/lookupWorkload';
import { normaliseEui64 } from '../../services/shared/identifiers';

describe('lookup bench workload', () => {
  const estate = defaultEstate(10_000_000, 1_700_000_000_000);

  it('names devices and parties as EUI-64s, one device per hundred rows', () => {
    expect(estate.devices).toBe(100_000);
    expect(deviceIdOf(0)).toBe('D1-5E-00-00-00-00-00-00');
    expect(deviceIdOf(0xabcdef)).toBe('D1-5E-00-00-00-AB-CD-EF');
    for (const id of [deviceIdOf(99_999), supplierOf(39), strangerOf(19)]) expect(normaliseEui64(id)).toBe(id);
    const parties = estateParties(estate);
    expect(parties).toHaveLength(40 + 14 + 20);
    expect(new Set(parties).size).toBe(parties.length);
  });

  it('gives every device a supplier and a distributor, and one in ten its previous supplier too', () => {
    expect(ownersOf(estate, 1)).toEqual([supplierOf(1), expect.stringMatching(/^91-/)]);
    expect(ownersOf(estate, 10)).toEqual([supplierOf(10), expect.stringMatching(/^91-/), supplierOf(11)]);
  });

  it('picks owners about as often as asked, strangers otherwise, never a stranger as an owner', () => {
    let state = 1;
    const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
    const lookups = Array.from({ length: 10_000 }, () => pickLookup(estate, random, 0.8));
    const owners = lookups.filter((l) => l.owner);
    expect(owners.length / lookups.length).toBeGreaterThan(0.77);
    expect(owners.length / lookups.length).toBeLessThan(0.83);
    const strangers = new Set(Array.from({ length: estate.strangers }, (_, k) => strangerOf(k)));
    for (const l of lookups) expect(strangers.has(l.partyId)).toBe(!l.owner);
  });

  it('seeds from the catalogue with quoted titles and the given row range', () => {
    const sql = seedSql(estate, 500_000, 250_000);
    expect(sql).toContain('FROM numbers(500000, 250000)');
    expect(benchSrvs().length).toBeGreaterThan(50);
    for (const srv of benchSrvs()) expect(sql).toContain(`'${srv.title.replaceAll("'", "\\'")}'`);
  });

  it('summarises latencies by nearest rank', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(latencySummary(values)).toEqual({ count: 1000, p50: 500, p99: 990, p999: 999, max: 1000, mean: 500.5 });
  });
});
