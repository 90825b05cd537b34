// Prints the closing line CI reads: `N passed, N failed` (jest's own summary is not recognised).
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed` + (results.numPendingTests ? `, ${results.numPendingTests} skipped` : '');
    // Written after jest's summary so it is the last line of the run.
    process.stdout.write(`\n${line}\n`);
  }
}
module.exports = SummaryReporter;
