// Avro in the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body.
// Schemas are registered from schemas/*.avsc; decoding keeps one avsc Type per schema id so the
// hot path is synchronous after the first message of each writer schema.
import fs from 'node:fs';
import path from 'node:path';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import type { Config } from './config';
import { REPO_ROOT } from './paths';
import { DlqReason, RejectedRecord } from './rejection';

export const SCHEMA_DIR = path.join(REPO_ROOT, 'schemas');

export type SchemaName = 'AuditEvent' | 'OwnershipEvent' | 'AlertEvent' | 'VisibilityRecord' | 'AlertContext';

/** Registry subject per topic (`<topic>-value`); party topics share one subject (record-name strategy). */
export const PARTY_TOPIC_SUBJECT = 'srv.visibility.v1.VisibilityRecord';
/** Alert contexts share the party topics under their own record-name subject (contract). */
export const ALERT_CONTEXT_SUBJECT = 'srv.visibility.v1.AlertContext';

export function readSchema(name: SchemaName): string {
  return fs.readFileSync(path.join(SCHEMA_DIR, `${name}.avsc`), 'utf8');
}

export function createSchemaRegistry(config: Config): SchemaRegistry {
  return new SchemaRegistry({ host: config.schemaRegistryUrl, retry: { retries: 5 } });
}

export interface Decoded<T> {
  schemaId: number;
  value: T;
}

/**
 * Schema ids the registry answered "not found" for, each forgotten after ttlMs so it is asked again:
 * a lagging registry follower may not know yet an id its leader has already handed out.
 */
export class ExpiringIdSet {
  /** id -> expiry time; with one TTL and re-adds moved to the end, insertion order is expiry order. */
  private readonly expiresAt = new Map<number, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(id: number): void {
    const now = this.now();
    // Drop expired entries from the front, so garbage ids cannot grow the set without bound.
    for (const [oldest, expiry] of this.expiresAt) {
      if (expiry > now) break;
      this.expiresAt.delete(oldest);
    }
    this.expiresAt.delete(id);
    this.expiresAt.set(id, now + this.ttlMs);
  }

  has(id: number): boolean {
    const expiry = this.expiresAt.get(id);
    if (expiry === undefined) return false;
    if (expiry > this.now()) return true;
    this.expiresAt.delete(id);
    return false;
  }

  get size(): number {
    return this.expiresAt.size;
  }
}

export interface AvroCodecOptions {
  /** How long an id the registry did not know stays unknown before it is looked up again (default 30 s). */
  unknownIdTtlMs?: number;
}

export class AvroCodec {
  private readonly types = new Map<number, Type>();
  private readonly unknownIds: ExpiringIdSet;

  constructor(
    private readonly registry: SchemaRegistry,
    options: AvroCodecOptions = {},
  ) {
    this.unknownIds = new ExpiringIdSet(options.unknownIdTtlMs ?? 30_000);
  }

  /** Registers a schema under a subject and returns its id (idempotent). */
  async register(name: SchemaName, subject: string): Promise<number> {
    const { id } = await this.registry.register({ type: SchemaType.AVRO, schema: readSchema(name) }, { subject });
    await this.typeFor(id);
    return id;
  }

  private async typeFor(id: number): Promise<Type> {
    const known = this.types.get(id);
    if (known) return known;
    const type = (await this.registry.getSchema(id)) as unknown as Type;
    this.types.set(id, type);
    return type;
  }

  /** Ensures every schema id in these buffers is loaded, so decodeSync can run without awaiting. */
  async prefetch(buffers: Array<Buffer | null>): Promise<void> {
    const ids = new Set<number>();
    for (const buffer of buffers) {
      if (buffer && buffer.length >= 5 && buffer[0] === 0) {
        const id = buffer.readInt32BE(1);
        if (!this.types.has(id) && !this.unknownIds.has(id)) ids.add(id);
      }
    }
    for (const id of ids) {
      try {
        await this.typeFor(id);
      } catch (error) {
        // A 404 from the registry means the id does not exist; anything else (registry down) must
        // not turn good records into DLQ entries, so it propagates and the batch is retried.
        if (isNotFound(error)) this.unknownIds.add(id);
        else throw error;
      }
    }
  }

  /** Decodes a prefetched buffer; throws RejectedRecord with a stable reason code. */
  decodeSync<T>(buffer: Buffer | null, expectedName: SchemaName): Decoded<T> {
    if (!buffer || buffer.length < 5) {
      throw new RejectedRecord(DlqReason.UNDECODABLE, `value is ${buffer ? `${buffer.length} bytes` : 'null'}, too short for the Confluent wire format`);
    }
    if (buffer[0] !== 0) {
      throw new RejectedRecord(DlqReason.UNDECODABLE, `magic byte is ${buffer[0]}, expected 0 (Confluent wire format)`);
    }
    const schemaId = buffer.readInt32BE(1);
    const type = this.types.get(schemaId);
    if (!type) throw new RejectedRecord(DlqReason.SCHEMA_UNKNOWN, `schema id ${schemaId} is not in the registry`);
    return { schemaId, value: decodeAvroBody<T>(type, schemaId, buffer.subarray(5), expectedName) };
  }

  /** Encodes with a registered schema id; throws if the value does not fit the schema. */
  encodeSync(schemaId: number, value: unknown): Buffer {
    const type = this.types.get(schemaId);
    if (!type) throw new Error(`schema id ${schemaId} was not registered by this process`);
    const body = type.toBuffer(value);
    const out = Buffer.allocUnsafe(5 + body.length);
    out[0] = 0;
    out.writeInt32BE(schemaId, 1);
    body.copy(out, 5);
    return out;
  }
}

/**
 * Decodes an Avro body (the wire format's header already removed) with the writer's type; pure, so the
 * decode path can be tested without a registry. Throws RejectedRecord only.
 */
export function decodeAvroBody<T>(type: Type, schemaId: number, body: Buffer, expectedName: SchemaName): T {
  const fullName = (type as unknown as { name?: string }).name;
  if (fullName !== `srv.visibility.v1.${expectedName}`) {
    throw new RejectedRecord(DlqReason.SCHEMA_MISMATCH, `schema id ${schemaId} is ${fullName ?? 'not a named record'}, expected srv.visibility.v1.${expectedName}`);
  }
  try {
    // avsc also throws here for a long beyond ±(2^53 - 2) ("potential precision loss").
    return type.fromBuffer(body) as T;
  } catch (error) {
    throw new RejectedRecord(DlqReason.UNDECODABLE, `Avro body does not match schema id ${schemaId}: ${(error as Error).message}`);
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { status?: number; message?: string };
  return e?.status === 404 || /not found/i.test(e?.message ?? '');
}
