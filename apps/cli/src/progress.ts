/** Redrawing the bar within a file more often than this only costs the terminal. */
const REDRAW_MS = 100;

/** A one-line progress bar on a TTY stream; silent elsewhere (pipes, CI, --quiet). */
export class Progress {
  private done = 0;
  private failed = 0;
  private readonly started: number;
  private drawnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly total: number,
    private readonly label: string,
    private readonly enabled = Boolean(stream.isTTY),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** One more file is done (or failed). */
  tick(ok: boolean, current: string): void {
    this.done++;
    if (!ok) this.failed++;
    this.draw(0, current);
  }

  /**
   * The file in progress is `fraction` done (0-1): the bar moves within it, so one large photo
   * or a `thorough` run does not sit at 0 for its whole time. Redrawn at most every 100 ms.
   */
  working(fraction: number, current: string): void {
    if (this.now() - this.drawnAt < REDRAW_MS) return;
    this.draw(Math.min(1, Math.max(0, fraction)), current);
  }

  finish(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }

  private draw(fraction: number, current: string): void {
    if (!this.enabled) return;
    this.drawnAt = this.now();
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 60));
    const done = this.done + fraction;
    const filled = Math.round((done / this.total) * width);
    const elapsed = (this.drawnAt - this.started) / 1000;
    const rate = done / Math.max(elapsed, 1e-3);
    // No estimate before anything is done: a rate of zero would promise forever. Slow files
    // (large photos, `thorough`) read better as seconds per file than as 0.0 files a second.
    const speed = done === 0 ? '' : rate >= 0.1 ? ` ${rate.toFixed(1)}/s` : ` ${(1 / rate).toFixed(0)}s/file`;
    const eta = done > 0 ? ` eta ${((this.total - done) / rate).toFixed(0)}s` : '';
    const name = current.length > 24 ? `…${current.slice(-23)}` : current;
    const within = fraction > 0 ? ` ${Math.floor(fraction * 100)}%` : '';
    const line = `${this.label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${this.done}/${this.total}${speed}${eta}${this.failed ? ` ${this.failed} failed` : ''} ${name}${within}`;
    this.stream.write(`\r\x1b[2K${line}`);
  }
}
