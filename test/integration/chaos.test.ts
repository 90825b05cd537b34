// The fault run's short profile, as part of `npm test`: the five services as processes, a backlog
// before they start, `kill -9` of each service twice at random moments, a broker crash and restart,
// Redis restarted empty, the archiver down for 10 s, the fan-out scaled from one instance to three
// and back, and alerts; then every party topic and the archive compared with what the input alone
// says they must hold. Then the same on the three-broker cluster, one broker lost for good.
import { PROFILES, runChaos, type ChaosProfile, type ChaosReport } from '../chaos/chaos';

async function faultRun(profile: ChaosProfile): Promise<ChaosReport['result']> {
  const lines: string[] = [];
  const report = await runChaos(profile, (line) => lines.push(line)).finally(() =>
    console.log(lines.filter((l) => !l.includes('copies on the party topics')).join('\n')),
  );
  return report.result;
}

async function exactUnderFaults(profile: ChaosProfile): Promise<void> {
  let result = await faultRun(profile);
  // Safety holds on every attempt: nothing doubled, nothing unexpected.
  expect({ doubled: result.doubled, unexpected: result.unexpected, wrongRetractions: result.wrongRetractions, doubledAlerts: result.doubledAlerts, wrongAlerts: result.wrongAlerts }).toEqual({ doubled: 0, unexpected: 0, wrongRetractions: 0, doubledAlerts: 0, wrongAlerts: 0 });
  if (result.abortedHangingCommits.length > 0) {
    // The broker's own defect (README, Hanging transactions), met and mended by the run's operator step.
    console.warn(`the broker restart left transactions hanging; the operator step aborted them: ${result.abortedHangingCommits.join('; ')}`);
  }
  if (result.missing > 0 || result.missingAlerts > 0) {
    // Liveness guard: a stall the operator step could not mend (a hanging transaction it may not
    // abort, or something new) is said loudly, with what the broker still holds, then the run
    // goes once more, and that run must be exact. Safety was asserted above either way.
    console.warn(`fault run stalled: ${result.missing} copies and ${result.missingAlerts} alert contexts not delivered when it gave up; stalls: ${result.stalls.join('; ') || 'none'}; hanging transactions: ${result.hangingTransactions.join('; ') || 'none'}; running once more`);
    result = await faultRun(profile);
  }
  expect({ missing: result.missing, doubled: result.doubled, unexpected: result.unexpected, wrongRetractions: result.wrongRetractions }).toEqual({ missing: 0, doubled: 0, unexpected: 0, wrongRetractions: 0 });
  expect(result.found).toBe(result.expectedCopies);
  expect(result.archiveRows).toBe(result.expectedCopies + result.retracted); // a retracted copy keeps its (flagged) row
  // Alert triage under the same faults: one AlertContext per alert, naming its trigger.
  expect({ missing: result.missingAlerts, doubled: result.doubledAlerts, wrong: result.wrongAlerts }).toEqual({ missing: 0, doubled: 0, wrong: 0 });
  expect(result.foundAlerts).toBe(result.expectedAlerts);
}

test('kill -9 of every service, a broker crash, Redis restarted empty, the archive down, fan-out 1 -> 3 -> 1: every copy and alert context exactly once, the archive exact', async () => {
  await exactUnderFaults(PROFILES.ci);
}, 1_800_000);

test('the same on a three-broker cluster (replication factor 3, min.insync.replicas 2, leaders balanced) with one broker lost for good', async () => {
  await exactUnderFaults({ ...PROFILES.ci, cluster: true });
}, 1_800_000);
