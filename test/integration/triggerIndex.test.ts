// The alert-trigger index on a real Redis: what one script call writes, how alerts find it, and
// that old entries are trimmed and everything expires.
import Redis from 'ioredis';
import { TriggerIndex } from '../../services/alert-triage/triggerIndex';
import { projectAuditEvent, validateAuditEvent } from '../../services/projector/projection';
import { loadConfig } from '../../services/shared/config';
import type { VisibilityRecord } from '../../services/shared/contracts';
import { auditEvent, randomEui64, uniqueId } from '../support/fixtures';

const HOUR = 3_600_000;
let redis: Redis;
beforeAll(() => {
  redis = new Redis(loadConfig().redisUrl);
});
afterAll(async () => {
  await redis.quit();
});

const originator = randomEui64();
let counter = 0;
const requestOn = (deviceId: string) => `${originator}:${deviceId}:${++counter}`;

function record(deviceId: string, eventTime: number, requestId = requestOn(deviceId)): VisibilityRecord {
  const event = auditEvent({ deviceId, originatorId: originator, eventTime, requestId });
  return projectAuditEvent(validateAuditEvent(event, { now: eventTime + 1_000, maxFutureSkewMs: 60_000 }));
}

it('indexes a batch by request and by device window; a replay changes nothing; bodies carry no payload', async () => {
  const namespace = `test-triggers:{${uniqueId('ns')}}`;
  const index = new TriggerIndex(redis, namespace, HOUR);
  await index.markReady();
  const device = randomEui64();
  const t = Date.now();
  const request = requestOn(device);
  const batch = [record(device, t - 3_000, request), record(device, t - 2_000, request), record(device, t - 1_000), record(randomEui64(), t - 500)];
  await index.add(batch);
  await index.add(batch); // replayed batch
  const [byRequest, byWindow, outside] = await index.candidates(
    [
      { alertId: 'a1', alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: device, eventTime: t, requestId: request, recipientId: randomEui64() },
      { alertId: 'a2', alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: device, eventTime: t, requestId: null, recipientId: randomEui64() },
      { alertId: 'a3', alertCode: '0x8F70', alertKind: 'DEVICE', deviceId: device, eventTime: t - 10_000, requestId: null, recipientId: randomEui64() },
    ],
    5_000,
  );
  expect(byRequest.map((r) => r.eventId).sort()).toEqual([batch[0].eventId, batch[1].eventId].sort());
  expect(byWindow.map((r) => r.eventId).sort()).toEqual(batch.slice(0, 3).map((r) => r.eventId).sort());
  expect(outside).toEqual([]);
  expect(byWindow[0]).not.toHaveProperty('payload');
  expect(await redis.zcard(`${namespace}:device:${device}`)).toBe(3);
  for (const key of [`${namespace}:trigger:${batch[0].eventId}`, `${namespace}:device:${device}`, `${namespace}:request:${request}`]) {
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(HOUR - 60_000);
    expect(ttl).toBeLessThanOrEqual(HOUR);
  }
});

it('trims a device window past the retention when newer records arrive, and writes batches larger than one script call', async () => {
  const namespace = `test-triggers:{${uniqueId('ns')}}`;
  const index = new TriggerIndex(redis, namespace, HOUR);
  await index.markReady();
  const device = randomEui64();
  const t = Date.now();
  const old = record(device, t - 2 * HOUR);
  await index.add([old]);
  const many = Array.from({ length: 1_203 }, (_, i) => record(device, t - 1_203 + i));
  await index.add(many);
  const members = await redis.zrange(`${namespace}:device:${device}`, '0', '-1');
  expect(members).toHaveLength(1_203);
  expect(members).not.toContain(old.eventId);
  expect(await redis.exists(`${namespace}:trigger:${many[1_202].eventId}`)).toBe(1);
});

it('refuses to write or answer once the index lost its data (marker gone), and writes again when rebuilding', async () => {
  const namespace = `test-triggers:{${uniqueId('ns')}}`;
  const index = new TriggerIndex(redis, namespace, HOUR);
  const device = randomEui64();
  const first = record(device, Date.now() - 1_000);
  const alert = { alertId: 'a1', alertCode: '0x8F70', alertKind: 'DEVICE' as const, deviceId: device, eventTime: Date.now(), requestId: first.requestId, recipientId: randomEui64() };
  await index.markReady();
  await index.add([first]);
  // Redis restarted empty: every key of the namespace is gone, the marker with them.
  await redis.del(`${namespace}:triggers:ready`, `${namespace}:trigger:${first.eventId}`, `${namespace}:device:${device}`, `${namespace}:request:${first.requestId}`);
  await expect(index.add([record(device, Date.now())])).rejects.toMatchObject({ name: 'StateLostError' });
  expect(await redis.exists(`${namespace}:device:${device}`)).toBe(0); // nothing written by the refused call
  await expect(index.candidates([alert], 5_000)).rejects.toMatchObject({ name: 'StateLostError' });
  // The rebuild writes without the marker, then sets it; alerts find their triggers again.
  await index.add([first], { rebuilding: true });
  await index.markReady();
  expect((await index.candidates([alert], 5_000))[0].map((r) => r.eventId)).toEqual([first.eventId]);
});
