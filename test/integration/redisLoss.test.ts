// Redis restarted empty, for alert triage: the trigger index and the waiting alerts are gone. The
// stage that finds its marker gone stops (the process would exit); the next start rebuilds the
// index from visibility.records written within the retention, whatever the records' eventTime,
// and the alert that could not be decided meanwhile reaches its supplier with its cause, once.
import { TOPICS, partyTopic, type AlertContext, type AlertEvent } from '../../services/shared/contracts';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, uniqueId } from '../support/fixtures';
import { deleteMatching, drained, readTopic, startHarness, waitFor, type Harness } from '../support/pipeline';

const DAY = 24 * 3600_000;
// Its own deployment: the wipe below must not touch another suite's state.
const env = { GROUP_PREFIX: 'srv-visibility-test-redis-loss', ALERT_WAIT_MS: '60000', ALERT_TRIGGER_RETENTION_MS: '3600000' };

async function contextsOn(h: Harness, partyId: string): Promise<AlertContext[]> {
  const messages = await readTopic<Buffer>(h.kafka, h.codec, partyTopic(partyId), { raw: true, toEnd: true });
  return messages.filter((m) => m.raw && m.raw.readInt32BE(1) === h.ids.alertContext).map((m) => h.codec.decodeSync<AlertContext>(m.raw!, 'AlertContext').value);
}

test('an alert whose trigger was indexed before Redis lost the index finds it after the rebuild (an event days old), exactly once', async () => {
  const [device, mpan, supplier, other] = [randomEui64(), randomMpan(), randomEui64(), randomEui64()];
  // Written now, about an event three days old: the rebuild goes by when records were written.
  const request = auditEvent({ deviceId: device, originatorId: other, originatorRole: 'OU', serviceReference: '6.15', serviceReferenceVariant: '6.15.1', eventTime: Date.now() - 3 * DAY });
  const alert: AlertEvent = { alertId: uniqueId('alert'), alertCode: '0x8F1C', alertKind: 'DEVICE', deviceId: device, eventTime: request.eventTime + 5_000, requestId: request.requestId, recipientId: supplier, payload: Buffer.from('<gbcs:Alert>x</gbcs:Alert>') };

  const first = await startHarness({ env });
  try {
    await first.sendOwnership([
      ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: Date.now() - 30 * DAY }),
      ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: Date.now() - 30 * DAY }),
    ]);
    await first.sendAudit([request]);
    await drained(first);
    const redis = await first.app.runtime.redis('probe');
    await waitFor(async () => (await redis.exists(`triage:{${env.GROUP_PREFIX}}:trigger:${request.eventId}`)) === 1, { what: 'the request indexed' });
    // Redis loses alert triage's state (what a restart with no data does to these keys).
    expect(await deleteMatching(redis, `triage:{${env.GROUP_PREFIX}}:*`)).toBeGreaterThan(0);
    await first.sendRaw(TOPICS.alerts, [{ key: alert.deviceId, value: first.codec.encodeSync(first.ids.alertEvent, alert) }]);
    // Deciding on the lost index would call the alert unexplained: the stage stops instead.
    await waitFor(async () => first.fatal.some((e) => e.name === 'StateLostError'), { what: 'alert triage to stop on the lost index' });
    expect(await contextsOn(first, supplier)).toEqual([]);
  } finally {
    await first.stop();
  }

  const second = await startHarness({ env });
  try {
    expect(second.logs.text).toContain('the trigger index had lost its data: rebuilt from visibility.records');
    let contexts: AlertContext[] = [];
    await waitFor(async () => (contexts = await contextsOn(second, supplier)).length > 0, { what: 'the alert context on the supplier topic' });
    await drained(second);
    contexts = await contextsOn(second, supplier);
    expect(contexts.map((c) => ({ alertId: c.alertId, status: c.status, triggers: c.triggers.map((t) => t.eventId) }))).toEqual([
      { alertId: alert.alertId, status: 'CORRELATED', triggers: [request.eventId] },
    ]);
  } finally {
    await second.stop();
  }
}, 300_000);
