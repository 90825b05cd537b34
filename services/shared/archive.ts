// The ClickHouse archive: the embedded engine (chdb, in-process) by default, a server through
// @clickhouse/client when CLICKHOUSE_URL is set. One DDL and one set of queries for both.
import fs from 'node:fs';
import path from 'node:path';
import type { AlertContext, VisibilityRecord } from './contracts';
import type { Config } from './config';
import { REPO_ROOT } from './paths';
import { activitySql, seenSql, type ActivityQuery, type ActivityReader, type ActivityRow, type SeenQuery } from './archiveActivity';
import { alertContextRow, alertContextSql, fromAlertRow, type AlertContextQuery, type AlertContextRowRead } from './archiveAlerts';

const DDL_PATH = path.join(REPO_ROOT, 'infra', 'clickhouse', 'archive.sql');
/** The archive's tables, each with an eventTime TTL of ARCHIVE_RETENTION_DAYS. */
const TABLES = ['visibility_archive', 'alert_context_archive'] as const;

/** The DDL file's statements: each ends with ';' at the end of a line. Pure. */
export function ddlStatements(ddl: string): string[] {
  return ddl
    .split(/;[ \t]*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.replace(/^--.*$/gm, '').trim() !== '');
}

/**
 * The DDL for a ClickHouse cluster (CLICKHOUSE_CLUSTER): each table created ON CLUSTER as a
 * ReplicatedReplacingMergeTree (every replica holds every row; the server's {shard}/{replica}
 * macros name it in Keeper), and a TTL change ON CLUSTER. Statements that are neither are left as
 * they are. Pure; the embedded engine never takes this path.
 */
export function forCluster(statement: string, cluster: string): string {
  const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(statement)?.[1];
  if (table) {
    return statement
      .replace(`CREATE TABLE IF NOT EXISTS ${table}`, `CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER '${cluster}'`)
      .replace(/ENGINE = ReplacingMergeTree\((\w+)\)/, `ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/${table}', '{replica}', $1)`);
  }
  return statement.replace(/^ALTER TABLE (\w+) /, `ALTER TABLE $1 ON CLUSTER '${cluster}' `);
}

export type Delivery = 'party' | 'unowned';

export interface ArchivedRecord extends VisibilityRecord {
  delivery: Delivery;
}

/** What both engines must do: run a statement, run a parameterised query to rows, insert JSON rows. */
interface Engine {
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params: Record<string, unknown>): Promise<T[]>;
  insertJsonRows(table: string, rows: string): Promise<void>;
  close(): Promise<void>;
}

function toClickHouseTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

export function archiveRow(record: VisibilityRecord, delivery: Delivery): string {
  return JSON.stringify({
    eventId: record.eventId,
    recipientPartyId: record.recipientPartyId ?? '',
    recipientRole: record.recipientRole ?? '',
    deviceId: record.deviceId,
    eventTime: toClickHouseTime(record.eventTime),
    messageType: record.messageType,
    requestId: record.requestId,
    serviceReferenceVariant: record.serviceReferenceVariant,
    srvTitle: record.srvTitle,
    critical: record.critical,
    originatorRole: record.originatorRole,
    originatorId: record.originatorId,
    responseCode: record.responseCode,
    sentByRecipient: record.sentByRecipient,
    flags: record.flags,
    delivery,
  });
}

// No alias may reuse a column name: ClickHouse lets a SELECT alias shadow the column in WHERE.
const SELECT_COLUMNS = `eventId, messageType, requestId, serviceReferenceVariant, deviceId,
  toUnixTimestamp64Milli(eventTime) AS eventTimeMs, originatorRole, responseCode, srvTitle, critical,
  originatorId, recipientPartyId, recipientRole, sentByRecipient, flags, delivery`;

interface Row extends Omit<ArchivedRecord, 'eventTime' | 'critical' | 'sentByRecipient' | 'recipientPartyId' | 'recipientRole'> {
  eventTimeMs: string | number;
  critical: boolean | number;
  sentByRecipient: boolean | number | null;
  recipientPartyId: string;
  recipientRole: string;
}

function fromRow({ eventTimeMs, critical, sentByRecipient, recipientPartyId, recipientRole, ...rest }: Row): ArchivedRecord {
  return {
    ...rest,
    eventTime: Number(eventTimeMs),
    critical: Boolean(critical),
    sentByRecipient: sentByRecipient === null ? null : Boolean(sentByRecipient),
    recipientPartyId: recipientPartyId === '' ? null : recipientPartyId,
    recipientRole: recipientRole === '' ? null : (recipientRole as ArchivedRecord['recipientRole']),
  };
}

const MAX_DAYS_PER_INSERT = 100;
const DAY_MS = 86_400_000;

/** Splits items into groups spanning at most `maxDays` distinct UTC days each, in order of day. Pure. */
export function groupByDays<T>(items: T[], timeOf: (item: T) => number, maxDays: number): T[][] {
  if (items.length === 0) return [];
  const byDay = new Map<number, T[]>();
  for (const item of items) {
    const day = Math.floor(timeOf(item) / DAY_MS);
    const list = byDay.get(day);
    if (list) list.push(item);
    else byDay.set(day, [item]);
  }
  if (byDay.size <= maxDays) return [items];
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const groups: T[][] = [];
  for (let i = 0; i < days.length; i += maxDays) groups.push(days.slice(i, i + maxDays).flatMap((d) => byDay.get(d)!));
  return groups;
}

/** What the fan-out reads from the archive (late registration data); served directly or over HTTP. */
export interface ArchiveReader {
  findForDevices(deviceIds: string[], from: number): Promise<ArchivedRecord[]>;
  findArchivedSince(since: number, limit?: number): Promise<ArchivedRecord[]>;
}

/** Unowned records are archived with no recipient. Pure. */
export function deliveryOf(record: VisibilityRecord): Delivery {
  return record.recipientPartyId ? 'party' : 'unowned';
}

/** One party's copies of a time range [from, to), optionally of one device (replay). */
export interface PartyRange {
  partyId: string;
  deviceId?: string;
  from: number;
  to: number;
}

/** A party's archive rows in their stable order, (eventTime, eventId, deviceId): a keyset cursor. */
export interface PartyRowKey {
  eventTime: number;
  eventId: string;
  deviceId: string;
}

/** Reads a party's own copies page by page (npm run replay); served directly or over HTTP. */
export interface PartyArchiveReader {
  /** How many of the party's copies in the range come after `after` (all of them without it). */
  countPartyRange(range: PartyRange, after?: PartyRowKey): Promise<number>;
  /** The next `limit` of the party's copies after `after`, in (eventTime, eventId, deviceId) order. */
  readPartyRange(range: PartyRange, after: PartyRowKey | undefined, limit: number): Promise<ArchivedRecord[]>;
}

export interface ArchiveQuery {
  deviceId?: string;
  recipientPartyId?: string;
  eventId?: string;
  from?: number;
  to?: number;
  limit?: number;
}

/** WHERE clause and parameters for a party's own copies in a range, after a keyset cursor. Pure. */
export function partyRangeFilter(range: PartyRange, after?: PartyRowKey): { where: string; params: Record<string, unknown> } {
  // Only copies delivered to this party and not retracted from it: never unowned rows (recipient ''),
  // never another party's, never one it was told to disregard (RETRACTED).
  const where = [
    'recipientPartyId = {partyId:String}',
    "delivery = 'party'",
    "NOT has(flags, 'RETRACTED')",
    'eventTime >= fromUnixTimestamp64Milli({from:Int64})',
    'eventTime < fromUnixTimestamp64Milli({to:Int64})',
  ];
  const params: Record<string, unknown> = { partyId: range.partyId, from: range.from, to: range.to };
  if (range.deviceId !== undefined) {
    where.push('deviceId = {deviceId:String}');
    params.deviceId = range.deviceId;
  }
  if (after) {
    where.push(`(eventTime > fromUnixTimestamp64Milli({afterTime:Int64}) OR (eventTime = fromUnixTimestamp64Milli({afterTime:Int64})
      AND (eventId > {afterEventId:String} OR (eventId = {afterEventId:String} AND deviceId > {afterDeviceId:String}))))`);
    Object.assign(params, { afterTime: after.eventTime, afterEventId: after.eventId, afterDeviceId: after.deviceId });
  }
  return { where: where.join(' AND '), params };
}

export class Archive implements ArchiveReader, PartyArchiveReader, ActivityReader {
  private constructor(
    private readonly engine: Engine,
    readonly kind: 'embedded' | 'server',
    /** CLICKHOUSE_CLUSTER: DDL runs ON CLUSTER with replicated tables (see forCluster). */
    private readonly cluster?: string,
  ) {}

  private ddl(statement: string): Promise<void> {
    return this.engine.exec(this.cluster ? forCluster(statement, this.cluster) : statement);
  }

  static async open(config: Config): Promise<Archive> {
    const engine = config.clickhouseUrl ? await serverEngine(config.clickhouseUrl) : await embeddedEngine(config.archivePath);
    const archive = new Archive(engine, config.clickhouseUrl ? 'server' : 'embedded', config.clickhouseCluster);
    const ddl = fs.readFileSync(DDL_PATH, 'utf8').replaceAll('{retention_days}', String(config.archiveRetentionDays));
    for (const statement of ddlStatements(ddl)) await archive.ddl(statement);
    await archive.applyRetention(config.archiveRetentionDays);
    return archive;
  }

  /**
   * Inserts a batch; usually one insert. ClickHouse refuses an insert that touches more than
   * max_partitions_per_insert_block (100) partitions, which old eventTimes can do, so rows are
   * grouped into inserts of at most 100 distinct days (the finest partitioning this DDL ever had).
   */
  async insert(records: Array<{ record: VisibilityRecord; delivery: Delivery }>): Promise<void> {
    for (const group of groupByDays(records, (r) => r.record.eventTime, MAX_DAYS_PER_INSERT)) {
      await this.engine.insertJsonRows('visibility_archive', group.map((r) => archiveRow(r.record, r.delivery)).join('\n'));
    }
  }

  /** Lookups for operators and parties; duplicates collapse (FINAL), newest first. */
  async find(query: ArchiveQuery): Promise<ArchivedRecord[]> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.deviceId) {
      where.push('deviceId = {deviceId:String}');
      params.deviceId = query.deviceId;
    }
    if (query.recipientPartyId !== undefined) {
      where.push('recipientPartyId = {recipientPartyId:String}');
      params.recipientPartyId = query.recipientPartyId;
    }
    if (query.eventId) {
      where.push('eventId = {eventId:String}');
      params.eventId = query.eventId;
    }
    if (query.from !== undefined) {
      where.push('eventTime >= fromUnixTimestamp64Milli({from:Int64})');
      params.from = query.from;
    }
    if (query.to !== undefined) {
      where.push('eventTime < fromUnixTimestamp64Milli({to:Int64})');
      params.to = query.to;
    }
    const limit = Math.min(Math.max(query.limit ?? 1000, 1), 100_000);
    const sql = `SELECT ${SELECT_COLUMNS} FROM visibility_archive FINAL
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY eventTime DESC, eventId, recipientPartyId LIMIT ${limit}`;
    return (await this.engine.query<Row>(sql, params)).map(fromRow);
  }

  /** Every archived copy for these devices from `from` on (late-ownership reconciliation). */
  async findForDevices(deviceIds: string[], from: number): Promise<ArchivedRecord[]> {
    if (deviceIds.length === 0) return [];
    const sql = `SELECT ${SELECT_COLUMNS} FROM visibility_archive FINAL
      WHERE deviceId IN {deviceIds:Array(String)} AND eventTime >= fromUnixTimestamp64Milli({from:Int64})
      ORDER BY deviceId, eventTime, eventId`;
    return (await this.engine.query<Row>(sql, { deviceIds, from })).map(fromRow);
  }

  /** Copies archived (written, not happened) since `since`, at most `limit`: re-examined after an ownership rebuild. */
  async findArchivedSince(since: number, limit = 50_000): Promise<ArchivedRecord[]> {
    const sql = `SELECT ${SELECT_COLUMNS} FROM visibility_archive FINAL
      WHERE archivedAt >= fromUnixTimestamp64Milli({since:Int64})
      ORDER BY deviceId, eventTime, eventId LIMIT ${Math.max(1, Math.floor(limit))}`;
    return (await this.engine.query<Row>(sql, { since })).map(fromRow);
  }

  async countPartyRange(range: PartyRange, after?: PartyRowKey): Promise<number> {
    const { where, params } = partyRangeFilter(range, after);
    const [row] = await this.engine.query<{ n: string | number }>(`SELECT count() AS n FROM visibility_archive FINAL WHERE ${where}`, params);
    return Number(row.n);
  }

  async readPartyRange(range: PartyRange, after: PartyRowKey | undefined, limit: number): Promise<ArchivedRecord[]> {
    const { where, params } = partyRangeFilter(range, after);
    const sql = `SELECT ${SELECT_COLUMNS} FROM visibility_archive FINAL WHERE ${where}
      ORDER BY eventTime, eventId, deviceId LIMIT ${Math.min(Math.max(Math.floor(limit), 1), 100_000)}`;
    return (await this.engine.query<Row>(sql, params)).map(fromRow);
  }

  /**
   * CREATE TABLE IF NOT EXISTS keeps an existing table's TTL, so a changed ARCHIVE_RETENTION_DAYS (or
   * its default, raised from 90 to 93 days for the lookup's three calendar months) is applied here,
   * and materialized: an existing part keeps the expiry computed when it was written until its TTL
   * is materialized (measured: with metadata only, a part written under 5 days still lost its rows
   * at 5 days after the setting became 2, and the same would delete rows at 90 days after it became
   * 93). Materializing rewrites the parts, in the background on a server.
   */
  private async applyRetention(days: number): Promise<void> {
    for (const name of TABLES) {
      const [table] = await this.engine.query<{ engine_full: string }>(
        'SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {name:String}',
        { name },
      );
      if (!table || table.engine_full.includes(`toIntervalDay(${days})`)) continue;
      await this.ddl(`ALTER TABLE ${name} MODIFY TTL toDateTime(eventTime) + INTERVAL ${Math.floor(days)} DAY`);
    }
  }

  /** Archives AlertContexts as published (the alert archiver); a replayed batch collapses by (recipientPartyId, alertId). */
  async insertAlertContexts(contexts: AlertContext[]): Promise<void> {
    for (const group of groupByDays(contexts, (c) => c.eventTime, MAX_DAYS_PER_INSERT)) {
      await this.engine.insertJsonRows('alert_context_archive', group.map(alertContextRow).join('\n'));
    }
  }

  /** One recipient's archived AlertContext of an alert (shared/archiveAlerts.ts), or null. */
  async alertContext(query: AlertContextQuery): Promise<AlertContext | null> {
    const { sql, params } = alertContextSql(query);
    const [row] = await this.engine.query<AlertContextRowRead>(sql, params);
    return row ? fromAlertRow(row) : null;
  }

  /** One page of a device's activity for the lookup API (shared/archiveActivity.ts). */
  async activity(query: ActivityQuery): Promise<ActivityRow[]> {
    const { sql, params } = activitySql(query, SELECT_COLUMNS);
    const rows = await this.engine.query<Row & { beforeOwnership: number | boolean }>(sql, params);
    return rows.map(({ beforeOwnership, ...row }) => ({ ...fromRow(row), beforeOwnership: Boolean(Number(beforeOwnership)) }));
  }

  async seen(query: SeenQuery): Promise<boolean> {
    const { sql, params } = seenSql(query);
    return (await this.engine.query(sql, params)).length > 0;
  }

  /** Runs one statement written by this project (the lookup bench seeds millions of rows with INSERT … SELECT); never outside input. */
  async execute(sql: string): Promise<void> {
    await this.engine.exec(sql);
  }

  async count(): Promise<number> {
    const [row] = await this.engine.query<{ n: string | number }>('SELECT count() AS n FROM visibility_archive FINAL', {});
    return Number(row.n);
  }

  async ping(): Promise<boolean> {
    await this.engine.query('SELECT 1 AS ok', {});
    return true;
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

async function embeddedEngine(dataPath: string): Promise<Engine> {
  fs.mkdirSync(dataPath, { recursive: true });
  // Loaded lazily: the native engine is only needed when no server is configured.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Session } = require('chdb') as typeof import('chdb');
  const session = new Session(dataPath);
  return {
    async exec(sql) {
      await session.queryAsync(sql, { format: 'CSV' });
    },
    async query<T>(sql: string, params: Record<string, unknown>) {
      const result = await session.queryBindAsync(sql, params, { format: 'JSONEachRow' });
      const text = result.text().trim();
      return text ? (text.split('\n').map((line) => JSON.parse(line)) as T[]) : [];
    },
    async insertJsonRows(table, rows) {
      await session.insert({ table, values: Buffer.from(rows), format: 'JSONEachRow' });
    },
    async close() {
      session.close();
    },
  };
}

async function serverEngine(url: string): Promise<Engine> {
  const { createClient } = await import('@clickhouse/client');
  const client = createClient({ url });
  return {
    async exec(sql) {
      await client.command({ query: sql });
    },
    async query<T>(sql: string, params: Record<string, unknown>) {
      const result = await client.query({ query: sql, query_params: params, format: 'JSONEachRow' });
      return (await result.json()) as T[];
    },
    async insertJsonRows(table, rows) {
      await client.insert({ table, values: rows.split('\n').map((line) => JSON.parse(line)), format: 'JSONEachRow' });
    },
    async close() {
      await client.close();
    },
  };
}
