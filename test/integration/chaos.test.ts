// The fault run's short profile, as part of `npm test`: the five services as processes, a backlog
// before they start, `kill -9` of each service twice at random moments, a broker restart, the
// archiver down for 10 s, the fan-out scaled from one instance to three and back, and alerts;
// then every party topic and the archive compared with what the input alone says they must hold.
import { PROFILES, runChaos } from '../chaos/chaos';

test('kill -9 of every service, a broker restart, the archive down, fan-out 1 -> 3 -> 1: every copy and alert context exactly once, the archive exact', async () => {
  const lines: string[] = [];
  const report = await runChaos(PROFILES.ci, (line) => lines.push(line)).finally(() =>
    console.log(lines.filter((l) => !l.includes('copies on the party topics')).join('\n')),
  );
  const { result } = report;
  expect({ missing: result.missing, doubled: result.doubled, unexpected: result.unexpected }).toEqual({ missing: 0, doubled: 0, unexpected: 0 });
  expect(result.found).toBe(result.expectedCopies);
  expect(result.archiveRows).toBe(result.expectedCopies);
  // Alert triage under the same faults: one AlertContext per alert, naming its trigger.
  expect({ missing: result.missingAlerts, doubled: result.doubledAlerts, wrong: result.wrongAlerts }).toEqual({ missing: 0, doubled: 0, wrong: 0 });
  expect(result.foundAlerts).toBe(result.expectedAlerts);
}, 900_000);
