// Projector topology: sat.audit.events -> parse + validate -> project (allow-list) -> visibility.records, keyed by deviceId.
import { TOPICS, type AuditEvent } from '../shared/contracts';
import { DlqReason, RejectedRecord } from '../shared/rejection';
import type { Runtime } from '../shared/runtime';
import { startStage, type RunningStage } from '../shared/stage';
import { projectAuditEvent, validateAuditEvent } from './projection';

export const PROJECTOR = 'projector';

export async function startProjector(runtime: Runtime): Promise<RunningStage> {
  const { config, codec, producer, schemaIds, metrics } = runtime;
  return startStage(
    runtime.kafka,
    producer,
    {
      name: PROJECTOR,
      groupId: `${config.groupPrefix}-${PROJECTOR}`,
      fromBeginning: config.consumeFrom === 'earliest',
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
        await sender.send({
          topic: TOPICS.visibilityRecords,
          acks: -1,
          messages: batch.map(({ value }) => ({
            key: value.deviceId,
            value: codec.encodeSync(schemaIds.visibilityRecord, value),
            timestamp: String(value.eventTime),
          })),
        });
        metrics.produced.inc({ service: PROJECTOR, destination: 'records' }, batch.length);
      },
    },
    runtime.logger,
    metrics,
  );
}
