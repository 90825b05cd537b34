// The local stack's signing key for lookup tokens (development and tests; production uses its
// identity provider's key set): an ES256 key pair under $STACK_DIR/lookup, private key 0600.
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { OPERATOR_SCOPE } from './claims';

export const SIGNING_ALGORITHM = 'ES256';

export function keyPaths(stackDir: string): { dir: string; privateKey: string; jwks: string } {
  const dir = path.join(stackDir, 'lookup');
  return { dir, privateKey: path.join(dir, 'signing-key.jwk.json'), jwks: path.join(dir, 'jwks.json') };
}

/** Creates the key pair and the public JWKS unless both exist. Returns whether it created them. */
export async function ensureSigningKeys(stackDir: string): Promise<boolean> {
  const paths = keyPaths(stackDir);
  if (fs.existsSync(paths.privateKey) && fs.existsSync(paths.jwks)) return false;
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const meta = { kid, alg: SIGNING_ALGORITHM, use: 'sig' };
  // Written to temporary names first: a reader never sees half a key.
  const write = (file: string, value: unknown, mode: number) => {
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`, { mode });
    fs.renameSync(`${file}.tmp`, file);
  };
  write(paths.privateKey, { ...(await exportJWK(privateKey)), ...meta }, 0o600);
  write(paths.jwks, { keys: [{ ...publicJwk, ...meta }] }, 0o644);
  return true;
}

export interface TokenRequest {
  subject: string;
  operator: boolean;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** Seconds since the epoch the token is issued at (tests make expired tokens); default now. */
  issuedAt?: number;
}

export async function mintToken(privateJwk: JWK, request: TokenRequest): Promise<string> {
  const key = await importJWK(privateJwk, SIGNING_ALGORITHM);
  const issuedAt = request.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: request.operator ? `lookup ${OPERATOR_SCOPE}` : 'lookup' })
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: privateJwk.kid, typ: 'JWT' })
    .setSubject(request.subject)
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + request.ttlSeconds)
    .sign(key);
}

export function readSigningKey(stackDir: string): JWK {
  const file = keyPaths(stackDir).privateKey;
  if (!fs.existsSync(file)) throw new Error(`no signing key at ${file}: run npm run stack:up (it creates one)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as JWK;
}
