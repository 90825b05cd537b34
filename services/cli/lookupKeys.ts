// Creates the local stack's signing key for lookup tokens and its public JWKS, unless they exist
// (npm run stack:up runs it): $STACK_DIR/lookup/signing-key.jwk.json and jwks.json.
import { loadConfig } from '../shared/config';
import { ensureSigningKeys, keyPaths } from '../lookup/keys';

async function run(): Promise<void> {
  const { stackDir } = loadConfig();
  const created = await ensureSigningKeys(stackDir);
  const paths = keyPaths(stackDir);
  console.log(created ? `lookup: created signing key ${paths.privateKey} and key set ${paths.jwks}` : `lookup: signing key and key set present in ${paths.dir}`);
}

run().catch((error: Error) => {
  console.error(`lookup keys: ${error.message}`);
  process.exit(1);
});
