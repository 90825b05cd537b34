// The decision logic fed by the client's own events (`data`, `partition.eof`); the events are
// emitted here by hand, the way the client's consumer emits them.
import { EventEmitter } from 'node:events';
import type { Consumer } from '../../services/shared/kafka';
import { PartitionEnds } from '../../services/shared/partitionEnds';

function tracked(topic = 'visibility.records') {
  const client = new EventEmitter();
  const ends = new PartitionEnds(topic);
  ends.attach({ _getInternalClient: () => client } as unknown as Consumer);
  return { ends, data: (partition: number, offset: number) => client.emit('data', { topic, partition, offset }), eof: (partition: number, offset: number) => client.emit('partition.eof', { topic, partition, offset }) };
}

describe('PartitionEnds', () => {
  it('moves past trailing markers only once every record fetched before the end is committed', () => {
    const { ends, data, eof } = tracked();
    data(0, 10);
    data(0, 11);
    eof(0, 13); // 12 is the commit marker of the transaction that wrote 10 and 11
    expect(ends.markerOffset(0, '11')).toBeUndefined(); // 11 fetched, not committed: never skipped over
    expect(ends.markerOffset(0, '12')).toBe('13');
    expect(ends.markerOffset(0, '13')).toBeUndefined(); // nothing left to move past
  });

  it('does not commit over records fetched after the reported end', () => {
    const { ends, data, eof } = tracked();
    eof(1, 5);
    data(1, 5);
    expect(ends.markerOffset(1, '5')).toBeUndefined();
    expect(ends.caughtUp(1, '5')).toBe(false);
    expect(ends.caughtUp(1, '6')).toBe(true);
  });

  it('ignores other topics and forgets a partition that moved to another member', () => {
    const { ends, eof } = tracked();
    const other = tracked('sat.audit.events');
    other.eof(2, 100);
    expect(ends.markerOffset(2, '0')).toBeUndefined();
    eof(2, 7);
    expect(ends.markerOffset(2, '3')).toBe('7');
    ends.forget(2);
    expect(ends.markerOffset(2, '3')).toBeUndefined();
  });
});
