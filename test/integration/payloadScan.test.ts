// No fragment of any payload ever leaves the projector: every DUIS request of the DCC Reference
// Test Data Set (certificates, tariffs, prices, device secrets) goes in as a payload; party
// topics, the unowned topic, the archive and the logs are then scanned for its contents.
import { TOPICS, partyTopic } from '../../services/shared/contracts';
import { SRV_CATALOGUE } from '../../services/projector/srvCatalogue';
import { loadDuisSamples } from '../../services/cli/duisSamples';
import { auditEvent, ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';
import { drained, readTopics, useHarness, waitFor } from '../support/pipeline';

const harness = useHarness({ env: { OWNERSHIP_WAIT_MS: '1500' } });

/** Distinctive pieces of a payload: text and attribute values long enough not to occur by chance. */
function fragments(xml: string): string[] {
  const values = new Set<string>();
  for (const m of xml.matchAll(/>([^<>]+)</g)) values.add(m[1].trim());
  for (const m of xml.matchAll(/="([^"]+)"/g)) values.add(m[1].trim());
  const titles = [...SRV_CATALOGUE.values()].map((s) => s.title).join('\n');
  return [...values].filter((v) => v.length >= 8 && !/^https?:\/\//.test(v) && !titles.includes(v));
}

test('no payload fragment reaches a party topic, the unowned topic, the archive or the logs', async () => {
  const { samples, source } = loadDuisSamples();
  const now = Date.now();
  const [device, orphan, supplier, distributor] = [randomEui64(), randomEui64(), randomEui64(), randomEui64()];
  const mpan = randomMpan();
  await harness.sendOwnership([
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: now - 86_400_000 }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: now - 86_400_000 }),
    ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: distributor, role: 'ED', effectiveFrom: now - 86_400_000 }),
  ]);
  await drained(harness);

  const owned = samples.map((s, i) =>
    auditEvent({ deviceId: device, originatorId: supplier, serviceReference: s.serviceReference, serviceReferenceVariant: s.serviceReferenceVariant, eventTime: now - 60_000 + i, payload: s.payload }),
  );
  // A tenth of them also for a device nobody owns, so the unowned path is scanned too.
  const unowned = samples
    .filter((_, i) => i % 10 === 0)
    .map((s, i) => auditEvent({ deviceId: orphan, originatorId: supplier, serviceReferenceVariant: s.serviceReferenceVariant, eventTime: now - 60_000 + i, payload: s.payload }));
  // One malformed event carrying a payload: it is logged (without payload) and dead-lettered (with it).
  const rejected = auditEvent({ deviceId: device, originatorId: supplier, requestId: 'malformed', payload: samples[0].payload });
  for (let i = 0; i < owned.length; i += 100) await harness.sendAudit(owned.slice(i, i + 100));
  await harness.sendAudit([...unowned, rejected]);

  const topics = [partyTopic(supplier), partyTopic(distributor)];
  const delivered = await readTopics(harness.kafka, harness.codec, topics, { done: (m) => m.length >= owned.length * 2, timeoutMs: 90_000 });
  expect(delivered).toHaveLength(owned.length * 2);
  const orphaned = await readTopics(harness.kafka, harness.codec, [TOPICS.unowned], { filter: (m) => m.value.deviceId === orphan, done: (m) => m.length >= unowned.length, timeoutMs: 30_000 });
  expect(orphaned).toHaveLength(unowned.length);
  const archive = harness.app.archive!;
  await waitFor(async () => (await archive.find({ deviceId: orphan })).length === unowned.length, { what: 'unowned records in the archive' });
  await waitFor(async () => (await archive.find({ deviceId: device, limit: 10_000 })).length >= owned.length * 2, { what: 'party copies in the archive' });
  const archived = [...(await archive.find({ deviceId: device, limit: 10_000 })), ...(await archive.find({ deviceId: orphan }))];
  expect(archived).toHaveLength(owned.length * 2 + unowned.length);

  // Control: the scan does find payload fragments where payloads legitimately go (the operators' DLQ).
  const [letter] = await readTopics<Buffer>(harness.kafka, harness.codec, [TOPICS.dlq], {
    raw: true,
    filter: (m) => m.raw!.includes(Buffer.from(rejected.eventId)),
    done: (m) => m.length >= 1,
  });
  const controlFragments = fragments(samples[0].payload.toString('utf8'));
  expect(controlFragments.length).toBeGreaterThan(0);
  for (const fragment of controlFragments) expect(letter.raw!.toString('latin1')).toContain(fragment);
  expect(harness.logs.text).toContain('INVALID_REQUEST_ID');

  const outputs = [
    ...delivered.map((m) => m.raw!.toString('latin1')),
    ...orphaned.map((m) => m.raw!.toString('latin1')),
    JSON.stringify(archived),
    harness.logs.text,
  ].join('\n');
  const leaks: string[] = [];
  let checked = 0;
  for (const sample of samples) {
    for (const fragment of fragments(sample.payload.toString('utf8'))) {
      checked++;
      if (outputs.includes(fragment)) leaks.push(`${sample.name}: ${fragment.slice(0, 40)}`);
    }
  }
  expect(leaks).toEqual([]);
  expect(outputs).not.toMatch(/<\?xml|<sr:|xmlns|BEGIN CERTIFICATE/);
  // The scan must have had something to look for.
  expect(samples.length).toBeGreaterThan(100);
  expect(checked).toBeGreaterThanOrEqual(samples.length * 3);
  console.log(`scanned ${checked} payload fragments from ${samples.length} DUIS requests (${source}) across ${delivered.length + orphaned.length} records, ${archived.length} archive rows and ${harness.logs.lines.length} log lines`);
}, 180_000);
