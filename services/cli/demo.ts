// npm run demo: the services on the local stack, a small realistic estate, real DUIS requests as
// payloads, and what each party receives, printed as it arrives.
import { startApp } from '../app';
import { loadConfig } from '../shared/config';
import { startGroupsAtEnd } from '../shared/groups';
import { createKafka } from '../shared/kafka';
import { partyTopic, type AuditEvent, type OwnerRole, type OwnershipEvent, type UserRole, type VisibilityRecord } from '../shared/contracts';
import { createLogger } from '../shared/logger';
import { lookupSrv } from '../projector/projection';
import { TOPICS } from '../shared/contracts';
import { loadDuisSamples } from './duisSamples';
import type { AlertContext } from '../shared/contracts';
import type { AlertEvent } from '../shared/contracts';

/** "alert 0x8F70 (…) to Northern: caused by 6.15.1 … sent by an OU at 13:39, not by you". */
function describeAlert(context: AlertContext, recipient: string): string {
  const head = `alert ${context.alertCode} (${context.alertTitle}) to ${recipient}`;
  if (context.status !== 'CORRELATED') return `${head}: ${context.status === 'NO_TRIGGER_FOUND' ? 'no triggering request found' : 'a request caused it, but not one you may see'}`;
  const request = context.triggers.find((t) => t.messageType === 'SERVICE_REQUEST') ?? context.triggers[0];
  const at = new Date(request.eventTime).toISOString().slice(11, 16);
  const by = request.sentByRecipient ? 'by you' : `by an ${request.originatorRole} at ${at} UTC, not by you`;
  return `${head}: caused by ${request.serviceReferenceVariant} ${request.srvTitle} sent ${by}${request.flags.length ? ` [${request.flags.join(', ')}]` : ''}`;
}

const DAY = 24 * 3600_000;
const PARTIES = {
  'Bright Energy (supplier)': '90-B3-D5-1F-30-01-00-00',
  'Northern Power (supplier)': '90-B3-D5-1F-30-02-00-00',
  'Gridline Distribution (DNO)': '90-B3-D5-1F-30-0E-00-00',
  'Gasway Transport (GT)': '90-B3-D5-1F-30-0F-00-00',
  'Meter Ops Ltd (other user)': '90-B3-D5-1F-30-AA-00-00',
};
const name = Object.fromEntries(Object.entries(PARTIES).map(([k, v]) => [v, k]));
const [BRIGHT, NORTHERN, GRID, GAS, METEROPS] = Object.values(PARTIES);

async function demo(): Promise<void> {
  // A deployment of its own per run, its groups started at the topics' current end: the demo shows
  // its own traffic, not whatever earlier runs and tests left on a long-lived local stack.
  const prefix = `srv-visibility-demo-${Date.now().toString(36)}`;
  const config = loadConfig({ LOG_LEVEL: 'warn', OWNERSHIP_WAIT_MS: '5000', PENDING_SCAN_MS: '500', ...process.env, GROUP_PREFIX: prefix });
  const logger = createLogger(config.logLevel, 'demo');
  await startGroupsAtEnd(createKafka(config, createLogger('error', 'demo-setup')), prefix);
  const started = Date.now();
  console.log('starting the projector, ownership projector, fan-out, archiver and alert triage ...');
  const app = await startApp({ config, logger });
  await app.ready();
  const { kafka, codec, schemaIds, producer } = app.runtime;
  console.log(`services up in ${((Date.now() - started) / 1000).toFixed(1)} s; health and metrics on http://${config.httpHost}:${app.httpPort}/health and /metrics\n`);

  const run = Date.now().toString(16).slice(-6).toUpperCase().padStart(6, '0');
  const dev = (n: number) => `00-DB-${run.slice(0, 2)}-${run.slice(2, 4)}-${run.slice(4, 6)}-00-00-0${n}`;
  const now = Date.now();
  const mpanA = `10${String(now).slice(-11)}`;
  const mpanB = `11${String(now).slice(-11)}`;
  const mprnB = String(now).slice(-9);
  const hubA = dev(1), meterA = dev(2), hubB = dev(3), elecB = dev(4), gasB = dev(5);
  const cos = now - 2 * DAY;

  const own = (e: Partial<OwnershipEvent> & Pick<OwnershipEvent, 'type' | 'mpxn'>): OwnershipEvent => ({
    eventId: `demo-own-${run}-${Math.random().toString(36).slice(2)}`, deviceId: null, deviceType: null, partyId: null, role: null, effectiveFrom: now - 60 * DAY, ...e,
  });
  const ownership: OwnershipEvent[] = [
    // Premises A: electricity only; Bright supplies until a Change of Supplier to Northern two days ago.
    own({ type: 'DEVICE_ASSOCIATED', mpxn: mpanA, deviceId: hubA, deviceType: 'CHF' }),
    own({ type: 'DEVICE_ASSOCIATED', mpxn: mpanA, deviceId: meterA, deviceType: 'ESME' }),
    own({ type: 'SUPPLIER_REGISTERED', mpxn: mpanA, partyId: BRIGHT, role: 'IS' }),
    own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpanA, partyId: GRID, role: 'ED' }),
    own({ type: 'SUPPLIER_REGISTERED', mpxn: mpanA, partyId: NORTHERN, role: 'IS', effectiveFrom: cos }),
    // Premises B: dual fuel with Northern for both fuels.
    own({ type: 'DEVICE_ASSOCIATED', mpxn: mpanB, deviceId: hubB, deviceType: 'CHF' }),
    own({ type: 'DEVICE_ASSOCIATED', mpxn: mprnB, deviceId: hubB, deviceType: 'CHF' }),
    own({ type: 'DEVICE_ASSOCIATED', mpxn: mpanB, deviceId: elecB, deviceType: 'ESME' }),
    own({ type: 'DEVICE_ASSOCIATED', mpxn: mprnB, deviceId: gasB, deviceType: 'GSME' }),
    own({ type: 'SUPPLIER_REGISTERED', mpxn: mpanB, partyId: NORTHERN, role: 'IS' }),
    own({ type: 'SUPPLIER_REGISTERED', mpxn: mprnB, partyId: NORTHERN, role: 'GS' }),
    own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpanB, partyId: GRID, role: 'ED' }),
    own({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mprnB, partyId: GAS, role: 'GT' }),
  ];
  await producer.send({ topic: TOPICS.ownershipEvents, messages: ownership.map((e) => ({ key: e.mpxn, value: codec.encodeSync(schemaIds.ownershipEvent, e) })) });
  console.log(`registered 5 devices on 3 MPxNs (${ownership.length} ownership events); Change of Supplier on ${mpanA} at ${new Date(cos).toISOString()}`);

  const { source, samples } = loadDuisSamples();
  const pick = (variant: string) => samples.find((s) => s.serviceReferenceVariant === variant) ?? samples[0];
  let counter = 1000;
  const audit = (deviceId: string, originatorId: string, originatorRole: UserRole, variant: string, eventTime: number, extra: Partial<AuditEvent> = {}): AuditEvent => {
    const sample = pick(variant);
    counter += 1;
    return {
      eventId: `demo-${run}-${counter}`, messageType: 'SERVICE_REQUEST', requestId: `${originatorId}:${deviceId}:${counter}`,
      serviceReference: sample.serviceReference, serviceReferenceVariant: variant, deviceId, originatorId, originatorRole,
      eventTime, responseCode: null, payload: sample.payload, ...extra,
    };
  };
  const events: AuditEvent[] = [
    audit(meterA, BRIGHT, 'IS', '1.1.1', cos - DAY),
    audit(meterA, METEROPS, 'OU', '4.8.1', cos - DAY / 2),
    audit(hubA, GRID, 'ED', '11.2', cos - 3600_000),
    audit(meterA, NORTHERN, 'IS', '6.15.1', cos + 3600_000),
    audit(meterA, NORTHERN, 'IS', '6.15.1', cos + 3600_500, { messageType: 'SERVICE_RESPONSE', responseCode: 'I0' }),
    audit(meterA, METEROPS, 'OU', '7.1', cos + DAY),
    audit(hubB, NORTHERN, 'IS', '8.2', now - DAY),
    audit(gasB, NORTHERN, 'GS', '2.2', now - DAY / 2),
    audit(elecB, METEROPS, 'OU', '4.8.1', now - 3600_000),
    audit(elecB, METEROPS, 'OU', '42.1', now - 1800_000),
  ];
  // MP141's story: another User updates the security credentials on Northern's meter, and the
  // meter raises an alert to Northern, its supplier, which did not send anything.
  const trigger = audit(meterA, METEROPS, 'OU', '6.15.1', now - 10 * 60_000);
  events.push(trigger);
  const raised: AlertEvent = {
    alertId: `demo-alert-${run}`, alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: meterA, eventTime: trigger.eventTime + 4_000,
    requestId: trigger.requestId, recipientId: NORTHERN, payload: Buffer.from('<gbcs:AlertPayload>confidential</gbcs:AlertPayload>'),
  };
  console.log(`sending ${events.length} audit events with real DUIS payloads (${source === 'synthetic' ? 'synthetic XML' : `from ${source}`})\n`);
  await producer.send({ topic: TOPICS.auditEvents, messages: events.map((e) => ({ key: e.requestId, value: codec.encodeSync(schemaIds.auditEvent, e) })) });
  await producer.send({ topic: TOPICS.alerts, messages: [{ key: raised.deviceId, value: codec.encodeSync(schemaIds.alertEvent, raised) }] });
  console.log(`meter ${meterA} raises alert ${raised.alertCode} to Northern Power about request ${raised.requestId}\n`);

  // Expected copies, from the ownership above (two owners per event on premises A and on the
  // electricity meter of B, three on B's hub, two on B's gas meter): the demo waits for them.
  const expected = 2 * 7 + 3 + 2 + 2 * 2;
  const contexts: AlertContext[] = [];
  const received: VisibilityRecord[] = [];
  const reader = kafka.consumer({ kafkaJS: { groupId: `srv-visibility-demo-reader-${run}`, maxWaitTimeInMs: 200, fromBeginning: true } });
  await reader.connect();
  const topics = [BRIGHT, NORTHERN, GRID, GAS].map(partyTopic);
  const admin = kafka.admin();
  await admin.connect();
  for (let i = 0; i < 100; i++) {
    const existing = new Set(await admin.listTopics());
    if (topics.every((t) => existing.has(t))) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  await admin.disconnect();
  await reader.subscribe({ topics });
  const done = new Promise<void>((resolve) => {
    void reader.run({
      eachBatch: async ({ batch }) => {
        await codec.prefetch(batch.messages.map((m) => m.value));
        for (const m of batch.messages) {
          // A party topic carries copies and alert contexts (two record types, told apart by schema id).
          if (m.value && m.value.readInt32BE(1) === schemaIds.alertContext) {
            const context = codec.decodeSync<AlertContext>(m.value, 'AlertContext').value;
            if (context.alertId !== raised.alertId) continue;
            contexts.push(context);
            console.log(`\n${describeAlert(context, name[context.recipientPartyId] ?? context.recipientPartyId)}\n`);
            if (received.length >= expected && contexts.length >= 1) resolve();
            continue;
          }
          const record = codec.decodeSync<VisibilityRecord>(m.value, 'VisibilityRecord').value;
          if (!record.eventId.startsWith(`demo-${run}-`)) continue;
          received.push(record);
          const who = record.sentByRecipient ? 'its own request' : `sent by ${record.originatorRole}${record.originatorId ? ` ${record.originatorId}` : ''}`;
          console.log(
            `${(name[record.recipientPartyId!] ?? record.recipientPartyId!).padEnd(28)} as ${(record.recipientRole as OwnerRole).padEnd(2)} <- ` +
              `${record.deviceId} ${new Date(record.eventTime).toISOString().slice(0, 16)} ${record.messageType.padEnd(16)} ` +
              `${record.serviceReferenceVariant.padEnd(6)} ${record.srvTitle}${record.responseCode ? ` [${record.responseCode}]` : ''} (${who})` +
              `${record.flags.length ? ` flags: ${record.flags.join(',')}` : ''}`,
          );
        }
        if (received.length >= expected && contexts.length >= 1) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 60_000)));
  await Promise.race([done, timeout]);
  clearTimeout(timer);
  const elapsed = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n${received.length}/${expected} copies delivered, ${elapsed} s after start. Per party:`);
  for (const [label, id] of Object.entries(PARTIES)) {
    console.log(`  ${label.padEnd(28)} ${received.filter((r) => r.recipientPartyId === id).length}`);
  }
  // The archiver writes the archive just after delivery: give it a few seconds to catch up.
  const onMeterA = received.filter((r) => r.deviceId === meterA).length;
  let archived = await app.archive!.find({ deviceId: meterA });
  for (const until = Date.now() + 10_000; archived.length < onMeterA && Date.now() < until; archived = await app.archive!.find({ deviceId: meterA })) {
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`archive: ${archived.length} copies for ${meterA} (while \`npm start\` runs: GET http://${config.httpHost}:${config.httpPort}/archive?deviceId=${meterA})`);
  console.log(`unknown variant 42.1 is shown as "${lookupSrv('42.1')?.title ?? 'Unknown SRV 42.1'}" with flag UNKNOWN_SRV`);
  await reader.disconnect();
  await app.stop();
  if (received.length < expected || contexts.length < 1) {
    console.error('not every expected copy and alert context arrived within 60 s');
    process.exit(1);
  }
}

demo().catch((error: Error) => {
  console.error(`demo failed: ${error.message}`);
  process.exit(1);
});
