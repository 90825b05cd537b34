import { groupByDays } from '../../services/shared/archive';

const DAY = 86_400_000;

describe('groupByDays (archive inserts touch at most 100 daily partitions)', () => {
  it('keeps a batch within the bound as one insert', () => {
    const items = Array.from({ length: 500 }, (_, i) => Date.UTC(2026, 10, 1) + (i % 90) * DAY);
    expect(groupByDays(items, (t) => t, 100)).toEqual([items]);
  });

  it('splits 250 distinct days into inserts of at most 100 days each, losing nothing', () => {
    const items = Array.from({ length: 1000 }, (_, i) => Date.UTC(2026, 0, 1) + (i % 250) * DAY + i);
    const groups = groupByDays(items, (t) => t, 100);
    expect(groups.map((g) => new Set(g.map((t) => Math.floor(t / DAY))).size)).toEqual([100, 100, 50]);
    expect(groups.flat().sort()).toEqual([...items].sort());
  });
});
