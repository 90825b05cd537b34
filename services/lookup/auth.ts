// Bearer tokens: JWTs with an asymmetric signature (ES256 or EdDSA), verified with jose against the
// configured key set (a JWKS file, read at start, or a URL, fetched and cached by jose).
import fs from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ConfigError, type Config } from '../shared/config';
import { bearerToken, callerFromClaims } from './claims';
import type { Caller } from './view';

export const TOKEN_ALGORITHMS = ['ES256', 'EdDSA'];
/** Clock difference tolerated between the issuer and this service on exp/nbf/iat. */
const CLOCK_TOLERANCE_S = 30;

export type Authentication = { caller: Caller } | { status: 401 | 503; message: string };

export function keySetFrom(location: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(location)) return createRemoteJWKSet(new URL(location), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
  let jwks: unknown;
  try {
    jwks = JSON.parse(fs.readFileSync(location, 'utf8'));
  } catch (error) {
    throw new ConfigError(`LOOKUP_JWKS: cannot read a key set from ${location} (${(error as Error).message}); for the local stack run npm run stack:up, which creates it`);
  }
  try {
    return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  } catch (error) {
    throw new ConfigError(`LOOKUP_JWKS: ${location} is not a JWKS (${(error as Error).message})`);
  }
}

function describe(error: unknown): Authentication {
  if (error instanceof errors.JWTExpired) return { status: 401, message: 'the token has expired' };
  if (error instanceof errors.JWTClaimValidationFailed) return { status: 401, message: `the token was refused: ${error.message}` };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { status: 401, message: 'the token\'s signature does not verify' };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return { status: 401, message: 'the token is not signed by a key of the configured key set' };
  if (error instanceof errors.JOSEAlgNotAllowed) return { status: 401, message: `the token's algorithm is not accepted (use one of ${TOKEN_ALGORITHMS.join(', ')})` };
  if (error instanceof errors.JWKSTimeout) return { status: 503, message: 'the key set could not be fetched; try again' };
  if (error instanceof errors.JOSEError) return { status: 401, message: 'the token is not a valid JWT' };
  return { status: 503, message: 'the key set could not be fetched; try again' };
}

export function createAuthenticator(config: Pick<Config, 'lookupJwks' | 'lookupIssuer' | 'lookupAudience'>): (authorization: string | undefined) => Promise<Authentication> {
  const keySet = keySetFrom(config.lookupJwks);
  return async (authorization) => {
    const bearer = bearerToken(authorization);
    if ('error' in bearer) return { status: 401, message: bearer.error };
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(bearer.token, keySet, {
        algorithms: TOKEN_ALGORITHMS,
        issuer: config.lookupIssuer,
        audience: config.lookupAudience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (error) {
      return describe(error);
    }
    const caller = callerFromClaims(claims);
    return 'error' in caller ? { status: 401, message: caller.error } : { caller };
  };
}
