// Why a record cannot be processed. Each reason is a stable code on the DLQ's `dlq.reason` header.
export enum DlqReason {
  UNDECODABLE = 'UNDECODABLE',
  SCHEMA_UNKNOWN = 'SCHEMA_UNKNOWN',
  SCHEMA_MISMATCH = 'SCHEMA_MISMATCH',
  /** A required field is absent, null or empty. */
  MISSING_FIELD = 'MISSING_FIELD',
  /** A field is present but holds a value the contract does not allow (unknown enum symbol, malformed code, wrong type). */
  INVALID_FIELD = 'INVALID_FIELD',
  INVALID_DEVICE_ID = 'INVALID_DEVICE_ID',
  INVALID_USER_ID = 'INVALID_USER_ID',
  INVALID_REQUEST_ID = 'INVALID_REQUEST_ID',
  INVALID_MPXN = 'INVALID_MPXN',
  ROLE_MISMATCH = 'ROLE_MISMATCH',
  FUTURE_EVENT_TIME = 'FUTURE_EVENT_TIME',
  INVALID_EVENT_TIME = 'INVALID_EVENT_TIME',
  OVERSIZED = 'OVERSIZED',
  /** Parsing threw something other than a RejectedRecord (a defect); set by the stage loop, not by validation code. */
  PARSE_ERROR = 'PARSE_ERROR',
}

/** Thrown by pure validation code; the stage sends the original message to the DLQ with this reason. */
export class RejectedRecord extends Error {
  constructor(
    readonly reason: DlqReason,
    message: string,
  ) {
    super(message);
    this.name = 'RejectedRecord';
  }
}

/** Absent for MISSING_FIELD purposes: undefined, null, or a string of only whitespace. Anything else present but wrong is INVALID_FIELD. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}
