import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ciSummary, type VitestReport } from './ci-summary.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const file = (...statuses: string[]) => ({
  status: statuses.includes('failed') ? 'failed' : 'passed',
  assertionResults: statuses.map((status) => ({ status })),
});
const report = (over: Partial<VitestReport>): VitestReport => ({
  numPassedTests: 0,
  numFailedTests: 0,
  numPendingTests: 0,
  numTodoTests: 0,
  testResults: [],
  ...over,
});

describe('ciSummary', () => {
  it.each([
    {
      name: 'all green',
      report: report({
        numPassedTests: 3,
        numPendingTests: 1,
        testResults: [file('passed', 'passed', 'passed')],
      }),
      static: false,
      exit: 0,
      want: '1 skipped\n3 passed, 0 failed',
    },
    {
      name: 'a failed test counts once, not once more per describe around it',
      report: report({ numPassedTests: 1, numFailedTests: 1, testResults: [file('failed', 'passed')] }),
      static: false,
      exit: 1,
      want: '0 skipped\n1 passed, 1 failed',
    },
    {
      name: 'a file that did not load counts as one failure',
      report: report({
        numPassedTests: 2,
        testResults: [file('passed', 'passed'), { status: 'failed', assertionResults: [] }],
      }),
      static: false,
      exit: 1,
      want: '0 skipped\n2 passed, 1 failed',
    },
    {
      name: 'failed static checks',
      report: report({ numPassedTests: 2, testResults: [file('passed', 'passed')] }),
      static: true,
      exit: 0,
      want: '0 skipped\n2 passed, 1 failed',
    },
    {
      name: 'a non-zero exit with nothing failed (a crashed worker)',
      report: report({ numPassedTests: 2, testResults: [file('passed', 'passed')] }),
      static: false,
      exit: 1,
      want: '0 skipped\n2 passed, 1 failed',
    },
    { name: 'no report', report: undefined, static: false, exit: 1, want: '0 skipped\n0 passed, 1 failed' },
  ])('$name', ({ report, static: staticFailed, exit, want }) => {
    expect(ciSummary(report, staticFailed, exit)).toBe(want);
  });
});

describe('the summary of a real vitest report', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nestor-ci-summary-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one failed test in nested describes and one file that does not load: 2 failed', () => {
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(
      path.join(dir, 'nested.test.ts'),
      "import { describe, expect, it } from 'vitest';\n" +
        "describe('a', () => describe('b', () => { it('fails', () => expect(1).toBe(2)); it('passes', () => {}); }));\n",
    );
    writeFileSync(path.join(dir, 'broken.test.ts'), "import './missing.ts';\n");
    const json = path.join(dir, 'report.json');
    const vitest = spawnSync(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/vitest/vitest.mjs'),
        ...['run', '--root', dir, '--reporter=json', `--outputFile.json=${json}`],
      ],
      { encoding: 'utf8' },
    );
    expect(vitest.status).toBe(1);
    const parsed = JSON.parse(readFileSync(json, 'utf8')) as VitestReport;
    expect(ciSummary(parsed, false, vitest.status ?? 1)).toBe('0 skipped\n1 passed, 2 failed');
  });
});
