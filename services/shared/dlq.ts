// The dead-letter queue: the original key and bytes, untouched, with headers saying why.
import type { IHeaders, TopicMessages } from './kafka';
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

/** `stage`: which stage refused it (a topic read by two stages, e.g. visibility.records, can be refused twice). */
export function deadLetterMessage({ source, rejection }: DeadLetter, stage?: string) {
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
      ...(stage ? { 'dlq.stage': stage } : {}),
    },
  };
}

/** The DLQ writes for these letters, to be sent in the same transaction as the batch's offsets. */
export function deadLetterMessages(letters: DeadLetter[], stage?: string): TopicMessages[] {
  return letters.length === 0 ? [] : [{ topic: TOPICS.dlq, messages: letters.map((letter) => deadLetterMessage(letter, stage)) }];
}
