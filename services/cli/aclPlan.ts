// Who may do what on a secured cluster (pure): one principal per party, per service and per operator,
// each with the ACLs it needs and nothing more. Derived from what each service does:
// - every stage (shared/stage.ts) reads its input topic in its group `<GROUP_PREFIX>-<stage>` and
//   writes its output, its DLQ entries and its offsets in transactions of ids
//   `<TRANSACTIONAL_ID_PREFIX>-<stage>-<input topic>-<partition>` (shared/transactions.ts);
// - every process checks at start that the contract's topics exist (runtime.ts: ensureTopics lists
//   them), hence DESCRIBE on those, never CREATE;
// - the fan-out and alert triage create party topics on a party's first delivery (partyTopics.ts);
// - the fan-out reads the archiver group's committed offsets (archiveFrontier.ts), the ownership
//   projector replays its topics with throw-away reader groups (topicReader.ts);
// - an operator's replay (services/replay/) runs as its own principal: it writes party topics and
//   its checkpoints on visibility.replay.progress in transactions `<TRANSACTIONAL_ID_PREFIX>-replay-<id>`,
//   and reads the checkpoints back with a reader group. It reads the archive, not Kafka.
// Idempotent producers need no IDEMPOTENT_WRITE: since Kafka 3.0 WRITE on a topic implies it (KIP-679).
import { TOPICS, partyTopic } from '../shared/contracts';
import { normaliseEui64 } from '../shared/identifiers';
import { topicLayout } from '../shared/topics';
import { READER_GROUP_PREFIX } from '../shared/topicReader';

export type ResourceType = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID';
export type PatternType = 'LITERAL' | 'PREFIXED';
export type Operation = 'READ' | 'WRITE' | 'CREATE' | 'DESCRIBE' | 'DELETE';

export interface AclEntry {
  principal: string;
  resourceType: ResourceType;
  patternType: PatternType;
  resourceName: string;
  operation: Operation;
}

/** The services, and the replay job, each under a principal of its own. */
export const SERVICES = ['projector', 'ownership-projector', 'fan-out', 'archiver', 'alert-triage', 'replay'] as const;
export type Service = (typeof SERVICES)[number];

export interface Deployment {
  /** GROUP_PREFIX of the deployment the service principals run. */
  groupPrefix: string;
  /** TRANSACTIONAL_ID_PREFIX of that deployment. */
  transactionalIdPrefix: string;
}

/** A party consumes in groups with this prefix (its own, so no party can join another's group). */
export function partyGroupPrefix(partyId: string): string {
  return `party.${partyId}.`;
}

/** An operator consumes in groups with this prefix. */
export function operatorGroupPrefix(operator: string): string {
  return `operator.${operator}.`;
}

/** A party's principal is its User ID (normalised EUI-64); anything else is refused. */
export function partyPrincipal(partyId: string): string {
  const id = normaliseEui64(partyId);
  if (!id) throw new Error(`party id "${partyId}" is not an EUI-64 User ID`);
  return id;
}

const PRINCIPAL_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export function checkPrincipalName(name: string): string {
  if (!PRINCIPAL_NAME.test(name)) throw new Error(`principal name "${name}" must be 1-100 letters, digits, '.', '_' or '-'`);
  return name;
}

/** The stages each service runs, with the topic each reads (stage names as in the services). */
const STAGES: Record<Service, Array<{ stage: string; input: string }>> = {
  projector: [{ stage: 'projector', input: TOPICS.auditEvents }],
  'ownership-projector': [{ stage: 'ownership-projector', input: TOPICS.ownershipEvents }],
  'fan-out': [{ stage: 'fan-out', input: TOPICS.visibilityRecords }],
  archiver: [
    { stage: 'archiver', input: TOPICS.archive },
    { stage: 'alert-archiver', input: TOPICS.alertContexts },
  ],
  'alert-triage': [
    { stage: 'alert-triage', input: TOPICS.alerts },
    { stage: 'alert-triggers', input: TOPICS.visibilityRecords },
  ],
  replay: [],
};

/** Topics each service writes besides sat.dlq (literal names). */
const WRITES: Record<Service, string[]> = {
  projector: [TOPICS.visibilityRecords],
  'ownership-projector': [TOPICS.ownershipFacts],
  'fan-out': [TOPICS.archive, TOPICS.unowned, TOPICS.fanOutWaiting],
  archiver: [],
  // every AlertContext again, for the alert archiver (in the party-topic copy's transaction)
  'alert-triage': [TOPICS.alertContexts, TOPICS.alertTriageWaiting],
  replay: [TOPICS.replayProgress],
};

/** Services that write (and create) party topics. */
const PARTY_WRITERS: ReadonlySet<Service> = new Set<Service>(['fan-out', 'alert-triage', 'replay']);

function entry(principal: string, resourceType: ResourceType, patternType: PatternType, resourceName: string, operation: Operation): AclEntry {
  return { principal: `User:${principal}`, resourceType, patternType, resourceName, operation };
}

/** The ACLs of one service's principal in one deployment. */
export function serviceAcls(service: Service, principal: string, deployment: Deployment): AclEntry[] {
  checkPrincipalName(principal);
  const acls: AclEntry[] = [];
  const add = (resourceType: ResourceType, patternType: PatternType, name: string, ...operations: Operation[]) => {
    for (const operation of operations) acls.push(entry(principal, resourceType, patternType, name, operation));
  };
  // the start-up check that the contract's topics exist (runtime.ts), without the right to create them
  for (const { topic } of topicLayout({ replicationFactor: 1 })) add('TOPIC', 'LITERAL', topic, 'DESCRIBE');
  for (const { stage, input } of STAGES[service]) {
    add('TOPIC', 'LITERAL', input, 'READ');
    add('GROUP', 'LITERAL', `${deployment.groupPrefix}-${stage}`, 'READ');
    add('TRANSACTIONAL_ID', 'PREFIXED', `${deployment.transactionalIdPrefix}-${stage}-`, 'WRITE', 'DESCRIBE');
  }
  // every stage dead-letters what it cannot parse; the replay has no input to refuse
  for (const topic of [...(STAGES[service].length ? [TOPICS.dlq] : []), ...WRITES[service]]) add('TOPIC', 'LITERAL', topic, 'WRITE');
  if (PARTY_WRITERS.has(service)) add('TOPIC', 'PREFIXED', TOPICS.partyPrefix, 'WRITE', 'CREATE');
  // the archive frontier: how far the archiver has committed (archiveFrontier.ts)
  if (service === 'fan-out') add('GROUP', 'LITERAL', `${deployment.groupPrefix}-archiver`, 'DESCRIBE');
  // a rebuild of an empty store replays sat.ownership.events and the changelog with reader groups
  if (service === 'ownership-projector') {
    add('TOPIC', 'LITERAL', TOPICS.ownershipFacts, 'READ');
    add('GROUP', 'PREFIXED', READER_GROUP_PREFIX, 'READ', 'DELETE');
  }
  // waiting items restored from their changelog after Redis lost them (deliveryState.ts)
  if (service === 'fan-out' || service === 'alert-triage') {
    add('TOPIC', 'LITERAL', service === 'fan-out' ? TOPICS.fanOutWaiting : TOPICS.alertTriageWaiting, 'READ');
    add('GROUP', 'PREFIXED', READER_GROUP_PREFIX, 'READ', 'DELETE');
  }
  // the replay's transactions (one id per replay) and its checkpoints, read back to resume
  if (service === 'replay') {
    add('TRANSACTIONAL_ID', 'PREFIXED', `${deployment.transactionalIdPrefix}-replay-`, 'WRITE', 'DESCRIBE');
    add('TOPIC', 'LITERAL', TOPICS.replayProgress, 'READ');
    add('GROUP', 'PREFIXED', READER_GROUP_PREFIX, 'READ', 'DELETE');
  }
  return acls;
}

/** A party: READ (DESCRIBE comes with it) on its own topic, and its own consumer groups. Nothing else. */
export function partyAcls(partyId: string): AclEntry[] {
  const principal = partyPrincipal(partyId);
  return [
    entry(principal, 'TOPIC', 'LITERAL', partyTopic(principal), 'READ'),
    entry(principal, 'GROUP', 'PREFIXED', partyGroupPrefix(principal), 'READ'),
  ];
}

/** An operator: READ on the DLQ and on records nobody owns, in its own groups. */
export function operatorAcls(operator: string): AclEntry[] {
  checkPrincipalName(operator);
  return [
    entry(operator, 'TOPIC', 'LITERAL', TOPICS.dlq, 'READ'),
    entry(operator, 'TOPIC', 'LITERAL', TOPICS.unowned, 'READ'),
    entry(operator, 'GROUP', 'PREFIXED', operatorGroupPrefix(operator), 'READ'),
  ];
}

export interface AccessPlanInput {
  deployment: Deployment;
  /** Service principal names by service (e.g. `svc.projector`); services left out get none. */
  services: Partial<Record<Service, string>>;
  parties: string[];
  operators: string[];
}

export interface AccessPlan {
  /** SCRAM users to hold credentials for, by principal name (without `User:`). */
  users: string[];
  acls: AclEntry[];
}

/** Default service principal names: `<prefix>.<service>`. */
export function defaultServicePrincipals(prefix = 'svc'): Record<Service, string> {
  return Object.fromEntries(SERVICES.map((s) => [s, `${prefix}.${s}`])) as Record<Service, string>;
}

export function accessPlan(input: AccessPlanInput): AccessPlan {
  const users: string[] = [];
  const acls: AclEntry[] = [];
  for (const service of SERVICES) {
    const principal = input.services[service];
    if (!principal) continue;
    users.push(principal);
    acls.push(...serviceAcls(service, principal, input.deployment));
  }
  for (const party of [...new Set(input.parties.map(partyPrincipal))]) {
    users.push(party);
    acls.push(...partyAcls(party));
  }
  for (const operator of [...new Set(input.operators)]) {
    users.push(checkPrincipalName(operator));
    acls.push(...operatorAcls(operator));
  }
  if (new Set(users).size !== users.length) throw new Error('one principal is named for two roles (service, party, operator)');
  return { users, acls };
}

/** The plan's lines for infra/kafka/SecurityAdmin.java (tab-separated; passwords only on its stdin). */
export function planLines(plan: AccessPlan, passwords: ReadonlyMap<string, string>, mechanism = 'SCRAM-SHA-512', iterations = 8192): string[] {
  const lines: string[] = [];
  for (const user of plan.users) {
    const password = passwords.get(user);
    if (password === undefined) throw new Error(`no password for ${user}`);
    if (/[\t\r\n]/.test(password) || password.length < 12) throw new Error(`the password of ${user} must be 12 characters or more, without tabs or line breaks`);
    lines.push(['scram', user, mechanism, String(iterations), password].join('\t'));
  }
  for (const a of plan.acls) lines.push(['acl', a.principal, a.resourceType, a.patternType, a.resourceName, a.operation].join('\t'));
  return lines;
}

/** The README's table: one row per ACL. */
export function aclTable(acls: AclEntry[]): string {
  const rows = acls.map((a) => `| \`${a.principal}\` | ${a.resourceType} | ${a.patternType} | \`${a.resourceName}\` | ${a.operation} |`);
  return ['| principal | resource | pattern | name | operation |', '|---|---|---|---|---|', ...rows].join('\n');
}
