// Alert triage topology, read top to bottom. Two stages in one service:
//   visibility.records -> trigger index in Redis (by device, by request; triggerIndex.ts)
//   sat.alerts (partition p) -> validate (alertValidation.ts; bad alerts to the DLQ) -> drop repeats
//     -> candidates from the index, owners over time from the ownership store
//     -> correlate (correlation.ts, pure)
//        -> publish: one AlertContext per (alertId, recipient), minus those already published
//                    (ledger) -> visibility.party.<recipientId>, and the same bytes (same schema id)
//                    -> visibility.alert-contexts for the archiver (GET /v1/alerts/{alertId})
//        -> wait:    the alert names a request not seen yet: waiting alerts of p
//   every PENDING_SCAN_MS, for each partition p this instance owns: waiting alerts of p
//     -> correlated again; published once the request is there or ALERT_WAIT_MS has passed
// Each batch and each timer step commits in the instance's Kafka transaction (shared/transactions.ts)
// with p's offsets; the ledger and the waiting alerts change from an intent the commit witnesses (shared/deliveryState.ts),
// as in the fan-out.
import type { Admin } from '../shared/kafka';
import { readToEnd } from '../shared/topicReader';
import { sendBounded, type Sender } from '../shared/boundedSend';
import { TOPICS, partyTopic, type AlertEvent, type VisibilityRecord } from '../shared/contracts';
import { committedPositions, startNewGroupAtTime } from '../shared/groups';
import { DeliveryState, checkChangelogPartitions, emptyDelta, type StateDelta } from '../shared/deliveryState';
import { resolveOwners } from '../shared/ownership';
import { OwnershipReader } from '../shared/ownershipStore';
import { PartyTopics } from '../shared/partyTopics';
import { Punctuator } from '../shared/punctuator';
import type { Runtime } from '../shared/runtime';
import { stageSettings, startStage, type RunningStage } from '../shared/stage';
import { validateAlertEvent } from './alertValidation';
import { correlateAlert, type AlertContext, type AlertFacts, type CorrelationConfig } from './correlation';
import { TriggerIndex } from './triggerIndex';

export const ALERT_TRIAGE = 'alert-triage';
export const ALERT_TRIGGERS = 'alert-triggers';
/** Bound on one timer step, so no partition's lock waits long. */
const WAITING_PER_STEP = 2_000;

const waitingId = (alert: AlertFacts) => `${alert.alertId}|${alert.recipientId}`;

export interface RunningAlertTriage extends RunningStage {
  triggers: RunningStage;
  state: DeliveryState<AlertFacts>;
  /** Runs the timer work (waiting alerts) on every owned partition now. */
  punctuate(): Promise<void>;
}

export async function startAlertTriage(runtime: Runtime): Promise<RunningAlertTriage> {
  const { config, codec, schemaIds, metrics, logger } = runtime;
  const log = logger.child({ stage: ALERT_TRIAGE });
  const redis = await runtime.redis(ALERT_TRIAGE);
  const namespace = `triage:{${config.groupPrefix}}`;
  const index = new TriggerIndex(redis, namespace, config.alertTriggerRetentionMs);
  const state = new DeliveryState<AlertFacts>(redis, config.dedupTtlSeconds, namespace, waitingId, { kafka: runtime.kafka, topic: TOPICS.alertTriageWaiting, maxSendBytes: config.maxSendBytes });
  const ownership = new OwnershipReader(redis, { requireInitialised: true });
  const admin: Admin = runtime.kafka.admin();
  await admin.connect();
  await checkChangelogPartitions(admin, TOPICS.alertTriageWaiting, TOPICS.alerts);
  const partyTopics = new PartyTopics(admin, config.topicReplicationFactor, log, config.partyTopicPartitions);
  const correlation: CorrelationConfig = { lookbackMs: config.alertLookbackMs, maxWindowTriggers: config.alertMaxWindowTriggers, disclosure: config.originatorDisclosure };

  // Records older than the retention could never be triggers: a new deployment starts there.
  const triggerSettings = stageSettings(config, ALERT_TRIGGERS);
  const startFrom = Date.now() - config.alertTriggerRetentionMs;
  if (config.consumeFrom === 'earliest' && (await startNewGroupAtTime(runtime.kafka, triggerSettings.groupId, TOPICS.visibilityRecords, startFrom))) {
    log.info({ retentionMs: config.alertTriggerRetentionMs }, 'trigger index starts at visibility.records written within the retention');
  }
  const rebuilt = await restoreTriggerIndex(runtime, index, triggerSettings.groupId, config.alertTriggerRetentionMs);
  if (rebuilt !== undefined) log.warn({ records: rebuilt }, 'the trigger index had lost its data: rebuilt from visibility.records within the retention');
  const triggers = await startStage(runtime.stageEnvironment(), {
    ...triggerSettings,
    topic: TOPICS.visibilityRecords,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    parse: (source) => codec.decodeSync<VisibilityRecord>(source.value, 'VisibilityRecord').value,
    handle: async (batch) => {
      await index.add(batch.map((b) => b.value));
      return undefined;
    },
  });

  /** Correlates each alert now: what to publish, and which must go on waiting. */
  async function decide(alerts: AlertFacts[], waitExpired: (alert: AlertFacts) => boolean) {
    const candidates = await index.candidates(alerts, config.alertLookbackMs);
    const { devices, mpxns } = await ownership.load(alerts.map((a) => a.deviceId));
    const publish: AlertContext[] = [];
    const wait: AlertFacts[] = [];
    alerts.forEach((alert, i) => {
      const ownersAt = (time: number) => {
        const resolution = resolveOwners(devices.get(alert.deviceId), mpxns, time);
        return resolution.status === 'owned' ? resolution.owners : ('unknown' as const);
      };
      const decision = correlateAlert({ alert, candidates: candidates[i], ownersAt, waitExpired: waitExpired(alert) }, correlation);
      if (decision.kind === 'publish') publish.push(decision.context);
      else wait.push(alert);
    });
    return { publish, wait };
  }

  /**
   * Writes the contexts not yet published (ledger) to their recipients' topics, and each also to
   * visibility.alert-contexts in the same transaction: the archive holds exactly what recipients
   * got, and nothing of an aborted attempt. Returns those written.
   */
  async function publish(sender: Sender, contexts: AlertContext[]): Promise<AlertContext[]> {
    if (contexts.length === 0) return [];
    const published = await state.deliveredTo(contexts.map((c) => c.alertId));
    const fresh = contexts.filter((c) => !published.get(c.alertId)?.has(c.recipientPartyId));
    metrics.duplicates.inc(contexts.length - fresh.length);
    if (fresh.length === 0) return [];
    await partyTopics.ensure(fresh.map((c) => c.recipientPartyId));
    const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
    const archived: Array<{ key: string; value: Buffer }> = [];
    for (const context of fresh) {
      const topic = partyTopic(context.recipientPartyId);
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      const value = codec.encodeSync(schemaIds.alertContext, context);
      byTopic.get(topic)!.push({ key: context.deviceId, value });
      // Keyed by alertId: every recipient's context of an alert on one partition, in order.
      archived.push({ key: context.alertId, value });
    }
    byTopic.set(TOPICS.alertContexts, archived);
    await sendBounded(sender, [...byTopic].map(([topic, messages]) => ({ topic, messages })), config.maxSendBytes);
    return fresh;
  }



  const counted = (contexts: AlertContext[]) => {
    for (const c of contexts) metrics.alertContexts.inc({ status: c.status });
    metrics.produced.inc({ service: ALERT_TRIAGE, destination: 'party' }, contexts.length);
  };

  const stage = await startStage(runtime.stageEnvironment(), {
    ...stageSettings(config, ALERT_TRIAGE),
    topic: TOPICS.alerts,
    prepare: (messages) => codec.prefetch(messages.map((m) => m.value)),
    // The payload is decoded (it is in the record) but never leaves validation: named fields only.
    parse: (source) => validateAlertEvent(codec.decodeSync<Partial<AlertEvent>>(source.value, 'AlertEvent').value, { now: Date.now(), maxFutureSkewMs: config.maxFutureSkewMs }),
    handle: async (batch, sender, context) => {
      const unique = new Map<string, AlertFacts>();
      for (const { value } of batch) if (!unique.has(waitingId(value))) unique.set(waitingId(value), value);
      metrics.duplicates.inc(batch.length - unique.size);
      const decided = await decide([...unique.values()], () => false);
      const published = await publish(sender, decided.publish);
      const delta: StateDelta<AlertFacts> = emptyDelta();
      delta.delivered = published.map((c) => [c.alertId, [c.recipientPartyId]]);
      const deadline = Date.now() + config.alertWaitMs;
      delta.pendingAdded = decided.wait.map((alert) => ({ record: alert, deadline }));
      return state.changeOnCommit(context, sender, delta, () => {
        counted(published);
        metrics.alertsWaiting.inc(decided.wait.length);
      });
    },
    unresolvedTransaction: (partition) => state.intentTransaction(partition),
    recover: async (partition, witness) => {
      const restored = await state.restore(partition, witness?.transactionId != null);
      if (restored > 0) log.warn({ partition, restored }, 'Redis had lost the alerts waiting for their trigger: restored from the changelog');
      const outcome = await state.recover(partition, witness?.transactionId ?? null);
      if (outcome !== 'none') log.info({ partition, outcome }, 'state of an interrupted transaction recovered');
    },
  });

  /** Partition p's waiting alerts: published once their request is there, or their wait is over. */
  async function scanWaiting(partition: number): Promise<void> {
    await stage.runOnPartition<{ contexts: AlertContext[]; done: string[] }>(
      partition,
      async () => {
        const waiting = await state.pending(partition, WAITING_PER_STEP);
        if (waiting.length === 0) return undefined;
        const now = Date.now();
        const deadlines = new Map(waiting.map((w) => [waitingId(w.record), w.deadline]));
        const { publish: contexts } = await decide(waiting.map((w) => w.record), (alert) => deadlines.get(waitingId(alert))! <= now);
        if (contexts.length === 0) return undefined;
        return { contexts, done: contexts.map((c) => `${c.alertId}|${c.recipientPartyId}`) };
      },
      async ({ contexts, done }, sender, context) => {
        const published = await publish(sender, contexts);
        const delta: StateDelta<AlertFacts> = emptyDelta();
        delta.delivered = published.map((c) => [c.alertId, [c.recipientPartyId]]);
        delta.pendingRemoved = done;
        return state.changeOnCommit(context, sender, delta, () => {
          counted(published);
          metrics.alertsWaiting.dec(done.length);
          log.info({ partition, published: published.length }, 'waiting alerts published');
        });
      },
    );
  }

  const punctuator = new Punctuator(config.pendingScanMs, () => stage.assigned(), scanWaiting, log);
  punctuator.start();

  return {
    ...stage,
    joined: Promise.all([stage.joined, triggers.joined]).then(() => undefined),
    triggers,
    state,
    punctuate: () => punctuator.runOnce(),
    healthy: () => stage.healthy() && triggers.healthy(),
    stop: async () => {
      await punctuator.stop();
      await stage.stop();
      await triggers.stop();
      await admin.disconnect();
    },
  };
}

/**
 * Before the trigger stage consumes: if the index lost its data (Redis restarted empty) while the
 * stage had committed (its offsets carry a transaction id), the records it had indexed are read
 * again from visibility.records written within the retention (idempotent writes). A deployment's
 * first start has nothing to rebuild. Returns the records re-indexed, or undefined if none were needed.
 */
async function restoreTriggerIndex(runtime: Runtime, index: TriggerIndex, groupId: string, retentionMs: number): Promise<number | undefined> {
  if (await index.ready()) return undefined;
  const committed = await committedPositions(runtime.kafka, groupId, TOPICS.visibilityRecords);
  let records: number | undefined;
  if ([...committed.values()].some((p) => p.metadata)) {
    records = 0;
    // Records written (Kafka timestamp) within the retention, whatever their eventTime: what the stage indexed.
    const from = Date.now() - retentionMs;
    await readToEnd(
      runtime.kafka,
      [TOPICS.visibilityRecords],
      async ({ messages }) => {
        await runtime.codec.prefetch(messages.map((m) => m.value));
        const batch = messages.filter((m) => m.value).map((m) => runtime.codec.decodeSync<VisibilityRecord>(m.value!, 'VisibilityRecord').value);
        await index.add(batch, { rebuilding: true });
        records! += batch.length;
      },
      { fromTimestamp: from, failOnTimeout: true, timeoutMs: 600_000 },
    );
  }
  await index.markReady();
  return records;
}
