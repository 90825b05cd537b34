// Sends in calls of bounded size. A record batch larger than the topic's max.message.bytes is
// refused with MESSAGE_TOO_LARGE; librdkafka bounds its own batches (batch.size), and splitting
// each call by bytes keeps that true whatever client or settings run underneath. A single message
// larger than the bound still goes alone (topics that must take such messages, like the DLQ,
// allow them).
import type { Message, Sender, TopicMessages } from './kafka';

/** Default bound per send: under the broker's default max.message.bytes (1 MiB) with room for overhead. */
export const DEFAULT_MAX_SEND_BYTES = 768 * 1024;

export type { Sender } from './kafka';

export function messageBytes(message: Message): number {
  let bytes = 70; // record overhead (lengths, offsets, attributes) in the v2 record format, rounded up
  bytes += message.key ? Buffer.byteLength(message.key) : 0;
  bytes += message.value ? Buffer.byteLength(message.value) : 0;
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name);
    if (typeof value === 'string' || Buffer.isBuffer(value)) bytes += Buffer.byteLength(value);
    else if (Array.isArray(value)) for (const v of value) bytes += Buffer.byteLength(v);
  }
  return bytes;
}

/** Splits topic messages into consecutive chunks of at most maxBytes each (a bigger message alone). Pure. */
export function chunkTopicMessages(topicMessages: TopicMessages[], maxBytes: number): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let currentBytes = 0;
  for (const { topic, messages } of topicMessages) {
    let slice: Message[] = [];
    for (const message of messages) {
      const size = messageBytes(message);
      if (currentBytes + size > maxBytes && currentBytes > 0) {
        if (slice.length > 0) current.push({ topic, messages: slice });
        chunks.push(current);
        current = [];
        currentBytes = 0;
        slice = [];
      }
      slice.push(message);
      currentBytes += size;
    }
    if (slice.length > 0) current.push({ topic, messages: slice });
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Writes every message in sends of at most maxBytes. The sends are queued at once and awaited
 * together: the idempotent producer keeps each partition's order, and acks=all is the producer's.
 */
export async function sendBounded(sender: Sender, topicMessages: TopicMessages[], maxBytes = DEFAULT_MAX_SEND_BYTES): Promise<void> {
  await Promise.all(chunkTopicMessages(topicMessages, maxBytes).map((chunk) => sender.sendBatch({ topicMessages: chunk })));
}
