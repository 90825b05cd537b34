import { chunkTopicMessages, messageBytes } from '../../services/shared/boundedSend';

describe('chunkTopicMessages', () => {
  const message = (bytes: number) => ({ key: 'k', value: Buffer.alloc(bytes) });

  it('keeps every chunk under the bound, in order, losing nothing', () => {
    const topicMessages = [
      { topic: 'a', messages: Array.from({ length: 100 }, () => message(1000)) },
      { topic: 'b', messages: Array.from({ length: 50 }, () => message(3000)) },
    ];
    const chunks = chunkTopicMessages(topicMessages, 20_000);
    for (const chunk of chunks) expect(chunk.flatMap((t) => t.messages).reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(20_000);
    const flat = chunks.flatMap((chunk) => chunk.flatMap((t) => t.messages.map((m) => ({ topic: t.topic, m }))));
    expect(flat).toHaveLength(150);
    expect(flat.map((f) => f.m)).toEqual(topicMessages.flatMap((t) => t.messages));
    expect(flat.map((f) => f.topic)).toEqual([...Array(100).fill('a'), ...Array(50).fill('b')]);
  });

  it('sends a message larger than the bound alone', () => {
    const chunks = chunkTopicMessages([{ topic: 'dlq', messages: [message(10), message(5_000_000), message(10)] }], 768 * 1024);
    expect(chunks.map((c) => c[0].messages.length)).toEqual([1, 1, 1]);
  });

  it('makes nothing of nothing', () => {
    expect(chunkTopicMessages([], 1000)).toEqual([]);
  });
});
