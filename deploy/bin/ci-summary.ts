// Prints the CI gate's last line from vitest's JSON report: `ci-summary.ts REPORT STATIC_FAILED TESTS_EXIT`.
import { readFileSync } from 'node:fs';
import { ciSummary, type VitestReport } from '../src/ci-summary.ts';

const [file, staticFailed, testsExit] = process.argv.slice(2);
if (!file || staticFailed === undefined || testsExit === undefined) {
  process.stderr.write('usage: ci-summary.ts <vitest.json> <static failed 0|1> <test exit status>\n');
  process.exit(2);
}
let report: VitestReport | undefined;
try {
  report = JSON.parse(readFileSync(file, 'utf8')) as VitestReport;
} catch (error) {
  process.stderr.write(
    `no test report at ${file} (${error instanceof Error ? error.message : String(error)})\n`,
  );
}
process.stdout.write(`${ciSummary(report, staticFailed === '1', Number(testsExit))}\n`);
