// Turns a fetched batch into parsed values and dead letters. Whatever one record makes parsing
// throw is that record's fault: it becomes a dead letter with a reason, never an exception. Pure.
import type { DeadLetter, SourceMessage } from './dlq';
import type { KafkaMessage } from './kafka';
import { DlqReason, RejectedRecord } from './rejection';

export interface Parsed<T> {
  source: SourceMessage;
  value: T;
}

export function parseBatch<T>(topic: string, partition: number, messages: KafkaMessage[], parse: (source: SourceMessage) => T): { good: Array<Parsed<T>>; dead: DeadLetter[] } {
  const good: Array<Parsed<T>> = [];
  const dead: DeadLetter[] = [];
  for (const message of messages) {
    const source: SourceMessage = { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers };
    try {
      good.push({ source, value: parse(source) });
    } catch (error) {
      const rejection =
        error instanceof RejectedRecord
          ? error
          : new RejectedRecord(DlqReason.PARSE_ERROR, `${(error as Error)?.name ?? 'Error'}: ${String((error as Error)?.message ?? error).slice(0, 500)}`);
      dead.push({ source, rejection });
    }
  }
  return { good, dead };
}
