import { parseBatch } from '../../services/shared/batchParsing';
import type { KafkaMessage } from '../../services/shared/kafka';
import { DlqReason, RejectedRecord } from '../../services/shared/rejection';

const message = (offset: number, value: string): KafkaMessage =>
  ({ offset: String(offset), key: Buffer.from('k'), value: Buffer.from(value), headers: {}, timestamp: '0', attributes: 0, size: 0 }) as unknown as KafkaMessage;

describe('parseBatch', () => {
  const parse = ({ value }: { value: Buffer | null }) => {
    const text = value!.toString();
    if (text === 'rejected') throw new RejectedRecord(DlqReason.MISSING_FIELD, 'deviceId is missing');
    if (text === 'bug') throw new TypeError("Cannot read properties of undefined (reading 'x')");
    if (text === 'odd') throw 'a thrown string';
    return text.toUpperCase();
  };

  it('keeps good records in order and turns every failure into a dead letter with a reason', () => {
    const { good, dead } = parseBatch('t', 3, [message(10, 'a'), message(11, 'rejected'), message(12, 'bug'), message(13, 'b'), message(14, 'odd')], parse);
    expect(good.map((g) => [g.source.offset, g.value])).toEqual([
      ['10', 'A'],
      ['13', 'B'],
    ]);
    expect(dead.map((d) => [d.source.offset, d.rejection.reason])).toEqual([
      ['11', DlqReason.MISSING_FIELD],
      ['12', DlqReason.PARSE_ERROR],
      ['14', DlqReason.PARSE_ERROR],
    ]);
    expect(dead[1].rejection.message).toMatch(/^TypeError: Cannot read properties/);
    expect(dead[0].source).toMatchObject({ topic: 't', partition: 3, offset: '11' });
  });
});
