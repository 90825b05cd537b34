// Group commit on the real broker: the work of several partitions joins one transaction of the
// instance's one producer. Together they commit (output and every partition's offset, each with
// the transaction's id as witness) or, when one fails, together they abort: nothing of the others
// is visible and no offset moves.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { createKafka, type Consumer, type Kafka } from '../../services/shared/kafka';
import { createLogger } from '../../services/shared/logger';
import { readToEnd } from '../../services/shared/topicReader';
import { InstanceTransactions, type TransactionOutcome } from '../../services/shared/transactions';
import { uniqueId } from '../support/fixtures';
import { testConfig, waitFor } from '../support/pipeline';

const logger = createLogger('error', 'instance-transactions');
let kafka: Kafka;
let consumer: Consumer;
let transactions: InstanceTransactions;
const outcomes: Array<{ outcome: TransactionOutcome; members: number }> = [];
const [input, output, group] = [uniqueId('test-txn-input'), uniqueId('test-txn-output'), uniqueId('test-txn-group')];

async function committedValues(): Promise<string[]> {
  const values: string[] = [];
  await readToEnd(kafka, [output], ({ messages }) => void values.push(...messages.map((m) => m.value!.toString('utf8'))), { timeoutMs: 20_000 });
  return values.sort();
}

async function committedOffsets(): Promise<Array<{ partition: number; offset: string | null; metadata: string | null }>> {
  const entries = await consumer.committed([0, 1].map((partition) => ({ topic: input, partition })), 20_000);
  return entries.map((e) => ({ partition: e.partition, offset: e.offset as string | null, metadata: (e as { metadata?: string | null }).metadata ?? null }));
}

beforeAll(async () => {
  kafka = createKafka(testConfig(), logger, 'srv-visibility-test-instance-transactions');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: input, numPartitions: 2, replicationFactor: 1 }, { topic: output, numPartitions: 1, replicationFactor: 1 }] });
  await waitFor(async () => (await admin.fetchTopicMetadata({ topics: [input, output] }).catch(() => [])).length === 2, { what: 'the new topics in the metadata' });
  await admin.disconnect();
  // A member of a real group: offsets are sent with its generation.
  let assigned = false;
  consumer = kafka.consumer({
    kafkaJS: { groupId: group, fromBeginning: true, autoCommit: false },
    rebalance_cb: (error: { code: number }) => void (assigned = error.code === KafkaJS.ErrorCodes.ERR__ASSIGN_PARTITIONS),
  } as never);
  await consumer.connect();
  await consumer.subscribe({ topics: [input] });
  await consumer.run({ eachBatch: async () => undefined });
  await waitFor(async () => assigned, { what: 'the consumer to join its group' });
  transactions = new InstanceTransactions({
    kafka,
    transactionalId: uniqueId('test-txn'),
    consumer,
    logger,
    onOutcome: (outcome, members) => outcomes.push({ outcome, members }),
    maxOpenMs: 2_000,
  });
});

afterAll(async () => {
  await transactions?.close();
  await consumer?.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [input, output] }).catch(() => undefined);
  await admin.disconnect();
});

test('when one partition\'s work fails, the other partition\'s work in the same transaction aborts too: no record visible, no offset moved', async () => {
  outcomes.length = 0;
  const failure = new Error('partition 1 failed');
  const [zero, one] = await Promise.allSettled([
    transactions.run([{ topic: input, partition: 0, offset: '10' }], async (transaction) => {
      await transaction.send({ topic: output, messages: [{ value: 'aborted-0' }] });
    }),
    transactions.run([{ topic: input, partition: 1, offset: '20' }], async (transaction) => {
      await transaction.send({ topic: output, messages: [{ value: 'aborted-1' }] });
      throw failure;
    }),
  ]);
  expect(one).toEqual({ status: 'rejected', reason: failure });
  // The innocent member learns why its work did not commit.
  expect(zero).toEqual({ status: 'rejected', reason: failure });
  expect(outcomes).toEqual([{ outcome: 'aborted', members: 2 }]);
  expect(await committedValues()).toEqual([]);
  const offsets = (await committedOffsets()).map((o) => o.offset);
  expect(offsets).not.toContain('10');
  expect(offsets).not.toContain('20');
});

test('a send that fails part-way (a record the client refuses) fails its member once what was queued is settled, and nothing of the transaction is visible', async () => {
  outcomes.length = 0;
  const tooLarge = Buffer.alloc(18 * 1024 * 1024); // over the producer's message.max.bytes (17 MiB)
  await expect(
    transactions.run([{ topic: input, partition: 0, offset: '30' }], async (sender) => {
      await sender.sendBatch({ topicMessages: [{ topic: output, messages: [{ value: 'queued-before-the-refusal' }, { value: tooLarge }] }] });
    }),
  ).rejects.toThrow(/too large|size/i);
  expect(outcomes).toEqual([{ outcome: 'aborted', members: 1 }]);
  expect(await committedValues()).toEqual([]);
  expect((await committedOffsets()).map((o) => o.offset)).not.toContain('30');
});

test('the work of two partitions commits in one transaction: both outputs visible, both offsets with its id as witness', async () => {
  outcomes.length = 0;
  const results = await Promise.all([
    transactions.run([{ topic: input, partition: 0, offset: '11' }], async (transaction) => {
      await transaction.send({ topic: output, messages: [{ value: 'committed-0' }] });
      return 'zero';
    }),
    transactions.run([{ topic: input, partition: 1, offset: '21' }], async (transaction) => {
      await transaction.send({ topic: output, messages: [{ value: 'committed-1' }] });
      return 'one';
    }),
  ]);
  expect(results.map((r) => r.result)).toEqual(['zero', 'one']);
  expect(results[0]!.transactionId).toBe(results[1]!.transactionId);
  expect(outcomes).toEqual([{ outcome: 'committed', members: 2 }]);
  expect(await committedValues()).toEqual(['committed-0', 'committed-1']);
  expect(await committedOffsets()).toEqual([
    { partition: 0, offset: '11', metadata: results[0]!.transactionId },
    { partition: 1, offset: '21', metadata: results[0]!.transactionId },
  ]);
});

test('work that arrives while a transaction is committing goes into the next one', async () => {
  outcomes.length = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const first = transactions.run([{ topic: input, partition: 0, offset: '12' }], async (transaction) => {
    await transaction.send({ topic: output, messages: [{ value: 'first' }] });
    await held;
  });
  // The first transaction stops admitting after maxOpenMs (2 s); work arriving later waits for the next.
  await new Promise((resolve) => setTimeout(resolve, 2_300));
  const second = transactions.run([{ topic: input, partition: 1, offset: '22' }], async (transaction) => {
    await transaction.send({ topic: output, messages: [{ value: 'second' }] });
  });
  release();
  const [a, b] = await Promise.all([first, second]);
  expect(a.transactionId).not.toBe(b.transactionId);
  expect(outcomes).toEqual([
    { outcome: 'committed', members: 1 },
    { outcome: 'committed', members: 1 },
  ]);
  expect(await committedOffsets()).toEqual([
    { partition: 0, offset: '12', metadata: a.transactionId },
    { partition: 1, offset: '22', metadata: b.transactionId },
  ]);
});
