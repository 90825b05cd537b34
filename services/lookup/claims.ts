// From a verified token's claims to the caller the lookup serves. Pure.
import { normaliseEui64 } from '../shared/identifiers';
import type { Caller } from './view';

export const OPERATOR_SCOPE = 'operator';
const MAX_OPERATOR_SUBJECT = 200;

/** OAuth2 `scope`: space-separated; some issuers send an array (`scp`). */
export function scopesOf(claims: Record<string, unknown>): string[] {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === 'string');
  return [];
}

/** A party's `sub` is its User ID (EUI-64, normalised); an operator's is any short identifier. */
export function callerFromClaims(claims: Record<string, unknown>): Caller | { error: string } {
  const operator = scopesOf(claims).includes(OPERATOR_SCOPE);
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.trim() === '') return { error: 'the token has no sub claim' };
  if (operator) {
    if (sub.length > MAX_OPERATOR_SUBJECT || /[\u0000-\u001f]/.test(sub)) return { error: 'the token\'s sub claim is not a usable operator identifier' };
    return { subject: sub, operator: true };
  }
  const partyId = normaliseEui64(sub);
  if (!partyId) return { error: 'the token\'s sub claim is not a User ID (EUI-64, e.g. 90-B3-D5-1F-30-01-00-00)' };
  return { subject: partyId, operator: false };
}

/** The token of an `Authorization: Bearer <token>` header, or why there is none. */
export function bearerToken(header: string | undefined): { token: string } | { error: string } {
  if (header === undefined || header === '') return { error: 'missing bearer token: send Authorization: Bearer <JWT>' };
  const match = /^Bearer +([A-Za-z0-9_.-]+=*) *$/i.exec(header);
  if (!match) return { error: 'the Authorization header must be "Bearer <JWT>"' };
  return { token: match[1] };
}
