// The bench reads Kafka's perf tools' own summaries; these are their real outputs (Kafka 4.4).
import { parseConsumerRate, parseProducerRate } from '../../bench/brokerCeiling';

describe('broker ceiling: perf tool summaries', () => {
  it('takes the steady-state producer rate when the run had warm-up records, else the summary', () => {
    const warmed = [
      '75000 records sent, 36621.093750 records/sec (6.50 MB/sec), 15.41 ms avg latency, 797.00 ms max latency, 14 ms 50th, 28 ms 95th, 48 ms 99th, 106 ms 99.9th.',
      '50000 steady state records sent, 72568.940493 records/sec (12.87 MB/sec), 14.94 ms avg latency, 30.00 ms max latency, 14 ms 50th, 24 ms 95th, 28 ms 99th, 30 ms 99.9th.',
    ].join('\n');
    expect(parseProducerRate(warmed)).toBeCloseTo(72568.94, 1);
    expect(parseProducerRate('20000 records sent, 2639.218791 records/sec (8.47 MB/sec), 1584.37 ms avg latency')).toBeCloseTo(2639.22, 1);
    expect(() => parseProducerRate('Exception in thread "main"')).toThrow(/no summary/);
  });

  it('takes the consumer fetch rate (group join excluded) from the CSV', () => {
    const csv = [
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-12-01 02:02:11:312, 2026-12-01 02:02:13:969, 301.5499, 113.4926, 100020, 37643.9594, 833, 1824, 165.3234, 54835.5263',
    ].join('\n');
    expect(parseConsumerRate(csv)).toBeCloseTo(54835.53, 1);
    expect(() => parseConsumerRate('start.time, end.time, fetch.nMsg.sec')).toThrow(/no summary/);
  });
});
