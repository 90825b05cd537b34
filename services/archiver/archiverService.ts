// Archiver topology, read top to bottom:
//   visibility.archive (read committed: copies of aborted fan-out transactions never arrive)
//     -> decode -> insert into the ClickHouse archive -> offsets commit (stage transaction)
// A replayed batch inserts the same rows again; the archive's ReplacingMergeTree key
// (deviceId, eventTime, eventId, recipientPartyId) keeps one row per copy, and every read uses
// FINAL, so each (eventId, party) counts once however often a batch is replayed. While the archive
// is down, batches fail and replay; party delivery (the fan-out) goes on regardless.
// A second stage, alert-archiver, does the same for AlertContexts:
//   visibility.alert-contexts (read committed: written in alert triage's transactions with the
//   party-topic copies, so exactly what recipients got) -> alert_context_archive, keyed by
//   (recipientPartyId, alertId), read with FINAL. Its own group and transactional ids, so a
//   slow or failing one never holds the other back.
import { Archive, deliveryOf } from '../shared/archive';
import { TOPICS, type AlertContext, type VisibilityRecord } from '../shared/contracts';
import type { Runtime } from '../shared/runtime';
import { stageSettings, startStage, type RunningStage } from '../shared/stage';

export const ARCHIVER = 'archiver';
export const ALERT_ARCHIVER = 'alert-archiver';

export interface RunningArchiver extends RunningStage {
  archive: Archive;
  /** The alert-archiver stage (visibility.alert-contexts). */
  alerts: RunningStage;
}

export async function startArchiver(runtime: Runtime, archive?: Archive): Promise<RunningArchiver> {
  const { config, codec, metrics } = runtime;
  const store = archive ?? (await Archive.open(config));
  const stage = await startStage(runtime.stageEnvironment(), {
    ...stageSettings(config, ARCHIVER),
    topic: TOPICS.archive,
    // Fewer, larger inserts: each insert is a ClickHouse part to merge later (measured: batches of
    // up to 5,000 halved the archiver's transactions and cut its CPU per 100k events by about a third).
    maxBatchSize: 5_000,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    parse: (source) => codec.decodeSync<VisibilityRecord>(source.value, 'VisibilityRecord').value,
    handle: async (batch) => {
      await store.insert(batch.map(({ value }) => ({ record: value, delivery: deliveryOf(value) })));
      metrics.produced.inc({ service: ARCHIVER, destination: 'archive' }, batch.length);
      return undefined;
    },
  });
  const alerts = await startStage(runtime.stageEnvironment(), {
    ...stageSettings(config, ALERT_ARCHIVER),
    topic: TOPICS.alertContexts,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    parse: (source) => codec.decodeSync<AlertContext>(source.value, 'AlertContext').value,
    handle: async (batch) => {
      await store.insertAlertContexts(batch.map(({ value }) => value));
      metrics.produced.inc({ service: ARCHIVER, destination: 'alert-archive' }, batch.length);
      return undefined;
    },
  });
  return {
    ...stage,
    archive: store,
    alerts,
    joined: Promise.all([stage.joined, alerts.joined]).then(() => undefined),
    healthy: () => stage.healthy() && alerts.healthy(),
    stop: async () => {
      await stage.stop();
      await alerts.stop();
      if (!archive) await store.close();
    },
  };
}
