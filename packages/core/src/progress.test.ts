import { describe, expect, it } from 'vitest';
import { atMostEvery, type Progress, progressFraction, RunTally } from './progress.ts';

type Step = (tally: RunTally) => void;
const stage =
  (s: Progress['stage']): Step =>
  (t) =>
    t.stage(s);
const plan =
  (n: number): Step =>
  (t) =>
    t.plan(n);
const ran: Step = (t) => t.ran();
const frame =
  (index: number, count: number): Step =>
  (t) =>
    t.frame(index, count);

describe('RunTally', () => {
  it.each<{ what: string; steps: Step[]; reports: Progress[] }>([
    {
      what: 'a stage is reported with the runs so far',
      steps: [stage('decode'), stage('detect')],
      reports: [
        { stage: 'decode', runs: 0, plannedRuns: 0 },
        { stage: 'detect', runs: 0, plannedRuns: 0 },
      ],
    },
    {
      what: 'plans add up and each run counts once',
      steps: [stage('detect'), plan(2), plan(1), ran, ran, ran],
      reports: [
        { stage: 'detect', runs: 0, plannedRuns: 0 },
        { stage: 'detect', runs: 0, plannedRuns: 2 },
        { stage: 'detect', runs: 0, plannedRuns: 3 },
        { stage: 'detect', runs: 1, plannedRuns: 3 },
        { stage: 'detect', runs: 2, plannedRuns: 3 },
        { stage: 'detect', runs: 3, plannedRuns: 3 },
      ],
    },
    {
      what: 'an empty plan reports nothing',
      steps: [plan(0)],
      reports: [],
    },
    {
      what: 'a later stage keeps the runs of detection',
      steps: [plan(1), ran, stage('encode')],
      reports: [
        { stage: 'decode', runs: 0, plannedRuns: 1 },
        { stage: 'decode', runs: 1, plannedRuns: 1 },
        { stage: 'encode', runs: 1, plannedRuns: 1 },
      ],
    },
    {
      what: 'each frame counts its runs afresh',
      steps: [stage('detect'), frame(0, 2), plan(1), ran, frame(1, 2), plan(2)],
      reports: [
        { stage: 'detect', runs: 0, plannedRuns: 0 },
        { stage: 'detect', runs: 0, plannedRuns: 0, frame: { index: 0, count: 2 } },
        { stage: 'detect', runs: 0, plannedRuns: 1, frame: { index: 0, count: 2 } },
        { stage: 'detect', runs: 1, plannedRuns: 1, frame: { index: 0, count: 2 } },
        { stage: 'detect', runs: 0, plannedRuns: 0, frame: { index: 1, count: 2 } },
        { stage: 'detect', runs: 0, plannedRuns: 2, frame: { index: 1, count: 2 } },
      ],
    },
  ])('$what', ({ steps, reports }) => {
    const seen: Progress[] = [];
    const tally = new RunTally((p) => seen.push(p));
    for (const step of steps) step(tally);
    expect(seen).toEqual(reports);
  });
});

describe('progressFraction', () => {
  it.each<{ progress: Progress; fraction: number }>([
    { progress: { stage: 'decode', runs: 0, plannedRuns: 0 }, fraction: 0 },
    { progress: { stage: 'detect', runs: 0, plannedRuns: 0 }, fraction: 0.05 },
    { progress: { stage: 'detect', runs: 5, plannedRuns: 10 }, fraction: 0.475 },
    { progress: { stage: 'detect', runs: 10, plannedRuns: 10 }, fraction: 0.9 },
    { progress: { stage: 'redact', runs: 10, plannedRuns: 10 }, fraction: 0.9 },
    { progress: { stage: 'encode', runs: 10, plannedRuns: 10 }, fraction: 0.95 },
    // The second of four frames, half read: 1.5 of 4 frames of detection.
    {
      progress: { stage: 'detect', runs: 2, plannedRuns: 4, frame: { index: 1, count: 4 } },
      fraction: 0.36875,
    },
    {
      progress: { stage: 'detect', runs: 0, plannedRuns: 0, frame: { index: 3, count: 4 } },
      fraction: 0.6875,
    },
  ])('$progress.stage $progress.runs/$progress.plannedRuns → $fraction', ({ progress, fraction }) => {
    expect(progressFraction(progress)).toBeCloseTo(fraction, 10);
  });
});

describe('atMostEvery', () => {
  it('tells at most once per interval, and always when asked to, and says whether it told', () => {
    const told: number[] = [];
    const clock = { ms: 0 };
    const tell = atMostEvery(
      250,
      (n: number) => told.push(n),
      () => clock.ms,
    );
    const answers = [tell(1)];
    clock.ms = 100;
    answers.push(tell(2), tell(3, true));
    clock.ms = 300;
    answers.push(tell(4));
    clock.ms = 600;
    answers.push(tell(5));
    expect(told).toEqual([1, 3, 5]);
    expect(answers).toEqual([true, false, true, false, true]);
  });
});
