import { ArchiveFrontier, streamIdBefore, type ArchiveProgress } from '../../services/fan-out/archiveFrontier';

/** A stream, a topic's high watermarks and the archiver's committed offsets, set by the test. */
function progress(initial: { latest: string; marks: Array<[number, bigint]>; committed: Array<[number, bigint]> }) {
  const state = { ...initial, reads: [] as string[] };
  const reader: ArchiveProgress = {
    latestChange: async () => (state.reads.push('latest'), state.latest),
    highWatermarks: async () => (state.reads.push('marks'), new Map(state.marks)),
    archiverCommitted: async () => new Map(state.committed),
  };
  return { state, reader };
}

describe('streamIdBefore', () => {
  test('compares <ms>-<seq> numerically, not as text', () => {
    expect(streamIdBefore('9-0', '10-0')).toBe(true);
    expect(streamIdBefore('10-2', '10-10')).toBe(true);
    expect(streamIdBefore('10-10', '10-2')).toBe(false);
    expect(streamIdBefore('5-1', '5-1')).toBe(false);
  });
});

describe('ArchiveFrontier: late registration data waits until the archive holds the earlier copies', () => {
  test('nothing new in the stream: nothing to do, and no offsets are read', async () => {
    const { state, reader } = progress({ latest: '100-0', marks: [[0, 5n]], committed: [[0, 0n]] });
    expect(await new ArchiveFrontier(reader).through(0, '100-0')).toBeUndefined();
    expect(state.reads).toEqual(['latest']);
  });

  test('the archiver has caught up: changes up to the newest entry may be read at once', async () => {
    const { reader } = progress({ latest: '200-0', marks: [[0, 5n], [1, 7n]], committed: [[0, 5n], [1, 9n]] });
    expect(await new ArchiveFrontier(reader).through(0, '100-0')).toBe('200-0');
  });

  test('the archiver lags: the partition waits, then reads up to the entry noted before the marks, not a later one', async () => {
    const { state, reader } = progress({ latest: '200-0', marks: [[0, 5n], [1, 7n]], committed: [[0, 5n], [1, 3n]] });
    const frontier = new ArchiveFrontier(reader);
    expect(await frontier.through(0, '100-0')).toBeUndefined();
    expect(state.reads).toEqual(['latest', 'marks']); // the entry first, then the marks
    // Meanwhile more changes arrive and more copies are written; the archiver reaches the old marks only.
    state.latest = '300-0';
    state.marks = [[0, 50n], [1, 70n]];
    expect(await frontier.through(0, '100-0')).toBeUndefined();
    state.committed = [[0, 5n], [1, 7n]];
    expect(await frontier.through(0, '100-0')).toBe('200-0');
    // Having read to 200-0, the next step notes 300-0 against the new marks.
    expect(await frontier.through(0, '200-0')).toBeUndefined();
    state.committed = [[0, 50n], [1, 70n]];
    expect(await frontier.through(0, '200-0')).toBe('300-0');
  });

  test('a confirmed entry serves later steps until the cursor reaches it', async () => {
    const { state, reader } = progress({ latest: '200-0', marks: [[0, 1n]], committed: [[0, 1n]] });
    const frontier = new ArchiveFrontier(reader);
    expect(await frontier.through(0, '100-0')).toBe('200-0');
    state.reads = [];
    expect(await frontier.through(0, '150-0')).toBe('200-0');
    expect(state.reads).toEqual([]);
  });

  test('partitions are independent, and a revoked partition forgets what it noted', async () => {
    const { state, reader } = progress({ latest: '200-0', marks: [[0, 5n]], committed: [[0, 1n]] });
    const frontier = new ArchiveFrontier(reader);
    expect(await frontier.through(0, '100-0')).toBeUndefined();
    state.committed = [[0, 5n]];
    frontier.forget(0);
    state.latest = '400-0';
    state.marks = [[0, 9n]];
    expect(await frontier.through(0, '100-0')).toBeUndefined(); // noted afresh against the new marks
    expect(await frontier.through(1, '100-0')).toBeUndefined();
    state.committed = [[0, 9n]];
    expect(await frontier.through(1, '100-0')).toBe('400-0');
  });

  test('an archiver group with no committed offset has archived nothing; an empty topic needs nothing', async () => {
    const none = progress({ latest: '200-0', marks: [[0, 3n]], committed: [] });
    expect(await new ArchiveFrontier(none.reader).through(0, '100-0')).toBeUndefined();
    const empty = progress({ latest: '200-0', marks: [[0, 0n]], committed: [] });
    expect(await new ArchiveFrontier(empty.reader).through(0, '100-0')).toBe('200-0');
  });
});
