import type { Output } from './output';

/**
 * A one-line progress report on stderr, redrawn in place, only when stderr is a terminal
 * (never in a pipe or a log). Redraws at most ten times a second.
 */
export class ProgressLine {
  private lastDraw = 0;
  private drawn = false;
  private readonly started = performance.now();

  constructor(
    private readonly out: Output,
    private readonly verb: string,
  ) {}

  update(records: number, bytes: number): void {
    if (!this.out.stderrIsTty) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.drawn = true;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? Math.round(records / seconds) : 0;
    this.out.stderr.write(
      `\r\x1b[2K${this.verb} ${records.toLocaleString('en')} records, ${(bytes / 1024 / 1024).toFixed(1)} MiB (${rate.toLocaleString('en')}/s)`,
    );
  }

  done(): void {
    if (this.drawn) this.out.stderr.write('\r\x1b[2K');
  }
}
