// The ownership store on a real Redis: exact cache, O(1) round trips per batch, bounded memory.
import Redis from 'ioredis';
import { validateOwnershipEvent } from '../../services/ownership-projector/ownershipFacts';
import { resolveOwners } from '../../services/shared/ownership';
import { OwnershipReader, writeFacts } from '../../services/shared/ownershipStore';
import { loadConfig } from '../../services/shared/config';
import { ownershipEvent, randomEui64, randomMpan } from '../support/fixtures';

const DAY = 86_400_000;
let redis: Redis;
beforeAll(async () => {
  redis = new Redis(loadConfig().redisUrl);
});
afterAll(async () => {
  await redis.quit();
});

function premises(count: number, t0: number) {
  const devices: string[] = [];
  const facts = [];
  for (let i = 0; i < count; i++) {
    const [device, mpan] = [randomEui64(), randomMpan()];
    devices.push(device);
    facts.push(
      validateOwnershipEvent(ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: t0 })),
      validateOwnershipEvent(ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: randomEui64(), role: 'IS', effectiveFrom: t0 })),
    );
  }
  return { devices, facts };
}

test('a batch of 500 devices resolves in at most three round trips, and a warm batch in one', async () => {
  const t0 = Date.now() - 10 * DAY;
  const { devices, facts } = premises(500, t0);
  await writeFacts(redis, facts);
  const reader = new OwnershipReader(redis);
  await reader.load([]); // learn where the change stream ends
  const before = reader.stats.roundTrips;
  const { devices: histories, mpxns } = await reader.load(devices);
  expect(reader.stats.roundTrips - before).toBeLessThanOrEqual(3);
  for (const device of devices) expect(resolveOwners(histories.get(device), mpxns, Date.now()).status).toBe('owned');
  const warm = reader.stats.roundTrips;
  await reader.load(devices);
  expect(reader.stats.roundTrips - warm).toBe(1);
});

test('the cache never serves a stale owner after a registration changes', async () => {
  const t0 = Date.now() - 10 * DAY;
  const [device, mpan, a, b] = [randomEui64(), randomMpan(), randomEui64(), randomEui64()];
  await writeFacts(redis, [
    validateOwnershipEvent(ownershipEvent({ type: 'DEVICE_ASSOCIATED', mpxn: mpan, deviceId: device, deviceType: 'ESME', effectiveFrom: t0 })),
    validateOwnershipEvent(ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: a, role: 'IS', effectiveFrom: t0 })),
  ]);
  const reader = new OwnershipReader(redis);
  await reader.load([]);
  const owner = async (t: number) => {
    const { devices, mpxns } = await reader.load([device]);
    const r = resolveOwners(devices.get(device), mpxns, t);
    return r.status === 'owned' ? r.owners.map((o) => o.partyId) : [];
  };
  const now = Date.now();
  expect(await owner(now)).toEqual([a]);
  expect(await owner(now)).toEqual([a]); // now cached
  // A retrospective CoS written by another client: the very next lookup must see it.
  await writeFacts(redis, [validateOwnershipEvent(ownershipEvent({ type: 'SUPPLIER_REGISTERED', mpxn: mpan, partyId: b, role: 'IS', effectiveFrom: now - DAY }))]);
  expect(await owner(now)).toEqual([b]);
  expect(await owner(now - 2 * DAY)).toEqual([a]);
  // And a dissociation of the device.
  await writeFacts(redis, [validateOwnershipEvent(ownershipEvent({ type: 'DEVICE_DISSOCIATED', mpxn: mpan, deviceId: device, effectiveFrom: now - 1000 }))]);
  expect(await owner(now)).toEqual([]);
  expect(reader.stats.invalidated).toBeGreaterThanOrEqual(2);
});

test('the cache is bounded', async () => {
  const { devices, facts } = premises(300, Date.now() - DAY);
  await writeFacts(redis, facts);
  const reader = new OwnershipReader(redis, { maxEntries: 100 });
  await reader.load(devices.slice(0, 150));
  await reader.load(devices.slice(150));
  expect(reader.size).toBeLessThanOrEqual(100);
});
