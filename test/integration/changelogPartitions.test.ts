// The waiting-items changelog must have a partition for every input partition (items are logged to
// their input partition): a stage refuses to start otherwise, saying what to do. On the real broker.
import { checkChangelogPartitions } from '../../services/shared/deliveryState';
import { TOPICS } from '../../services/shared/contracts';
import { createKafka } from '../../services/shared/kafka';
import { createLogger } from '../../services/shared/logger';
import { uniqueId } from '../support/fixtures';
import { testConfig, waitFor } from '../support/pipeline';

test('a changelog with fewer partitions than its input is refused with a clear message; the provisioned layout passes', async () => {
  const kafka = createKafka(testConfig(), createLogger('error', 'changelog-partitions'), 'srv-visibility-test-changelog-partitions');
  const admin = kafka.admin();
  await admin.connect();
  const [input, changelog] = [uniqueId('test-input'), uniqueId('test-changelog')];
  try {
    await admin.createTopics({ topics: [{ topic: input, numPartitions: 6, replicationFactor: 1 }, { topic: changelog, numPartitions: 3, replicationFactor: 1 }] });
    // A fresh broker answers "unknown topic" for a moment after creating them.
    await waitFor(async () => (await admin.fetchTopicMetadata({ topics: [input, changelog] }).catch(() => [])).length === 2, { what: 'the new topics in the metadata' });
    await expect(checkChangelogPartitions(admin, changelog, input)).rejects.toThrow(`${changelog} has 3 partitions but ${input} has 6: give it as many (kafka-topics --alter --partitions 6)`);
    await expect(checkChangelogPartitions(admin, TOPICS.fanOutWaiting, TOPICS.visibilityRecords)).resolves.toBeUndefined();
    await expect(checkChangelogPartitions(admin, TOPICS.alertTriageWaiting, TOPICS.alerts)).resolves.toBeUndefined();
  } finally {
    await admin.deleteTopics({ topics: [input, changelog] }).catch(() => undefined);
    await admin.disconnect();
  }
});
