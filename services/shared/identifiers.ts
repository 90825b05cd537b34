// Identifier rules from the contract: EUI-64 ids, DUIS Request IDs, MPANs and MPRNs.

const EUI64 = /^[0-9A-F]{2}(-[0-9A-F]{2}){7}$/;

/** Upper-cases an EUI-64 written in lower case; returns null for anything that is not an EUI-64. */
export function normaliseEui64(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const upper = value.toUpperCase();
  return EUI64.test(upper) ? upper : null;
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

export function isMpan(mpxn: string): boolean {
  return /^[0-9]{13}$/.test(mpxn);
}

export function isMprn(mpxn: string): boolean {
  return /^[0-9]{6,10}$/.test(mpxn);
}
