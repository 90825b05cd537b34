// The lookup API's opaque cursor: where the last page ended, bound to the query it came from
// (caller, view, device) and signed (HMAC-SHA256), so a cursor cannot be forged, edited or carried
// over to another query. Pure apart from the key it is given.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyset } from '../shared/archiveActivity';
import { normaliseEui64 } from '../shared/identifiers';

/** What a cursor is valid for: the same caller asking the same view of the same device. */
export interface CursorScope {
  subject: string;
  view: 'party' | 'operator' | 'unowned';
  deviceId: string | null;
}

const VERSION = 1;
const MAC_BYTES = 16;
export const MAX_CURSOR_LENGTH = 1024;
const MAX_EVENT_ID_LENGTH = 512;

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES);
}

function scopeTag(scope: CursorScope): string {
  return JSON.stringify([scope.subject, scope.view, scope.deviceId]);
}

/** `<base64url JSON of the keyset>.<base64url MAC over version, scope and keyset>`. */
export function encodeCursor(key: Buffer, scope: CursorScope, keyset: Keyset): string {
  const body = Buffer.from(JSON.stringify([VERSION, keyset.eventTime, keyset.eventId, keyset.recipientPartyId])).toString('base64url');
  return `${body}.${mac(key, `${scopeTag(scope)}|${body}`).toString('base64url')}`;
}

/** The keyset a cursor carries, or null when it is malformed, forged, or from another query. */
export function decodeCursor(key: Buffer, scope: CursorScope, cursor: string): Keyset | null {
  if (cursor.length > MAX_CURSOR_LENGTH) return null;
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(cursor);
  if (!match) return null;
  const [, body, signature] = match;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, `${scopeTag(scope)}|${body}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== VERSION) return null;
  const [, eventTime, eventId, recipientPartyId] = parsed as unknown[];
  if (!Number.isSafeInteger(eventTime)) return null;
  if (typeof eventId !== 'string' || eventId === '' || eventId.length > MAX_EVENT_ID_LENGTH) return null;
  if (typeof recipientPartyId !== 'string' || (recipientPartyId !== '' && normaliseEui64(recipientPartyId) !== recipientPartyId)) return null;
  return { eventTime: eventTime as number, eventId, recipientPartyId };
}
