/** Wall-clock milliseconds per cascade stage, reported in responses and metrics. */
export class StageTimer {
  private readonly started = performance.now();
  private readonly stages: Record<string, number> = {};

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  timeSync<T>(stage: string, work: () => T): T {
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  private add(stage: string, ms: number): void {
    this.stages[stage] = (this.stages[stage] ?? 0) + ms;
  }

  result(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.stages)) out[k] = round(v);
    out.total = round(performance.now() - this.started);
    return out;
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;
