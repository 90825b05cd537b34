// The device-history page in a real browser (Debian's Chromium, headless, driven by playwright-core)
// against the real pipeline and the lookup service on the local stack: registrations and audit
// events go in upstream, are archived, and a party signs in with a token, looks up its device,
// pages, filters by date, and is told "no such device, or not one of yours" for a device that is
// not its own. Screenshots go to test/browser/screenshots/ (gitignored).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SRV_CATALOGUE } from '../../services/projector/srvCatalogue';
import { loadConfig } from '../../services/shared/config';
import { createLogger } from '../../services/shared/logger';
import { Metrics } from '../../services/shared/metrics';
import { OwnershipReader } from '../../services/shared/ownershipStore';
import { createRedis } from '../../services/shared/redis';
import { TOPICS, type AlertEvent, type AuditEvent, type OwnershipEvent } from '../../services/shared/contracts';
import { ensureSigningKeys, keyPaths, mintToken, readSigningKey } from '../../services/lookup/keys';
import { startLookup, type RunningLookup } from '../../services/lookup/lookupService';
import { auditEvent, ownershipEvent, randomEui64, randomMpan, uniqueId } from '../support/fixtures';
import { drained, useHarness, waitFor } from '../support/pipeline';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = path.join(__dirname, 'screenshots');
const HOUR = 3600_000;
const DAY = 24 * HOUR;

// The stages that put records into the archive (the lookup is started below, over their archive),
// in groups of this suite's own: a suite sharing the test deployment's groups at the same time
// would take some partitions, and archive this suite's records into its own archive.
const harness = useHarness({
  services: ['ownership-projector', 'projector', 'archiver', 'fan-out', 'alert-triage'],
  env: { GROUP_PREFIX: `srv-visibility-test-page-${Date.now().toString(36)}` },
});

// The party's device: 12 events, every 6 hours back from an hour ago (whole seconds, so the page's
// second-precision date filter can name them exactly); every third sent by an Other User.
const [device, otherDevice, supplier, distributor, otherSupplier, otherUser] = Array.from({ length: 6 }, () => randomEui64());
// A device that changed supplier two days ago: the new supplier sees the earlier event flagged BEFORE_OWNERSHIP.
const [cosDevice, previousSupplier, newSupplier] = Array.from({ length: 3 }, () => randomEui64());
const cosAt = Math.floor((Date.now() - 2 * DAY) / 1000) * 1000;
const cosEvents = [
  auditEvent({ deviceId: cosDevice, originatorId: newSupplier, serviceReference: '4.1', serviceReferenceVariant: '4.1.1', eventTime: cosAt + DAY }),
  auditEvent({ deviceId: cosDevice, originatorId: previousSupplier, serviceReference: '2.2', serviceReferenceVariant: '2.2', eventTime: cosAt - DAY }),
];
const newest = Math.floor((Date.now() - HOUR) / 1000) * 1000;
const VARIANTS = ['4.1.1', '2.2', '11.2'];
const events: AuditEvent[] = Array.from({ length: 12 }, (_, i) =>
  i === 4
    ? // A response (addressed to the supplier, which sent the request), with its response code.
      auditEvent({ deviceId: device, originatorId: supplier, messageType: 'SERVICE_RESPONSE', serviceReference: '2.2', serviceReferenceVariant: '2.2', eventTime: newest - i * 6 * HOUR, responseCode: 'I0' })
    : i % 3 === 2
    ? auditEvent({ deviceId: device, originatorId: otherUser, originatorRole: 'OU', serviceReference: '11.2', serviceReferenceVariant: '11.2', eventTime: newest - i * 6 * HOUR })
    : auditEvent({ deviceId: device, originatorId: supplier, originatorRole: 'IS', serviceReference: VARIANTS[i % 3].split('.').slice(0, 2).join('.'), serviceReferenceVariant: VARIANTS[i % 3], eventTime: newest - i * 6 * HOUR, responseCode: null }),
);
// An alert to the supplier on a meter of its own, naming the supplier's request of ten minutes ago
// (within alert triage's trigger index): the page shows it with the request and its response as causes.
const [alertDevice, alertMpan] = [randomEui64(), randomMpan()];
const alertRequest = auditEvent({ deviceId: alertDevice, originatorId: supplier, serviceReference: '6.15', serviceReferenceVariant: '6.15.1', eventTime: Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000 });
const alertResponse = auditEvent({ ...alertRequest, eventId: uniqueId('evt'), messageType: 'SERVICE_RESPONSE', responseCode: 'I0', eventTime: alertRequest.eventTime + 2_000 });
const raisedAlert: AlertEvent = {
  alertId: uniqueId('alert'), alertCode: '0x8F1C', alertKind: 'DEVICE', deviceId: alertDevice, eventTime: alertRequest.eventTime + 3_000,
  requestId: alertRequest.requestId, recipientId: supplier, payload: Buffer.from('<gbcs:Alert>alert-secret-bytes</gbcs:Alert>'),
};
const titleOf = (e: AuditEvent) => SRV_CATALOGUE.get(e.serviceReferenceVariant)!.title;
const senderOf = (e: AuditEvent) => (e.originatorId === supplier ? 'you' : 'other User');

let lookup: RunningLookup;
let redis: ReturnType<typeof createRedis>;
let browser: Browser;
let page: Page;
let baseUrl: string;
let token: string;
let newSupplierToken: string;
const pageErrors: string[] = [];
const consoleErrors: string[] = [];
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'srv-visibility-page-keys-'));

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the page test needs Debian's chromium package (apt-get install chromium; .ci/run installs it), or CHROMIUM_PATH pointing at a Chromium binary`);
  }
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  // Upstream input: the supplier and distributor own the device for the last month; another supplier owns another device.
  const mpan = randomMpan();
  const otherMpan = randomMpan();
  const cosMpan = randomMpan();
  const since = Date.now() - 30 * DAY;
  const ownership: OwnershipEvent[] = [
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: since }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: supplier, role: 'IS', effectiveFrom: since }),
    ownershipEvent({ type: 'NETWORK_OPERATOR_REGISTERED', mpxn: mpan, partyId: distributor, role: 'ED', effectiveFrom: since }),
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: otherMpan, deviceId: otherDevice, deviceType: 'ESME', effectiveFrom: since }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: otherMpan, partyId: otherSupplier, role: 'IS', effectiveFrom: since }),
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: cosMpan, deviceId: cosDevice, deviceType: 'ESME', effectiveFrom: since }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: cosMpan, partyId: previousSupplier, role: 'IS', effectiveFrom: since }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: cosMpan, partyId: newSupplier, role: 'IS', effectiveFrom: cosAt }),
    ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: alertMpan, deviceId: alertDevice, deviceType: 'ESME', effectiveFrom: since }),
    ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: alertMpan, partyId: supplier, role: 'IS', effectiveFrom: since }),
  ];
  await harness.sendOwnership(ownership);
  await drained(harness);
  await harness.sendAudit([...events, ...cosEvents, auditEvent({ deviceId: otherDevice, originatorId: otherSupplier, eventTime: newest })]);
  const archive = harness.app.archive!;
  await waitFor(async () => (await archive.find({ deviceId: device, recipientPartyId: supplier, limit: 100 })).length === events.length, {
    timeoutMs: 90_000,
    what: 'the device history to be archived',
  });
  await waitFor(async () => (await archive.find({ deviceId: otherDevice, limit: 10 })).length > 0, { timeoutMs: 60_000, what: 'the other device to be archived' });
  await waitFor(async () => (await archive.find({ deviceId: cosDevice, limit: 10 })).length === 2, { timeoutMs: 60_000, what: 'the changed-supplier device to be archived' });
  await harness.sendAudit([alertRequest, alertResponse]);
  await drained(harness);
  await harness.sendRaw(TOPICS.alerts, [{ key: alertDevice, value: harness.codec.encodeSync(harness.ids.alertEvent, raisedAlert) }]);
  await waitFor(async () => (await archive.alertContext({ alertId: raisedAlert.alertId, recipientPartyId: supplier, from: 0 })) !== null, {
    timeoutMs: 60_000,
    what: 'the supplier\'s AlertContext to be archived',
  });

  // The lookup service in this process over the pipeline's archive, verifying tokens against a key set of this suite's own.
  await ensureSigningKeys(keyDir);
  const config = loadConfig({ ...process.env, STACK_DIR: keyDir, LOOKUP_JWKS: keyPaths(keyDir).jwks, LOOKUP_HOST: '127.0.0.1', LOOKUP_PORT: '0' });
  const logger = createLogger('warn', 'lookup-page-test', harness.logs);
  redis = createRedis(config, logger, 'lookup-page-test');
  lookup = await startLookup({ config, logger, metrics: new Metrics(false), archive, ownership: new OwnershipReader(redis) });
  baseUrl = `http://127.0.0.1:${lookup.port}`;
  const mint = (subject: string) => mintToken(readSigningKey(keyDir), { subject, operator: false, issuer: config.lookupIssuer, audience: config.lookupAudience, ttlSeconds: 3600 });
  token = await mint(supplier);
  newSupplierToken = await mint(newSupplier);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await lookup?.stop();
  redis?.disconnect();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The table's rows as the user reads them: time, SRV, title, message, critical, role, sent by, code, flags. */
async function rows(): Promise<string[][]> {
  return page.locator('#activity-rows tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
}

/** Submits a lookup and waits for its answer (the table is aria-busy while one is under way). */
async function lookUp(deviceId: string): Promise<void> {
  await page.getByLabel('Device ID').fill(deviceId);
  await page.getByRole('button', { name: 'Look up', exact: true }).click();
  // (A locator, not waitForFunction: the page's CSP rightly refuses evaluated strings.)
  await page.locator('#activity[aria-busy="false"]').waitFor({ state: 'attached' });
}

/** Reads until the check passes (the page answers asynchronously); the last failure if it never does. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const text = (selector: string) => () => page.locator(selector).textContent();

const utcInput = (ms: number) => new Date(ms).toISOString().slice(0, 19);

test('sign in with a token and see the device history, newest first, paged by cursor', async () => {
  const response = await page.goto(baseUrl);
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  await shot('01-sign-in');
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await eventually(text('#who-party'), (v) => expect(v).toBe(supplier));

  await page.getByLabel('Rows per page').selectOption('10');
  await lookUp(device.toLowerCase());
  await eventually(text('#status'), (v) => expect(v).toContain('Page 1 of activity'));
  const first = await rows();
  expect(first).toHaveLength(10);
  expect(first.map((r) => r[2])).toEqual(events.slice(0, 10).map(titleOf));
  expect(first.map((r) => r[6])).toEqual(events.slice(0, 10).map(senderOf));
  expect(first.map((r) => r[1])).toEqual(events.slice(0, 10).map((e) => e.serviceReferenceVariant));
  expect(first[0][0]).toBe(new Date(newest).toISOString().slice(0, 23).replace('T', ' '));
  expect(first.map((r) => r[5])).toEqual(events.slice(0, 10).map((e) => e.originatorRole));
  expect(first[4].slice(3, 8)).toEqual(['Response', 'No', 'IS', 'you', 'I0']);
  expect(first.every((r) => r[8] === '—')).toBe(true);
  await expect(page.locator('#prev-page').isDisabled()).resolves.toBe(true);
  await shot('02-device-history');

  await page.getByRole('button', { name: 'Next page' }).click();
  await eventually(text('#page-label'), (v) => expect(v).toBe('Page 2'));
  const second = await rows();
  expect(second.map((r) => r[2])).toEqual(events.slice(10).map(titleOf));
  expect(second.map((r) => r[6])).toEqual(events.slice(10).map(senderOf));
  await expect(page.locator('#next-page').isDisabled()).resolves.toBe(true);
  await shot('03-page-2');

  await page.getByRole('button', { name: 'Previous page' }).click();
  await eventually(text('#page-label'), (v) => expect(v).toBe('Page 1'));
  expect(await rows()).toEqual(first);
});

test('a date filter shows only the events in [from, to)', async () => {
  // Events 1, 2 and 3: from event 3's time (included) to event 0's (excluded).
  await page.getByLabel('From (UTC)').fill(utcInput(events[3].eventTime));
  await page.getByLabel('To (UTC, not included)').fill(utcInput(events[0].eventTime));
  await lookUp(device);
  await eventually(async () => (await rows()).map((r) => r[2]), (v) => expect(v).toEqual(events.slice(1, 4).map(titleOf)));
  await shot('04-date-filter');
  // from after to: the server's own message.
  await page.getByLabel('From (UTC)').fill(utcInput(events[0].eventTime));
  await page.getByLabel('To (UTC, not included)').fill(utcInput(events[3].eventTime));
  await lookUp(device);
  await eventually(text('#error'), (v) => expect(v).toMatch(/^Not accepted: .*from/i));
  await page.getByRole('button', { name: 'Clear dates' }).click();
});

test('a device that is not the party\'s, and one that does not exist, get the same 404 message', async () => {
  await lookUp(otherDevice);
  await eventually(text('#error'), (v) => expect(v).toBe('No such device, or not one of yours.'));
  await expect(page.locator('#results').isHidden()).resolves.toBe(true);
  await shot('05-not-yours');
  await lookUp(randomEui64());
  await eventually(text('#error'), (v) => expect(v).toBe('No such device, or not one of yours.'));
  // A malformed device ID: the server's message.
  await lookUp('not-a-device');
  await eventually(text('#error'), (v) => expect(v).toMatch(/^Not accepted: deviceId must be a Device ID/));
});

test('usable from the keyboard alone, with labelled controls, scoped headers and a live status region', async () => {
  await page.getByLabel('Device ID').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(device);
  await page.keyboard.press('Enter');
  await page.locator('#activity[aria-busy="false"]').waitFor({ state: 'attached' });
  await eventually(rows, (v) => expect(v.map((r) => r[2])).toEqual(events.slice(0, 10).map(titleOf)));
  await page.locator('#next-page').focus();
  await page.keyboard.press('Enter');
  await eventually(text('#page-label'), (v) => expect(v).toBe('Page 2'));
  // The last page: "Next page" is disabled, so focus moved to "Previous page" rather than being lost.
  await eventually(() => page.locator(':focus').getAttribute('id'), (v) => expect(v).toBe('prev-page'));
  expect(await page.locator('th:not([scope])').count()).toBe(0);
  expect(await page.locator('[role="status"][aria-live="polite"]').count()).toBe(1);
  const unlabelled = await page.locator('input, select, textarea').evaluateAll((controls) => controls.filter((c) => !(c as unknown as { labels: { length: number } | null }).labels?.length).map((c) => c.id));
  expect(unlabelled).toEqual([]);
});

test('the new supplier after a Change of Supplier sees the earlier event flagged BEFORE_OWNERSHIP, sender not named', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Bearer token').fill(newSupplierToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await eventually(text('#who-party'), (v) => expect(v).toBe(newSupplier));
  await lookUp(cosDevice);
  await eventually(rows, (v) =>
    expect(v.map((r) => [r[2], r[6], r[8]])).toEqual([
      ['Read Instantaneous Import Registers', 'you', '—'],
      ['Top Up Device', 'other User', 'BEFORE_OWNERSHIP'],
    ]),
  );
  await shot('06-before-ownership');
  // Back to the first supplier for the remaining tests.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await eventually(text('#who-party'), (v) => expect(v).toBe(supplier));
});

test('an alert with its cause: the request and its response, newest first; an unknown alert answers plainly', async () => {
  await page.getByLabel('Alert ID').fill(raisedAlert.alertId);
  await page.getByRole('button', { name: 'Look up alert' }).click();
  await eventually(text('#alert-heading'), (v) => expect(v).toBe('Firmware Verification Failed (0x8F1C)'));
  const facts = await page.locator('#alert-facts dd').allTextContents();
  expect(facts.slice(0, 3)).toEqual([raisedAlert.alertId, 'Device Alert', alertDevice]);
  expect(facts[5]).toBe('Cause found');
  const causes = await page.locator('#causes-rows tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
  expect(causes).toHaveLength(2);
  expect(causes.map((row) => [row[1], row[6], row[7]])).toEqual([
    ['6.15.1', 'you', 'I0'],
    ['6.15.1', 'you', '—'],
  ]);
  await expect(page.locator('#alert-result').isVisible()).resolves.toBe(true);
  await shot('08-alert-with-cause');

  await page.getByLabel('Alert ID').fill('alert-that-nobody-sent');
  await page.getByRole('button', { name: 'Look up alert' }).click();
  await eventually(text('#error'), (v) => expect(v).toBe('No such alert, or not one of yours.'));
  await expect(page.locator('#alert-result').isVisible()).resolves.toBe(false);
});

test('a token the service refuses: back to sign in; sign out forgets the token', async () => {
  // The stored token replaced by a well-formed one signed by nobody the service trusts.
  const [header, payload] = token.split('.');
  await page.evaluate((forged) => sessionStorage.setItem('srv-visibility.lookup.token', forged), `${header}.${payload}.${'A'.repeat(86)}`);
  await lookUp(device);
  await eventually(text('#error'), (v) => expect(v).toMatch(/^Your sign-in was not accepted/));
  await expect(page.locator('#sign-in').isVisible()).resolves.toBe(true);
  await expect(page.evaluate(() => sessionStorage.getItem('srv-visibility.lookup.token'))).resolves.toBeNull();
  await shot('07-signed-out-401');

  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#lookup').isVisible()).resolves.toBe(true);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.evaluate(() => sessionStorage.getItem('srv-visibility.lookup.token'))).resolves.toBeNull();
  await expect(page.locator('#sign-in').isVisible()).resolves.toBe(true);
  // Nothing went wrong inside the page: no script errors, no CSP refusals.
  expect(pageErrors).toEqual([]);
  expect(consoleErrors.filter((e) => !/status of (400|401|404)/.test(e))).toEqual([]);
});
