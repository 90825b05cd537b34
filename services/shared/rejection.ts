// Why a record cannot be processed. Each reason is a stable code on the DLQ's `dlq.reason` header.
export enum DlqReason {
  UNDECODABLE = 'UNDECODABLE',
  SCHEMA_UNKNOWN = 'SCHEMA_UNKNOWN',
  SCHEMA_MISMATCH = 'SCHEMA_MISMATCH',
  MISSING_FIELD = 'MISSING_FIELD',
  INVALID_DEVICE_ID = 'INVALID_DEVICE_ID',
  INVALID_USER_ID = 'INVALID_USER_ID',
  INVALID_REQUEST_ID = 'INVALID_REQUEST_ID',
  INVALID_MPXN = 'INVALID_MPXN',
  ROLE_MISMATCH = 'ROLE_MISMATCH',
  FUTURE_EVENT_TIME = 'FUTURE_EVENT_TIME',
  INVALID_EVENT_TIME = 'INVALID_EVENT_TIME',
  OVERSIZED = 'OVERSIZED',
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
