// The lookup bench's estate and traffic, pure: which devices exist, who owns each, the SQL that
// seeds millions of archive rows for them inside ClickHouse (INSERT … SELECT FROM numbers, no rows
// through Node), and the lookups 50 clients make. The SQL and the TypeScript name devices and
// parties the same way, so the clients ask for devices that are really there.
//
// Estate: `devices` electricity devices, each with an import supplier (IS) and a distributor (ED);
// one device in ten changed supplier `cosDaysAgo` days ago (its previous supplier keeps its copies
// from before). Each audit event has two copies (one per owner at its time), spread uniformly over
// the last `windowDays` days; SRVs are drawn from the DUIS catalogue (those an IS or ED may send),
// every third event a response, one copy in a hundred LATE_OWNERSHIP.
import { SRV_CATALOGUE } from '../services/projector/srvCatalogue';

const DAY = 86_400_000;

export interface LookupEstate {
  rows: number;
  devices: number;
  suppliers: number;
  operators: number;
  /** Parties that own nothing: every lookup of theirs must be a 404. */
  strangers: number;
  nowMs: number;
  windowDays: number;
  cosDaysAgo: number;
}

export function defaultEstate(rows: number, nowMs: number): LookupEstate {
  return { rows, devices: Math.max(1, Math.round(rows / 100)), suppliers: 40, operators: 14, strangers: 20, nowMs, windowDays: 89, cosDaysAgo: 30 };
}

/** EUI-64 `PP-5E-` + the index as six hex pairs, as ClickHouse's hex() + leftPad build it. */
function eui(prefix: number, index: number): string {
  const hex = index.toString(16).toUpperCase().padStart(12, '0').slice(-12);
  return [prefix.toString(16).toUpperCase().padStart(2, '0'), '5E', ...hex.match(/../g)!].join('-');
}

const DEVICE_PREFIX = 0xd1;
const SUPPLIER_PREFIX = 0x90;
const OPERATOR_PREFIX = 0x91;
const OTHER_USER_PREFIX = 0x94;
const STRANGER_PREFIX = 0x9f;

export const deviceIdOf = (d: number): string => eui(DEVICE_PREFIX, d);
export const supplierOf = (k: number): string => eui(SUPPLIER_PREFIX, k);
export const operatorOf = (k: number): string => eui(OPERATOR_PREFIX, k);
export const strangerOf = (k: number): string => eui(STRANGER_PREFIX, k);

/** Devices whose supplier changed `cosDaysAgo` days ago. */
export const hadChangeOfSupplier = (d: number): boolean => d % 10 === 0;

/** Owners of device d over the window: current supplier, distributor, and the previous supplier if any. */
export function ownersOf(estate: LookupEstate, d: number): string[] {
  const owners = [supplierOf(d % estate.suppliers), operatorOf(d % estate.operators)];
  if (hadChangeOfSupplier(d)) owners.push(supplierOf((d + 1) % estate.suppliers));
  return owners;
}

/** Every party with an identity in the estate (owners and strangers), for minting tokens. */
export function estateParties(estate: LookupEstate): string[] {
  return [
    ...Array.from({ length: estate.suppliers }, (_, k) => supplierOf(k)),
    ...Array.from({ length: estate.operators }, (_, k) => operatorOf(k)),
    ...Array.from({ length: estate.strangers }, (_, k) => strangerOf(k)),
  ];
}

function sqlString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** SQL for an EUI-64 of `prefix` and a UInt64 index expression, matching eui(). */
function euiSql(prefix: number, indexExpr: string): string {
  const p = prefix.toString(16).toUpperCase().padStart(2, '0');
  const h = `leftPad(hex(toUInt64(${indexExpr})), 12, '0')`;
  const pairs = [1, 3, 5, 7, 9, 11].map((i) => `substring(${h}, ${i}, 2)`);
  return `concat('${p}-5E-', ${pairs.join(", '-', ")})`;
}

/** The SRVs the estate's owners send: those an IS may send (sent as IS), else an ED may (as ED). */
export function benchSrvs(): Array<{ variant: string; title: string; critical: boolean; role: 'IS' | 'ED' }> {
  const srvs: Array<{ variant: string; title: string; critical: boolean; role: 'IS' | 'ED' }> = [];
  for (const srv of SRV_CATALOGUE.values()) {
    if (srv.eligibleRoles.includes('IS')) srvs.push({ variant: srv.variant, title: srv.title, critical: srv.critical, role: 'IS' });
    else if (srv.eligibleRoles.includes('ED')) srvs.push({ variant: srv.variant, title: srv.title, critical: srv.critical, role: 'ED' });
  }
  return srvs;
}

/**
 * INSERT … SELECT seeding archive rows [offset, offset + count): row n is copy n % 2 (0: supplier,
 * 1: distributor) of event n / 2. Deterministic: the same row numbers give the same rows.
 */
export function seedSql(estate: LookupEstate, offset: number, count: number): string {
  const srvs = benchSrvs();
  const windowMs = estate.windowDays * DAY;
  const cosAt = estate.nowMs - estate.cosDaysAgo * DAY;
  const list = (values: string[]) => `[${values.join(', ')}]`;
  return `INSERT INTO visibility_archive (eventId, recipientPartyId, recipientRole, deviceId, eventTime, messageType, requestId,
    serviceReferenceVariant, srvTitle, critical, originatorRole, originatorId, responseCode, sentByRecipient, flags, delivery)
  WITH
    ${list(srvs.map((x) => sqlString(x.variant)))} AS variants,
    ${list(srvs.map((x) => sqlString(x.title)))} AS titles,
    ${list(srvs.map((x) => (x.critical ? '1' : '0')))} AS criticals,
    ${list(srvs.map((x) => sqlString(x.role)))} AS roles
  SELECT
    concat('lookup-bench-', toString(e)) AS c_eventId,
    recipient AS c_recipientPartyId,
    if(c = 0, 'IS', 'ED') AS c_recipientRole,
    device AS c_deviceId,
    fromUnixTimestamp64Milli(toInt64(t), 'UTC') AS c_eventTime,
    if(e % 3 = 0, 'SERVICE_RESPONSE', 'SERVICE_REQUEST') AS c_messageType,
    concat(sender, ':', device, ':', toString(e)) AS c_requestId,
    variants[s] AS c_variant,
    titles[s] AS c_title,
    criticals[s] = 1 AS c_critical,
    senderRole AS c_originatorRole,
    if(sender = recipient, recipient, NULL) AS c_originatorId,
    if(e % 3 = 0, 'I0', NULL) AS c_responseCode,
    sender = recipient AS c_sentByRecipient,
    if(cityHash64(number, 7) % 100 = 0, ['LATE_OWNERSHIP'], CAST([], 'Array(String)')) AS c_flags,
    'party' AS c_delivery
  FROM
  (
    SELECT
      number,
      intDiv(number, 2) AS e,
      number % 2 AS c,
      cityHash64(e, 1) % ${estate.devices} AS d,
      ${estate.nowMs} - cityHash64(e, 2) % ${windowMs} AS t,
      (cityHash64(e, 3) % ${srvs.length}) + 1 AS s,
      ${euiSql(DEVICE_PREFIX, 'd')} AS device,
      if(d % 10 = 0 AND t < ${cosAt}, ${euiSql(SUPPLIER_PREFIX, `(d + 1) % ${estate.suppliers}`)}, ${euiSql(SUPPLIER_PREFIX, `d % ${estate.suppliers}`)}) AS supplier,
      ${euiSql(OPERATOR_PREFIX, `d % ${estate.operators}`)} AS operator,
      -- One request in twenty comes from an Other User; the rest from the owner whose role the SRV has.
      if(cityHash64(e, 4) % 20 = 0, 'OU', roles[s]) AS senderRole,
      multiIf(senderRole = 'OU', ${euiSql(OTHER_USER_PREFIX, 'cityHash64(e, 5) % 50')}, senderRole = 'IS', supplier, operator) AS sender,
      if(c = 0, supplier, operator) AS recipient
    FROM numbers(${Math.floor(offset)}, ${Math.floor(count)})
  )`;
}

export interface Lookup {
  deviceId: string;
  partyId: string;
  /** Whether the party owns or owned the device (expects 200; a stranger expects 404). */
  owner: boolean;
}

/** A lookup: a random device, by one of its owners (share `ownerShare`) or by a stranger. */
export function pickLookup(estate: LookupEstate, random: () => number, ownerShare = 0.8): Lookup {
  const d = Math.floor(random() * estate.devices);
  if (random() < ownerShare) {
    const owners = ownersOf(estate, d);
    return { deviceId: deviceIdOf(d), partyId: owners[Math.floor(random() * owners.length)], owner: true };
  }
  return { deviceId: deviceIdOf(d), partyId: strangerOf(Math.floor(random() * estate.strangers)), owner: false };
}

/** p50/p99/p99.9/max/mean of latencies (ms), nearest-rank. */
export function latencySummary(values: ArrayLike<number>): { count: number; p50: number; p99: number; p999: number; max: number; mean: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN);
  const round = (x: number) => Math.round(x * 100) / 100;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(sorted.length ? sorted[sorted.length - 1] : NaN),
    mean: round(sorted.length ? sum / sorted.length : NaN),
  };
}
