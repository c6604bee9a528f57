/** The stages of one call, in the order they run (detect only skips the last two). */
export type ProgressStage = 'decode' | 'detect' | 'redact' | 'encode';

/** Where a call stands: what a progress bar shows while a large photo or a `thorough` run takes seconds. */
export interface Progress {
  readonly stage: ProgressStage;
  /** Inference runs done (of the current frame, for an animation or a multi-page file). */
  readonly runs: number;
  /**
   * Inference runs planned so far. The plan grows when a find calls for a closer look (a crowd, a
   * vehicle, a plate to read), so `runs / plannedRuns` can step back; it ends equal to `runs`.
   */
  readonly plannedRuns: number;
  /** An animation's or a multi-page file's frame being read: its position among the frames detected. */
  readonly frame?: { readonly index: number; readonly count: number };
}

/** Where each stage starts and ends on the bar: detection is nearly all of a run's time. */
const SPANS: Readonly<Record<ProgressStage, readonly [number, number]>> = {
  decode: [0, 0.05],
  detect: [0.05, 0.9],
  redact: [0.9, 0.95],
  encode: [0.95, 1],
};

/**
 * How far a run has come, from 0 to 1: a stage's share of the bar, filled within detection by the
 * inference runs done of those planned (and by frames, for an animation).
 * @example progressFraction({ stage: 'detect', runs: 5, plannedRuns: 10 }) // 0.475
 */
export function progressFraction(progress: Progress): number {
  const [from, to] = SPANS[progress.stage];
  if (progress.stage !== 'detect') return from;
  const runs = progress.plannedRuns > 0 ? Math.min(1, progress.runs / progress.plannedRuns) : 0;
  const done = progress.frame ? (progress.frame.index + runs) / progress.frame.count : runs;
  return from + (to - from) * done;
}

/** What a caller can follow of one call. */
export interface CallHooks {
  /** Called at each stage and after each inference run; called synchronously, so keep it cheap. */
  readonly onProgress?: (progress: Progress) => void;
}

/** Counts one call's inference runs for its progress; without a listener it only counts. */
export class RunTally {
  private current: ProgressStage = 'decode';
  private runs = 0;
  private planned = 0;
  private frameAt: Progress['frame'];

  constructor(private readonly listener?: (progress: Progress) => void) {}

  /** Enters a stage (and reports it). */
  stage(stage: ProgressStage): void {
    this.current = stage;
    this.report();
  }

  /** Starts frame `index` of `count`: its runs are counted afresh. */
  frame(index: number, count: number): void {
    this.frameAt = { index, count };
    this.runs = 0;
    this.planned = 0;
    this.report();
  }

  /** Adds `count` runs to the plan, before they start. */
  plan(count: number): void {
    if (count === 0) return;
    this.planned += count;
    this.report();
  }

  /** One planned run has finished. */
  ran(): void {
    this.runs++;
    this.report();
  }

  private report(): void {
    this.listener?.({
      stage: this.current,
      runs: this.runs,
      plannedRuns: this.planned,
      ...(this.frameAt ? { frame: this.frameAt } : {}),
    });
  }
}

/**
 * `tell`, called at most once every `ms` (by `now`'s clock), except with `always`: the reports that
 * must not be dropped (an image done). The function returned says whether it told.
 */
export function atMostEvery<T>(
  ms: number,
  tell: (value: T) => void,
  now: () => number = () => performance.now(),
): (value: T, always?: boolean) => boolean {
  let told = Number.NEGATIVE_INFINITY;
  return (value, always = false) => {
    const at = now();
    if (!always && at - told < ms) return false;
    told = at;
    tell(value);
    return true;
  };
}
