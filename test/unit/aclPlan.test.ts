// The ACL plan: each party reads its own topic and nothing else; each service gets what its code
// uses; operators read the DLQ and unowned records.
import { accessPlan, aclTable, defaultServicePrincipals, partyAcls, planLines, serviceAcls, type AclEntry } from '../../services/cli/aclPlan';
import { topicLayout } from '../../services/shared/topics';

const deployment = { groupPrefix: 'srv-visibility', transactionalIdPrefix: 'srv-visibility' };
const A = '90-B3-D5-1F-30-01-00-00';
const B = '90-B3-D5-1F-30-01-00-01';

const rows = (acls: AclEntry[]) => acls.map((a) => `${a.operation} ${a.resourceType}:${a.patternType}:${a.resourceName}`).sort();

describe('aclPlan', () => {
  it('gives a party READ on its own topic and its own groups, nothing else', () => {
    expect(rows(partyAcls(A))).toEqual([`READ GROUP:PREFIXED:party.${A}.`, `READ TOPIC:LITERAL:visibility.party.${A}`]);
    expect(partyAcls(A.toLowerCase())[0].principal).toBe(`User:${A}`);
    expect(() => partyAcls('not-a-user-id')).toThrow(/EUI-64/);
  });

  it('no principal but the party itself may read a party topic, and no party gets a prefixed topic right', () => {
    const plan = accessPlan({ deployment, services: defaultServicePrincipals(), parties: [A, B], operators: ['ops'] });
    const readsA = plan.acls.filter((a) => a.resourceType === 'TOPIC' && a.operation === 'READ' && (a.resourceName === `visibility.party.${A}` || (a.patternType === 'PREFIXED' && `visibility.party.${A}`.startsWith(a.resourceName))));
    expect(readsA.map((a) => a.principal)).toEqual([`User:${A}`]);
    expect(plan.acls.filter((a) => a.principal === `User:${B}` && a.resourceType === 'TOPIC' && a.patternType === 'PREFIXED')).toEqual([]);
    expect(plan.users).toEqual([...Object.values(defaultServicePrincipals()), A, B, 'ops']);
  });

  it('gives the projector its input, output, DLQ, group and transactional ids, and no CREATE', () => {
    expect(rows(serviceAcls('projector', 'svc.projector', deployment))).toEqual(
      [
        'READ TOPIC:LITERAL:sat.audit.events',
        'READ GROUP:LITERAL:srv-visibility-projector',
        'WRITE TRANSACTIONAL_ID:PREFIXED:srv-visibility-projector-',
        'DESCRIBE TRANSACTIONAL_ID:PREFIXED:srv-visibility-projector-',
        'WRITE TOPIC:LITERAL:sat.dlq',
        'WRITE TOPIC:LITERAL:visibility.records',
        // the start-up check that the contract's topics exist
        ...topicLayout({ replicationFactor: 1 }).map((t) => `DESCRIBE TOPIC:LITERAL:${t.topic}`),
      ].sort(),
    );
  });

  it('lets the fan-out and alert triage create and write party topics, the fan-out see the archiver group', () => {
    const fanOut = rows(serviceAcls('fan-out', 'svc.fan-out', deployment));
    expect(fanOut).toEqual(expect.arrayContaining(['CREATE TOPIC:PREFIXED:visibility.party.', 'WRITE TOPIC:PREFIXED:visibility.party.', 'WRITE TOPIC:LITERAL:visibility.archive', 'WRITE TOPIC:LITERAL:visibility.unowned', 'DESCRIBE GROUP:LITERAL:srv-visibility-archiver']));
    // its input, and its own waiting-items changelog (restored after Redis lost them)
    expect(fanOut.filter((r) => r.startsWith('READ TOPIC'))).toEqual(['READ TOPIC:LITERAL:visibility.fan-out.waiting', 'READ TOPIC:LITERAL:visibility.records']);
    expect(fanOut).toEqual(expect.arrayContaining(['WRITE TOPIC:LITERAL:visibility.fan-out.waiting']));
    const triage = rows(serviceAcls('alert-triage', 'svc.alert-triage', deployment));
    expect(triage).toEqual(expect.arrayContaining(['READ GROUP:LITERAL:srv-visibility-alert-triage', 'READ GROUP:LITERAL:srv-visibility-alert-triggers', 'WRITE TRANSACTIONAL_ID:PREFIXED:srv-visibility-alert-triggers-', 'CREATE TOPIC:PREFIXED:visibility.party.', 'WRITE TOPIC:LITERAL:visibility.alert-triage.waiting', 'READ TOPIC:LITERAL:visibility.alert-triage.waiting']));
    expect(triage.filter((r) => r.includes('fan-out.waiting') && !r.startsWith('DESCRIBE'))).toEqual([]);
    for (const service of ['projector', 'ownership-projector', 'archiver'] as const) {
      expect(rows(serviceAcls(service, `svc.${service}`, deployment)).filter((r) => r.includes('visibility.party.') || r.startsWith('CREATE'))).toEqual([]);
    }
  });

  it('lets the replay write party topics and its checkpoints in its own transactions, and nothing else', () => {
    const replay = rows(serviceAcls('replay', 'svc.replay', deployment)).filter((r) => !r.startsWith('DESCRIBE TOPIC'));
    expect(replay).toEqual(
      [
        'CREATE TOPIC:PREFIXED:visibility.party.',
        'WRITE TOPIC:PREFIXED:visibility.party.',
        'WRITE TOPIC:LITERAL:visibility.replay.progress',
        'READ TOPIC:LITERAL:visibility.replay.progress',
        'WRITE TRANSACTIONAL_ID:PREFIXED:srv-visibility-replay-',
        'DESCRIBE TRANSACTIONAL_ID:PREFIXED:srv-visibility-replay-',
        'READ GROUP:PREFIXED:srv-visibility-reader-',
        'DELETE GROUP:PREFIXED:srv-visibility-reader-',
      ].sort(),
    );
  });

  it('lets alert triage write visibility.alert-contexts and the archiver read it in its alert-archiver group, and no one else', () => {
    const triage = rows(serviceAcls('alert-triage', 'svc.alert-triage', deployment));
    expect(triage).toContain('WRITE TOPIC:LITERAL:visibility.alert-contexts');
    expect(triage.filter((r) => r.startsWith('READ TOPIC'))).toEqual(['READ TOPIC:LITERAL:sat.alerts', 'READ TOPIC:LITERAL:visibility.alert-triage.waiting', 'READ TOPIC:LITERAL:visibility.records']);
    const archiver = rows(serviceAcls('archiver', 'svc.archiver', deployment));
    expect(archiver).toEqual(
      expect.arrayContaining([
        'READ TOPIC:LITERAL:visibility.alert-contexts',
        'READ GROUP:LITERAL:srv-visibility-alert-archiver',
        'WRITE TRANSACTIONAL_ID:PREFIXED:srv-visibility-alert-archiver-',
        'DESCRIBE TRANSACTIONAL_ID:PREFIXED:srv-visibility-alert-archiver-',
        'DESCRIBE TOPIC:LITERAL:visibility.alert-contexts',
      ]),
    );
    expect(archiver.filter((r) => r.startsWith('WRITE TOPIC'))).toEqual(['WRITE TOPIC:LITERAL:sat.dlq']);
    const plan = accessPlan({ deployment, services: defaultServicePrincipals(), parties: [A], operators: ['ops'] });
    const touching = (operation: string) => plan.acls.filter((a) => a.resourceName === 'visibility.alert-contexts' && a.operation === operation).map((a) => a.principal);
    expect(touching('WRITE')).toEqual(['User:svc.alert-triage']);
    expect(touching('READ')).toEqual(['User:svc.archiver']);
  });

  it('follows the deployment prefixes', () => {
    const blue = rows(serviceAcls('archiver', 'svc.archiver', { groupPrefix: 'blue', transactionalIdPrefix: 'blue-tx' }));
    expect(blue).toEqual(expect.arrayContaining(['READ GROUP:LITERAL:blue-archiver', 'WRITE TRANSACTIONAL_ID:PREFIXED:blue-tx-archiver-']));
  });

  it('gives operators READ on sat.dlq and visibility.unowned only', () => {
    const plan = accessPlan({ deployment, services: {}, parties: [], operators: ['ops'] });
    expect(rows(plan.acls)).toEqual(['READ GROUP:PREFIXED:operator.ops.', 'READ TOPIC:LITERAL:sat.dlq', 'READ TOPIC:LITERAL:visibility.unowned']);
  });

  it('refuses one principal in two roles and bad names', () => {
    expect(() => accessPlan({ deployment, services: { projector: 'ops' }, parties: [], operators: ['ops'] })).toThrow(/two roles/);
    expect(() => accessPlan({ deployment, services: {}, parties: [], operators: ['a b'] })).toThrow(/principal name/);
  });

  it('writes the admin tool plan with passwords on it only, and refuses weak or multi-line passwords', () => {
    const plan = accessPlan({ deployment, services: {}, parties: [A], operators: [] });
    const lines = planLines(plan, new Map([[A, 'a-long-enough-password']]));
    expect(lines[0]).toBe(`scram\t${A}\tSCRAM-SHA-512\t8192\ta-long-enough-password`);
    expect(lines.slice(1)).toEqual([`acl\tUser:${A}\tTOPIC\tLITERAL\tvisibility.party.${A}\tREAD`, `acl\tUser:${A}\tGROUP\tPREFIXED\tparty.${A}.\tREAD`]);
    expect(() => planLines(plan, new Map([[A, 'short']]))).toThrow(/12 characters/);
    expect(() => planLines(plan, new Map([[A, 'a-long-enough\npassword']]))).toThrow(/line breaks/);
    expect(() => planLines(plan, new Map())).toThrow(/no password/);
    expect(aclTable(plan.acls).split('\n')).toHaveLength(4);
  });
});
