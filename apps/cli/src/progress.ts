/** A one-line progress bar on a TTY stream; silent elsewhere (pipes, CI, --quiet). */
export class Progress {
  private done = 0;
  private failed = 0;
  private readonly started = performance.now();

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly total: number,
    private readonly label: string,
    private readonly enabled = Boolean(stream.isTTY),
  ) {}

  tick(ok: boolean, current: string): void {
    this.done++;
    if (!ok) this.failed++;
    if (!this.enabled) return;
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 60));
    const filled = Math.round((this.done / this.total) * width);
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-3);
    const eta = (this.total - this.done) / Math.max(rate, 1e-6);
    const name = current.length > 24 ? `…${current.slice(-23)}` : current;
    const line = `${this.label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${this.done}/${this.total} ${rate.toFixed(1)}/s eta ${eta.toFixed(0)}s${this.failed ? ` ${this.failed} failed` : ''} ${name}`;
    this.stream.write(`\r\x1b[2K${line}`);
  }

  finish(): void {
    if (this.enabled) this.stream.write('\r\x1b[2K');
  }
}
