// Identifier rules from the contract: EUI-64 ids, DUIS Request IDs, MPANs and MPRNs.

// Tested before upper-casing: toUpperCase maps some non-ASCII letters onto ASCII hex (the ligature
// U+FB00 'ﬀ' becomes 'FF'), which would let a non-EUI-64 through as a valid id.
const EUI64_ANY_CASE = /^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$/;

/** Upper-cases an EUI-64 written in lower case; returns null for anything that is not an EUI-64. */
export function normaliseEui64(value: unknown): string | null {
  if (typeof value !== 'string' || !EUI64_ANY_CASE.test(value)) return null;
  return value.toUpperCase();
}

export interface RequestIdParts {
  originatorId: string;
  deviceId: string;
  counter: string;
}

/** Parses `<originator User ID>:<target Device ID>:<counter>`; null when malformed. */
export function parseRequestId(value: unknown): RequestIdParts | null {
  if (typeof value !== 'string') return null;
  const parts = value.split(':');
  if (parts.length !== 3) return null;
  const originatorId = normaliseEui64(parts[0]);
  const deviceId = normaliseEui64(parts[1]);
  const counter = parts[2];
  if (!originatorId || !deviceId || !/^[0-9]{1,20}$/.test(counter)) return null;
  return { originatorId, deviceId, counter };
}

// typeof first: RegExp.test coerces its argument, so a number would pass and a Symbol would throw.
export function isMpan(mpxn: unknown): boolean {
  return typeof mpxn === 'string' && /^[0-9]{13}$/.test(mpxn);
}

export function isMprn(mpxn: unknown): boolean {
  return typeof mpxn === 'string' && /^[0-9]{6,10}$/.test(mpxn);
}
