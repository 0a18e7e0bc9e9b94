import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** What is being counted, e.g. "index gallery products". */
  title: string;
  stream?: NodeJS.WriteStream;
  /** A plain line at least this often when the output is not a terminal. */
  intervalMs?: number;
  /** What the rate counts: "img" (default) or e.g. "entries". */
  unit?: string;
}

/**
 * A bar with rate and ETA on a terminal; on a pipe or a log file, plain lines at every 5 % and
 * at least every `intervalMs`, so CI logs stay readable and a watcher can follow the run.
 */
export class Progress {
  private readonly started = performance.now();
  private readonly stream: NodeJS.WriteStream;
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly step: number;
  private readonly intervalMs: number;
  private readonly unit: string;
  private done = 0;
  private lastLineAt = performance.now();
  private lastLineDone = 0;

  constructor(
    private readonly total: number,
    private readonly options: ProgressOptions,
  ) {
    this.stream = options.stream ?? process.stderr;
    this.intervalMs = options.intervalMs ?? 10_000;
    this.unit = options.unit ?? 'img';
    this.step = Math.max(1, Math.ceil(total / 20));
    if (this.stream.isTTY) {
      this.bar = new cliProgress.SingleBar({
        stream: this.stream,
        format: `${options.title} [{bar}] {percentage}% | {value}/{total} | {rate} ${this.unit}/s | ETA {eta_formatted} | {counts}`,
        barsize: 24,
        hideCursor: true,
        etaBuffer: 50,
      });
      this.bar.start(total, 0, { rate: '0.0', counts: '' });
    }
  }

  /** `n` more items are finished; `counts` is a short status such as "enrolled 5, failed 1". */
  tick(counts: string, n = 1): void {
    this.done += n;
    const rate = this.rate();
    if (this.bar) {
      this.bar.update(this.done, { rate: rate.toFixed(1), counts });
      return;
    }
    const now = performance.now();
    if (this.done >= this.total || this.done - this.lastLineDone >= this.step || now - this.lastLineAt >= this.intervalMs) {
      const eta = rate > 0 ? (this.total - this.done) / rate : 0;
      const percent = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
      this.stream.write(`${this.options.title}: ${this.done}/${this.total} (${percent}%) ${rate.toFixed(1)} ${this.unit}/s ETA ${formatSeconds(eta)} | ${counts}\n`);
      this.lastLineAt = now;
      this.lastLineDone = this.done;
    }
  }

  stop(): void {
    this.bar?.stop();
  }

  /** Items per second since the start. */
  rate(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.done / seconds : 0;
  }
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
