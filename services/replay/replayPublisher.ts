// Writes a replay's batches: each batch of replayed copies and the checkpoint that says how far the
// replay got, in one Kafka transaction. The transactional id names the replay, so connecting fences
// an earlier run of the same replay (killed, or still running) and aborts its open transaction;
// the last committed checkpoint is then read back and the replay goes on from it. A read_committed
// reader of the party topic therefore sees each replayed copy once, however often a run is killed.
import { sendBounded } from '../shared/boundedSend';
import type { Config } from '../shared/config';
import { TOPICS, partyTopic, type VisibilityRecord } from '../shared/contracts';
import { createProducer, type Admin, type Kafka, type Producer } from '../shared/kafka';
import type { Logger } from '../shared/logger';
import { PartyTopics } from '../shared/partyTopics';
import { AvroCodec, PARTY_TOPIC_SUBJECT } from '../shared/schemaRegistry';
import { readToEnd } from '../shared/topicReader';
import { ensureTopics, topicLayout } from '../shared/topics';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './replayPlan';

/** What the runner needs from Kafka; tests of the runner use this same adapter on the real stack. */
export interface ReplaySink {
  /** The last committed checkpoint of this replay, or null if it never committed one. */
  lastCheckpoint(): Promise<Checkpoint | null>;
  /** Publishes the copies and the checkpoint in one transaction. */
  publish(records: VisibilityRecord[], checkpoint: Checkpoint): Promise<void>;
  close(): Promise<void>;
}

export function replayTransactionalId(config: Config, replayId: string): string {
  return `${config.transactionalIdPrefix}-replay-${replayId}`;
}

export class ReplayPublisher implements ReplaySink {
  private partyTopicReady = false;

  private constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly partyTopics: PartyTopics,
    private readonly producer: Producer,
    private readonly codec: AvroCodec,
    private readonly schemaId: number,
    private readonly replayId: string,
    private readonly partyId: string,
    private readonly maxSendBytes: number,
  ) {}

  /** Creates the progress topic if missing, registers the party schema, and fences earlier runs of this replay. */
  static async open(options: { config: Config; kafka: Kafka; codec: AvroCodec; logger: Logger; replayId: string; partyId: string }): Promise<ReplayPublisher> {
    const { config, kafka, codec, logger, replayId, partyId } = options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const progress = topicLayout({ replicationFactor: config.topicReplicationFactor }).filter((t) => t.topic === TOPICS.replayProgress);
      await ensureTopics(admin, progress, logger);
      // The fan-out's copies are registered under the record-name subject shared by party topics.
      const schemaId = await codec.register('VisibilityRecord', PARTY_TOPIC_SUBJECT);
      const producer = createProducer(kafka, replayTransactionalId(config, replayId));
      await producer.connect();
      const partyTopics = new PartyTopics(admin, config.topicReplicationFactor, logger, config.partyTopicPartitions);
      return new ReplayPublisher(kafka, admin, partyTopics, producer, codec, schemaId, replayId, partyId, config.maxSendBytes);
    } catch (error) {
      await admin.disconnect();
      throw error;
    }
  }

  async lastCheckpoint(): Promise<Checkpoint | null> {
    let last: Checkpoint | null = null;
    const key = Buffer.from(this.replayId);
    await readToEnd(
      this.kafka,
      [TOPICS.replayProgress],
      ({ messages }) => {
        for (const m of messages) {
          if (!m.key || !key.equals(m.key)) continue;
          // A tombstone (null value) forgets the replay; anything else undecodable is ignored.
          last = m.value === null ? null : (decodeCheckpoint(m.value) ?? last);
        }
      },
      { timeoutMs: 60_000, failOnTimeout: true },
    );
    return last;
  }

  async publish(records: VisibilityRecord[], checkpoint: Checkpoint): Promise<void> {
    // The party's topic is made only when there is something to put on it (a mistyped party id
    // with nothing archived creates no topic).
    if (records.length > 0 && !this.partyTopicReady) {
      await this.partyTopics.ensure([this.partyId]);
      this.partyTopicReady = true;
    }
    const transaction = await this.producer.transaction();
    try {
      // Keyed by device, encoded with the party schema id: exactly as the fan-out writes copies.
      const copies = records.map((record) => ({ key: record.deviceId, value: this.codec.encodeSync(this.schemaId, record) }));
      await sendBounded(
        transaction,
        [
          ...(copies.length ? [{ topic: partyTopic(this.partyId), messages: copies }] : []),
          { topic: TOPICS.replayProgress, messages: [{ key: this.replayId, value: encodeCheckpoint(checkpoint) }] },
        ],
        this.maxSendBytes,
      );
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}
