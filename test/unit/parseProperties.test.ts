// Property tests of the parse path: whatever a producer writes, parsing either yields a valid value
// or throws a RejectedRecord (which dead-letters the message). Anything else thrown is a poison
// record: the stage cannot tell it from an infrastructure error and would replay the batch forever.
import { Type, types } from 'avsc';
import fc from 'fast-check';
import { factKey, factToEvent, validateOwnershipEvent } from '../../services/ownership-projector/ownershipFacts';
import { projectAuditEvent, validateAuditEvent } from '../../services/projector/projection';
import { DEVICE_TYPES, MAX_ARCHIVE_EPOCH_MS, MAX_EPOCH_MS, MESSAGE_TYPES, OWNER_ROLES, OWNERSHIP_EVENT_TYPES, USER_ROLES } from '../../services/shared/contracts';
import { DlqReason, RejectedRecord } from '../../services/shared/rejection';
import { decodeAvroBody, readSchema, type SchemaName } from '../../services/shared/schemaRegistry';

const RUNS = 3000;
const now = Date.UTC(2026, 10, 29, 12);
const limits = { now, maxFutureSkewMs: 5 * 60_000 };
const EUI64 = /^[0-9A-F]{2}(-[0-9A-F]{2}){7}$/;
const REASONS = new Set<string>(Object.values(DlqReason));

/** Reader types built the way the registry client builds them: Type.forSchema on the registered schema, no options. */
const readerType = (name: SchemaName) => Type.forSchema(JSON.parse(readSchema(name)));
const auditType = readerType('AuditEvent');
const ownershipType = readerType('OwnershipEvent');
const visibilityType = readerType('VisibilityRecord');

/** A writer whose longs are BigInts, so it can write any Avro long, including those beyond ±2^53. */
const int64Long = types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});
// A hook, not the registry option: avsc consults the registry only for `"long"` by name, not for `{ type: 'long', logicalType }`.
const int64Writer = (name: SchemaName) =>
  Type.forSchema(JSON.parse(readSchema(name)), {
    typeHook: (schema) => (schema === 'long' || (schema as { type?: unknown }).type === 'long' ? int64Long : undefined),
  });
const auditWriter = int64Writer('AuditEvent');
const ownershipWriter = int64Writer('OwnershipEvent');

// ---- arbitraries ---------------------------------------------------------------------------

const eui64 = fc
  .tuple(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.boolean())
  .map(([bytes, upper]) => {
    const id = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('-');
    return upper ? id.toUpperCase() : id;
  });
const requestId = fc
  .tuple(eui64, eui64, fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }))
  .map(([originator, device, counter]) => `${originator}:${device}:${counter}`);
const mpxn = fc.oneof(fc.stringMatching(/^[0-9]{13}$/), fc.stringMatching(/^[0-9]{6,10}$/));

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const LONG_STRINGS = ['A'.repeat(1 << 16), ':'.repeat(1 << 16), '0'.repeat(1 << 16), `${'00-'.repeat(1 << 14)}00`];
/** Any string: ASCII, any code point, lone surrogates, near-misses of the identifiers, very long ones. */
const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), loneSurrogate) }),
  fc.constantFrom('', ' ', '\t\n', '\u0000', '\uFB00', '00-DB-12-34-56-78-90-\uFB00', '00-db-12-34-56-78-90-a0\n', '__proto__', 'constructor', 'toString'),
  fc.constantFrom(...LONG_STRINGS),
  fc.constantFrom(...MESSAGE_TYPES, ...USER_ROLES, ...OWNERSHIP_EVENT_TYPES, ...DEVICE_TYPES).map((s) => s.toLowerCase()),
);
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
/** avsc reads a long only within ±(2^53 - 2) and refuses anything beyond ("potential precision loss"). */
const AVSC_MAX_LONG = 9_007_199_254_740_990n;
const avscRefuses = (n: bigint) => n > AVSC_MAX_LONG || n < -AVSC_MAX_LONG;
const edgeLongs = [AVSC_MAX_LONG, AVSC_MAX_LONG + 1n, 0n, -1n, 1n, BigInt(MAX_EPOCH_MS), BigInt(MAX_EPOCH_MS) + 1n, 9_000_000_000_000_000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n)];
/** Any Avro long, as the BigInt the writer takes. */
const anyInt64 = fc.oneof(int64, fc.constantFrom(...edgeLongs), fc.integer({ min: 0, max: now }).map(BigInt));
/** Any JS number a decoder or a careless producer could hand over, safe or not. */
const anyNumber = fc.oneof(fc.integer(), fc.maxSafeInteger(), int64.map(Number), fc.double(), fc.constantFrom(...edgeLongs.map(Number), 2 ** 63, Number.MAX_VALUE));
const anyBytes = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b));
/** A value of the wrong kind altogether: objects, arrays, booleans, Symbols, null, undefined, bytes. */
const wrongType = fc.oneof(fc.anything(), fc.constant(Symbol('field')), fc.constant(null), fc.constant(undefined), anyBytes, fc.boolean());
/** Mostly a valid value, so validation gets past the first field; otherwise anything at all. */
const fieldOr = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.oneof(anyString, anyNumber, wrongType) });

const validEventTime = fc.integer({ min: 1, max: now + limits.maxFutureSkewMs });

// ---- what a valid result must satisfy -------------------------------------------------------

/** Calls fn; a RejectedRecord with a known reason is an outcome, any other throw fails the property. */
function outcome<T>(fn: () => T): { value: T } | { rejected: DlqReason } {
  try {
    return { value: fn() };
  } catch (error) {
    if (!(error instanceof RejectedRecord)) throw error;
    expect(REASONS.has(error.reason)).toBe(true);
    expect(error.message).not.toBe('');
    return { rejected: error.reason };
  }
}

/** Projects an audit event the way the projector does and checks the record can be written. */
function projectOrReject(decoded: unknown) {
  const result = outcome(() => projectAuditEvent(validateAuditEvent(decoded as never, limits)));
  if ('value' in result) {
    const record = result.value;
    expect(record.deviceId).toMatch(EUI64);
    expect(record.originatorId).toMatch(EUI64);
    expect(MESSAGE_TYPES).toContain(record.messageType);
    expect(USER_ROLES).toContain(record.originatorRole);
    expect(Number.isSafeInteger(record.eventTime) && record.eventTime > 0).toBe(true);
    expect(() => new Date(record.eventTime).toISOString()).not.toThrow(); // the archive row
    expect(record.responseCode === null || /^[A-Z0-9]{1,8}$/.test(record.responseCode)).toBe(true);
    // The projector encodes the record with this schema; a value that does not fit would throw there.
    expect(visibilityType.isValid(record)).toBe(true);
  }
  return result;
}

/** Validates an ownership event and checks the fact can be written to the changelog and the store. */
function factOrReject(decoded: unknown) {
  const result = outcome(() => validateOwnershipEvent(decoded as never));
  if ('value' in result) {
    const fact = result.value;
    expect(Number.isSafeInteger(fact.effectiveFrom) && fact.effectiveFrom >= 0 && fact.effectiveFrom <= MAX_ARCHIVE_EPOCH_MS).toBe(true);
    expect(() => new Date(fact.effectiveFrom).toISOString()).not.toThrow();
    if (fact.kind === 'association') expect(fact.deviceId).toMatch(EUI64);
    else {
      expect(fact.partyId).toMatch(EUI64);
      expect(OWNER_ROLES).toContain(fact.role);
    }
    expect(typeof factKey(fact)).toBe('string');
    expect(ownershipType.isValid(factToEvent(fact, 'evt'))).toBe(true);
  }
  return result;
}

/** Counts outcomes so each property can show it reached both the accepting and the rejecting paths. */
class Tally {
  accepted = 0;
  readonly reasons = new Set<DlqReason>();
  add(result: { value: unknown } | { rejected: DlqReason }): void {
    if ('value' in result) this.accepted++;
    else this.reasons.add(result.rejected);
  }
}

// ---- properties -----------------------------------------------------------------------------

describe('parsing arbitrary field values never throws anything but a RejectedRecord', () => {
  it('audit events: validate + project', () => {
    const tally = new Tally();
    const auditFields = fc.record({
      eventId: fieldOr(fc.string({ minLength: 1 })),
      messageType: fieldOr(fc.constantFrom(...MESSAGE_TYPES)),
      requestId: fieldOr(requestId),
      serviceReference: fieldOr(fc.constantFrom('2.2', '6.15')),
      serviceReferenceVariant: fieldOr(fc.oneof(fc.constantFrom('2.2', '6.15.1', '4.8.1', '99.9'), fc.string({ minLength: 1 }))),
      deviceId: fieldOr(eui64),
      originatorId: fieldOr(eui64),
      originatorRole: fieldOr(fc.constantFrom(...USER_ROLES)),
      eventTime: fieldOr(fc.oneof(validEventTime, anyNumber)),
      responseCode: fieldOr(fc.oneof(fc.constant(null), fc.stringMatching(/^[A-Z0-9]{1,8}$/))),
      payload: fieldOr(anyBytes),
    });
    fc.assert(
      fc.property(auditFields, (fields) => tally.add(projectOrReject(fields))),
      { numRuns: RUNS },
    );
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.reasons.size).toBeGreaterThan(3);
  });

  it('ownership events: validateOwnershipEvent', () => {
    const tally = new Tally();
    const ownershipFields = fc.record({
      eventId: fieldOr(fc.string({ minLength: 1 })),
      type: fieldOr(fc.constantFrom(...OWNERSHIP_EVENT_TYPES)),
      mpxn: fieldOr(mpxn),
      deviceId: fieldOr(fc.option(eui64)),
      deviceType: fieldOr(fc.option(fc.constantFrom(...DEVICE_TYPES))),
      partyId: fieldOr(fc.option(eui64)),
      role: fieldOr(fc.option(fc.constantFrom(...OWNER_ROLES))),
      effectiveFrom: fieldOr(fc.oneof(fc.integer({ min: 0, max: now }), anyNumber)),
    });
    fc.assert(
      fc.property(ownershipFields, (fields) => tally.add(factOrReject(fields))),
      { numRuns: RUNS },
    );
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.reasons.size).toBeGreaterThan(3);
  });

  it('a decoded value that is not a record at all', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, anyNumber, wrongType), (value) => {
        projectOrReject(value);
        factOrReject(value);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the Avro path: any value that fits the schema, encoded, decoded and validated', () => {
  const auditRecord = fc.record({
    eventId: fc.oneof(anyString, fc.string({ minLength: 1 })),
    messageType: fc.constantFrom(...MESSAGE_TYPES),
    requestId: fc.oneof(requestId, anyString),
    serviceReference: anyString,
    serviceReferenceVariant: fc.oneof(fc.constantFrom('2.2', '6.15.1'), anyString),
    deviceId: fc.oneof(eui64, anyString),
    originatorId: fc.oneof(eui64, anyString),
    originatorRole: fc.constantFrom(...USER_ROLES),
    eventTime: fc.oneof(validEventTime.map(BigInt), anyInt64),
    responseCode: fc.option(fc.oneof(fc.stringMatching(/^[A-Z0-9]{1,8}$/), anyString)),
    payload: anyBytes,
  });

  const ownershipRecord = fc.record({
    eventId: fc.oneof(anyString, fc.string({ minLength: 1 })),
    type: fc.constantFrom(...OWNERSHIP_EVENT_TYPES),
    mpxn: fc.oneof(mpxn, anyString),
    deviceId: fc.option(fc.oneof(eui64, anyString)),
    deviceType: fc.option(fc.constantFrom(...DEVICE_TYPES)),
    partyId: fc.option(fc.oneof(eui64, anyString)),
    role: fc.option(fc.constantFrom(...OWNER_ROLES)),
    effectiveFrom: fc.oneof(fc.integer({ min: 0, max: now }).map(BigInt), anyInt64),
  });

  it('audit events', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(auditRecord, (record) => {
        const decoded = outcome(() => decodeAvroBody<{ eventTime: number }>(auditType, 1, auditWriter.toBuffer(record), 'AuditEvent'));
        // A long avsc refuses is dead-lettered as UNDECODABLE; anything else decodes, exactly.
        expect('rejected' in decoded ? decoded.rejected : 'decoded').toBe(avscRefuses(record.eventTime) ? DlqReason.UNDECODABLE : 'decoded');
        if ('value' in decoded) {
          // avsc reads negative longs below -2^52 inexactly (seen: -(2^52)-1 read as 2^52); no
          // such time is valid, and validation must then reject whatever was read.
          if (record.eventTime >= -(2n ** 52n)) expect(decoded.value.eventTime).toBe(Number(record.eventTime));
          else expect('rejected' in outcome(() => validateAuditEvent(decoded.value as never, limits))).toBe(true);
          tally.add(projectOrReject(decoded.value));
        }
      }),
      { numRuns: RUNS },
    );
    expect(tally.accepted).toBeGreaterThan(0);
  });

  it('ownership events', () => {
    const tally = new Tally();
    fc.assert(
      fc.property(ownershipRecord, (record) => {
        const decoded = outcome(() => decodeAvroBody<{ effectiveFrom: number }>(ownershipType, 1, ownershipWriter.toBuffer(record), 'OwnershipEvent'));
        expect('rejected' in decoded ? decoded.rejected : 'decoded').toBe(avscRefuses(record.effectiveFrom) ? DlqReason.UNDECODABLE : 'decoded');
        if ('value' in decoded) {
          // As for audit events: below -2^52 avsc reads inexactly, and validation rejects what it read.
          if (record.effectiveFrom >= -(2n ** 52n)) expect(decoded.value.effectiveFrom).toBe(Number(record.effectiveFrom));
          else expect('rejected' in outcome(() => validateOwnershipEvent(decoded.value as never))).toBe(true);
          tally.add(factOrReject(decoded.value));
        }
      }),
      { numRuns: RUNS },
    );
    expect(tally.accepted).toBeGreaterThan(0);
  });

  it('arbitrary bytes and corrupted encodings', () => {
    const corrupted = <T>(writer: Type, records: fc.Arbitrary<T>) =>
      fc
        .tuple(records, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
        .map(([record, at, byte, cut]) => {
          const body = Buffer.from(writer.toBuffer(record));
          body[at % body.length] = byte;
          return body.subarray(0, body.length - (cut % 3));
        });
    const bodies = fc.oneof(anyBytes, corrupted(auditWriter, auditRecord), corrupted(ownershipWriter, ownershipRecord));
    fc.assert(
      fc.property(bodies, (body) => {
        const audit = outcome(() => decodeAvroBody<unknown>(auditType, 1, body, 'AuditEvent'));
        if ('value' in audit) projectOrReject(audit.value);
        const ownership = outcome(() => decodeAvroBody<unknown>(ownershipType, 1, body, 'OwnershipEvent'));
        if ('value' in ownership) factOrReject(ownership.value);
      }),
      { numRuns: RUNS },
    );
  });

  it('the poison record of the report: eventTime 9e15 is INVALID_EVENT_TIME, not a RangeError', () => {
    const good = {
      eventId: 'evt-1',
      messageType: 'SERVICE_REQUEST',
      requestId: '90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1',
      serviceReference: '2.2',
      serviceReferenceVariant: '2.2',
      deviceId: '00-DB-12-34-56-78-90-A0',
      originatorId: '90-B3-D5-1F-30-01-00-00',
      originatorRole: 'IS',
      responseCode: null,
      payload: Buffer.from('<sr:Request/>'),
    };
    const decoded = decodeAvroBody<unknown>(auditType, 1, auditWriter.toBuffer({ ...good, eventTime: 9_000_000_000_000_000n }), 'AuditEvent');
    expect(projectOrReject(decoded)).toEqual({ rejected: DlqReason.INVALID_EVENT_TIME });
    const inRange = decodeAvroBody<unknown>(auditType, 1, auditWriter.toBuffer({ ...good, eventTime: BigInt(now) }), 'AuditEvent');
    expect('value' in projectOrReject(inRange)).toBe(true);
  });
});
