// The dead-letter queue: the original key and bytes, untouched, with headers saying why.
import type { IHeaders, Producer } from 'kafkajs';
import { TOPICS } from './contracts';
import type { RejectedRecord } from './rejection';

export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export interface DeadLetter {
  source: SourceMessage;
  rejection: RejectedRecord;
}

export function deadLetterMessage({ source, rejection }: DeadLetter) {
  return {
    key: source.key,
    value: source.value,
    headers: {
      ...(source.headers ?? {}),
      'dlq.reason': rejection.reason,
      'dlq.error': rejection.message,
      'dlq.source.topic': source.topic,
      'dlq.source.partition': String(source.partition),
      'dlq.source.offset': source.offset,
    },
  };
}

export async function sendToDlq(producer: Pick<Producer, 'send'>, letters: DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await producer.send({ topic: TOPICS.dlq, messages: letters.map(deadLetterMessage), acks: -1 });
}
