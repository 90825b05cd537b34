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

export type SchemaName = 'AuditEvent' | 'OwnershipEvent' | 'AlertEvent' | 'VisibilityRecord';

/** Registry subject per topic (`<topic>-value`); party topics share one subject (record-name strategy). */
export const PARTY_TOPIC_SUBJECT = 'srv.visibility.v1.VisibilityRecord';

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

export class AvroCodec {
  private readonly types = new Map<number, Type>();
  private readonly unknownIds = new Set<number>();

  constructor(private readonly registry: SchemaRegistry) {}

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
    const fullName = (type as unknown as { name?: string }).name;
    if (fullName !== `srv.visibility.v1.${expectedName}`) {
      throw new RejectedRecord(DlqReason.SCHEMA_MISMATCH, `schema id ${schemaId} is ${fullName ?? 'not a named record'}, expected srv.visibility.v1.${expectedName}`);
    }
    let value: T;
    try {
      value = type.fromBuffer(buffer.subarray(5)) as T;
    } catch (error) {
      throw new RejectedRecord(DlqReason.UNDECODABLE, `Avro body does not match schema id ${schemaId}: ${(error as Error).message}`);
    }
    return { schemaId, value };
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

function isNotFound(error: unknown): boolean {
  const e = error as { status?: number; message?: string };
  return e?.status === 404 || /not found/i.test(e?.message ?? '');
}
