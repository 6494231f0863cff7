// Prints the closing line CI reads, `tests: N passed, N failed, N skipped`, from vitest's JSON report, and
// exits non-zero when the report is missing, when a test failed, or when no test ran at all.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.testenv/results/vitest.json';
if (!existsSync(file)) {
  console.error(`no test report at ${file}: vitest did not finish`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numFailedTestSuites: number;
};
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (report.numFailedTests > 0 || report.numFailedTestSuites > 0 || report.numPassedTests === 0)
  process.exit(1);
