// Principals and ACLs on a secured cluster (SASL/SCRAM, StandardAuthorizer, nothing allowed without
// an ACL): a SCRAM user per party with READ on its own topic only, one per service with exactly what
// it needs (aclPlan.ts), one per operator with READ on sat.dlq and visibility.unowned. Idempotent.
//
//   KAFKA_BROKERS=... KAFKA_SECURITY_PROTOCOL=sasl_plaintext KAFKA_SASL_USERNAME=<super user> KAFKA_SASL_PASSWORD=... \
//   npm run provision:acls -- --credentials FILE [--party ID ...] [--parties-file FILE] [--operator NAME ...] [--prune] [--print]
//
// Which parties: the ones named (--party, --parties-file: one User ID per line), never the
// registration feed: giving a party credentials is an onboarding act, and a principal that nobody
// was told the password of would serve no one. A party topic the fan-out creates for a party not
// provisioned yet is readable by no one (deny by default) until it is.
// Passwords: FILE holds `principal=password` lines (mode 600); a principal without one gets a random
// password, appended to FILE. Passwords go to the cluster on the admin tool's stdin, never in
// arguments, output or logs. The Node client has no ACL or SCRAM admin calls, so the plan is applied
// by the Java admin client (infra/kafka/SecurityAdmin.java, run from source on the stack's Kafka jars).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config, type KafkaSecurity } from '../shared/config';
import { partyTopic } from '../shared/contracts';
import { createKafka } from '../shared/kafka';
import { createLogger } from '../shared/logger';
import { REPO_ROOT } from '../shared/paths';
import { ensureTopics, partyTopicConfig } from '../shared/topics';
import { accessPlan, aclTable, defaultServicePrincipals, partyPrincipal, planLines, type AccessPlan } from './aclPlan';

export interface ProvisionAccessOptions {
  config: Config;
  parties: string[];
  operators: string[];
  /** `principal=password` lines; missing principals get a random password appended. */
  credentialsFile: string;
  servicePrincipalPrefix?: string;
  /** Delete a managed principal's ACLs that the plan no longer has. */
  prune?: boolean;
  /** Create the parties' topics now, so a party can subscribe before its first delivery (default true). */
  createPartyTopics?: boolean;
}

export interface ProvisionAccessResult {
  plan: AccessPlan;
  /** What the admin tool printed (counts only). */
  summary: string;
  createdTopics: string[];
}

export function readCredentials(file: string): Map<string, string> {
  const credentials = new Map<string, string>();
  if (!fs.existsSync(file)) return credentials;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const at = line.indexOf('=');
    if (line.startsWith('#') || at <= 0) continue;
    credentials.set(line.slice(0, at), line.slice(at + 1));
  }
  return credentials;
}

/** Adds a random password for every user the file lacks (the file stays the owner's alone). */
function completeCredentials(file: string, users: string[]): Map<string, string> {
  const credentials = readCredentials(file);
  const added = users.filter((u) => !credentials.has(u));
  if (added.length > 0) {
    for (const user of added) credentials.set(user, randomBytes(24).toString('base64url'));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, added.map((u) => `${u}=${credentials.get(u)}\n`).join(''), { mode: 0o600 });
  }
  fs.chmodSync(file, 0o600);
  return credentials;
}

function jaasQuoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The Java admin client's settings for the configured credentials. */
export function javaClientProperties(security: KafkaSecurity): string {
  const lines = [`security.protocol=${security.protocol.toUpperCase()}`];
  if (security.sasl) {
    const module = security.sasl.mechanism === 'PLAIN' ? 'org.apache.kafka.common.security.plain.PlainLoginModule' : 'org.apache.kafka.common.security.scram.ScramLoginModule';
    lines.push(`sasl.mechanism=${security.sasl.mechanism}`);
    lines.push(`sasl.jaas.config=${module} required username=${jaasQuoted(security.sasl.username)} password=${jaasQuoted(security.sasl.password)};`.replace(/\\/g, '\\\\'));
  }
  if (security.sslCaLocation) lines.push('ssl.truststore.type=PEM', `ssl.truststore.location=${security.sslCaLocation}`);
  return `${lines.join('\n')}\n`;
}

function runSecurityAdmin(config: Config, lines: string[], prune: boolean): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'srv-visibility-acls-'));
  const clientConfig = path.join(dir, 'client.properties');
  fs.writeFileSync(clientConfig, javaClientProperties(config.kafkaSecurity), { mode: 0o600 });
  const args = [
    path.join(REPO_ROOT, 'infra/stack/kafka-secure.sh'),
    'java',
    path.join(REPO_ROOT, 'infra/kafka/SecurityAdmin.java'),
    '--bootstrap',
    config.kafkaBrokers.join(','),
    '--command-config',
    clientConfig,
    ...(prune ? ['--prune'] : []),
  ];
  return new Promise<string>((resolve, reject) => {
    const child = spawn('bash', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      fs.rmSync(dir, { recursive: true, force: true });
      if (code === 0) resolve(out.trim());
      else reject(new Error(`SecurityAdmin exited ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

export async function provisionAccess(options: ProvisionAccessOptions): Promise<ProvisionAccessResult> {
  const { config } = options;
  if (!config.kafkaSecurity.sasl) throw new Error('provisioning ACLs needs the super user: set KAFKA_SECURITY_PROTOCOL=sasl_plaintext (or sasl_ssl), KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  const plan = accessPlan({
    deployment: { groupPrefix: config.groupPrefix, transactionalIdPrefix: config.transactionalIdPrefix },
    services: defaultServicePrincipals(options.servicePrincipalPrefix),
    parties: options.parties,
    operators: options.operators,
  });
  const credentials = completeCredentials(options.credentialsFile, plan.users);
  const summary = await runSecurityAdmin(config, planLines(plan, credentials), options.prune ?? false);
  let createdTopics: string[] = [];
  if ((options.createPartyTopics ?? true) && options.parties.length > 0) {
    const logger = createLogger('warn', 'provision-acls');
    const admin = createKafka(config, logger, 'srv-visibility-provision-acls').admin();
    await admin.connect();
    try {
      const topics = [...new Set(options.parties.map((p) => partyTopic(partyPrincipal(p))))];
      createdTopics = await ensureTopics(admin, topics.map((t) => partyTopicConfig(t, config.topicReplicationFactor, config.partyTopicPartitions)), logger);
    } finally {
      await admin.disconnect();
    }
  }
  return { plan, summary, createdTopics };
}

function parseArgs(argv: string[]) {
  const parties: string[] = [];
  const operators: string[] = [];
  let credentialsFile: string | undefined;
  let servicePrincipalPrefix: string | undefined;
  let prune = false;
  let print = false;
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} takes a value`);
      return v;
    };
    switch (argv[i]) {
      case '--party': parties.push(value()); break;
      case '--parties-file':
        parties.push(...fs.readFileSync(value(), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
        break;
      case '--operator': operators.push(value()); break;
      case '--credentials': credentialsFile = value(); break;
      case '--service-principal-prefix': servicePrincipalPrefix = value(); break;
      case '--prune': prune = true; break;
      case '--print': print = true; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return { parties, operators: operators.length ? operators : ['operator'], credentialsFile, servicePrincipalPrefix, prune, print };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  if (args.print) {
    const plan = accessPlan({
      deployment: { groupPrefix: config.groupPrefix, transactionalIdPrefix: config.transactionalIdPrefix },
      services: defaultServicePrincipals(args.servicePrincipalPrefix),
      parties: args.parties,
      operators: args.operators,
    });
    console.log(aclTable(plan.acls));
    return;
  }
  if (!args.credentialsFile) throw new Error('--credentials FILE is required (principal=password lines; new principals are added to it)');
  const result = await provisionAccess({ config, ...args, credentialsFile: args.credentialsFile });
  console.log(`principals: ${result.plan.users.join(', ')}`);
  console.log(result.summary);
  if (result.createdTopics.length) console.log(`party topics created: ${result.createdTopics.join(', ')}`);
  console.log(`passwords: ${args.credentialsFile} (hand each party its own, over a secure channel)`);
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`provisioning ACLs failed: ${error.message}`);
    process.exit(1);
  });
}
