// Projector topology: sat.audit.events -> parse + validate -> project (allow-list) -> visibility.records, keyed by deviceId.
import { TOPICS, type AuditEvent } from '../shared/contracts';
import { DlqReason, RejectedRecord } from '../shared/rejection';
import type { Runtime } from '../shared/runtime';
import { sendBounded } from '../shared/boundedSend';
import { stageSettings, startStage, type RunningStage } from '../shared/stage';
import { projectAuditEvent, validateAuditEvent } from './projection';

export const PROJECTOR = 'projector';

export async function startProjector(runtime: Runtime): Promise<RunningStage> {
  const { config, codec, schemaIds, metrics } = runtime;
  return startStage(runtime.stageEnvironment(), {
    ...stageSettings(config, PROJECTOR),
    topic: TOPICS.auditEvents,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    parse: (source) => {
      if (source.value && source.value.length > config.maxMessageBytes) {
        throw new RejectedRecord(DlqReason.OVERSIZED, `message is ${source.value.length} bytes; the limit is ${config.maxMessageBytes}`);
      }
      const { value } = codec.decodeSync<Partial<AuditEvent>>(source.value, 'AuditEvent');
      const event = validateAuditEvent(value, { now: Date.now(), maxFutureSkewMs: config.maxFutureSkewMs });
      return projectAuditEvent(event);
    },
    handle: async (batch, sender) => {
      // The Kafka timestamp is the time of writing (the producer's default): retention must count
      // from when a record was written, not from its business time (eventTime, in the record).
      const messages = batch.map(({ value }) => ({ key: value.deviceId, value: codec.encodeSync(schemaIds.visibilityRecord, value) }));
      await sendBounded(sender, [{ topic: TOPICS.visibilityRecords, messages }], config.maxSendBytes);
      metrics.produced.inc({ service: PROJECTOR, destination: 'records' }, batch.length);
    },
  });
}
