// Prints a bearer token for the lookup API, signed with the local stack's key (development, tests):
//   npm run token -- --party <User ID> [--operator] [--ttl <seconds>]
import { parseArgs } from 'node:util';
import { loadConfig } from '../shared/config';
import { normaliseEui64 } from '../shared/identifiers';
import { mintToken, readSigningKey } from '../lookup/keys';

const USAGE = 'usage: npm run token -- --party <User ID, EUI-64> [--operator] [--ttl <seconds, default 3600>]';

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: { party: { type: 'string' }, operator: { type: 'boolean', default: false }, ttl: { type: 'string', default: '3600' }, help: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const party = normaliseEui64(values.party);
  if (!party) throw new Error(`--party must be a User ID (EUI-64, e.g. 90-B3-D5-1F-30-01-00-00)\n${USAGE}`);
  const ttl = /^[0-9]{1,7}$/.test(values.ttl!) ? Number(values.ttl) : NaN;
  if (!(ttl >= 1 && ttl <= 30 * 24 * 3600)) throw new Error(`--ttl must be 1 to 2592000 seconds\n${USAGE}`);
  const config = loadConfig();
  const token = await mintToken(readSigningKey(config.stackDir), {
    subject: party,
    operator: values.operator!,
    issuer: config.lookupIssuer,
    audience: config.lookupAudience,
    ttlSeconds: ttl,
  });
  process.stdout.write(`${token}\n`);
}

run().catch((error: Error) => {
  console.error(`token: ${error.message}`);
  process.exit(1);
});
