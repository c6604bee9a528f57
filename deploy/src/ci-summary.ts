/** The parts of vitest's JSON report (`--reporter=json`) the CI gate counts. */
export interface VitestReport {
  readonly numPassedTests: number;
  readonly numFailedTests: number;
  readonly numPendingTests: number;
  readonly numTodoTests?: number;
  readonly testResults: readonly {
    readonly status: string;
    readonly assertionResults: readonly { readonly status: string }[];
  }[];
}

/**
 * The gate's last two lines, `N skipped` then `N passed, N failed` (the line CI reads): failed tests, plus each test file that
 * failed with no failed test of its own (it did not load, or a hook threw), plus one for failed
 * static checks, plus one for a test run that exited non-zero with nothing counted as failed (a
 * crashed worker, an unhandled error). Without a report (vitest never wrote one), one failure.
 *
 * @param report vitest's JSON report, or undefined when it could not be read
 * @param staticFailed biome or tsc failed
 * @param testsExit the exit status of `npm test`
 * @example ciSummary(report, false, 0) // '3 skipped\n412 passed, 0 failed'
 */
export function ciSummary(
  report: VitestReport | undefined,
  staticFailed: boolean,
  testsExit: number,
): string {
  // vitest's numFailedTestSuites counts every describe block around a failed test: not used.
  const brokenFiles = (report?.testResults ?? []).filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((a) => a.status === 'failed'),
  ).length;
  let failed = report ? report.numFailedTests + brokenFiles : 1;
  if (staticFailed) failed += 1;
  if (testsExit !== 0 && failed === 0) failed = 1;
  const passed = report?.numPassedTests ?? 0;
  const skipped = report ? report.numPendingTests + (report.numTodoTests ?? 0) : 0;
  return `${skipped} skipped\n${passed} passed, ${failed} failed`;
}
