/** Summaries of timing samples, and the loops that collect them. */

export interface Summary {
  n: number;
  mean: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The p-th percentile (0..100) of ascending samples, interpolating linearly between the two
 * nearest ranks (the "R-7" rule of spreadsheets and numpy), so p50 of an even count is the mean
 * of the middle pair.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = n === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / n;
  return {
    n,
    mean,
    min: sorted[0] ?? Number.NaN,
    median: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[n - 1] ?? Number.NaN,
  };
}

/** a / b, or NaN when either is missing or b is zero. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

export interface LoopOptions {
  /** Untimed runs first (lazy allocations, caches, JIT). */
  warmup: number;
  /** Timed runs, at least one. */
  iterations: number;
  /** Stop early once this much time was spent on timed runs (after at least `minIterations`). */
  maxMs?: number;
  minIterations?: number;
}

/** Times `work` repeatedly; one sample (milliseconds) per run. */
export async function timeLoop(work: () => Promise<unknown>, options: LoopOptions): Promise<number[]> {
  for (let i = 0; i < options.warmup; i++) await work();
  const samples: number[] = [];
  const started = performance.now();
  const minIterations = options.minIterations ?? Math.min(5, options.iterations);
  for (let i = 0; i < options.iterations; i++) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
    if (options.maxMs !== undefined && samples.length >= minIterations && performance.now() - started > options.maxMs) break;
  }
  return samples;
}

/**
 * Runs several pieces of work in turn, round after round, so that a change in machine load
 * during the run touches all of them alike and their ratios stay fair. Returns samples per key.
 */
export async function interleave<K extends string>(
  work: Record<K, () => Promise<unknown>>,
  options: LoopOptions,
): Promise<Record<K, number[]>> {
  const keys = Object.keys(work) as K[];
  for (let i = 0; i < options.warmup; i++) for (const key of keys) await work[key]();
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const started = performance.now();
  const minIterations = options.minIterations ?? Math.min(5, options.iterations);
  for (let i = 0; i < options.iterations; i++) {
    for (const key of keys) {
      const t0 = performance.now();
      await work[key]();
      samples[key].push(performance.now() - t0);
    }
    if (options.maxMs !== undefined && i + 1 >= minIterations && performance.now() - started > options.maxMs) break;
  }
  return samples;
}
