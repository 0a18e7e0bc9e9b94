import { describe, expect, it } from 'vitest';
import { interleave, percentile, ratio, summarize, timeLoop } from '../../../../src/cli/bench/bench-stats.js';

describe('percentile', () => {
  it('interpolates between the nearest ranks', () => {
    const sorted = [1, 2, 3, 4];
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 50)).toBe(2.5);
    expect(percentile(sorted, 100)).toBe(4);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBeCloseTo(91, 10);
  });

  it('is NaN for no samples and refuses percentiles outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('sorts a copy and reports the usual figures', () => {
    const samples = [5, 1, 4, 2, 3];
    const s = summarize(samples);
    expect(samples).toEqual([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, mean: 3, min: 1, median: 3, max: 5 });
    expect(s.p90).toBeCloseTo(4.6, 10);
    expect(s.p99).toBeCloseTo(4.96, 10);
  });

  it('gives NaN figures for an empty list', () => {
    const s = summarize([]);
    expect(s.n).toBe(0);
    expect(s.median).toBeNaN();
    expect(s.mean).toBeNaN();
  });
});

describe('ratio', () => {
  it('divides, and is NaN for missing, infinite or zero denominators', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(undefined, 2)).toBeNaN();
    expect(ratio(Number.POSITIVE_INFINITY, 2)).toBeNaN();
  });
});

describe('timing loops', () => {
  it('timeLoop runs the warm-up untimed and one sample per iteration', async () => {
    let calls = 0;
    const samples = await timeLoop(async () => void calls++, { warmup: 2, iterations: 5 });
    expect(calls).toBe(7);
    expect(samples).toHaveLength(5);
    expect(samples.every((ms) => ms >= 0)).toBe(true);
  });

  it('timeLoop stops at maxMs once it has the minimum count', async () => {
    const samples = await timeLoop(() => new Promise((r) => setTimeout(r, 5)), { warmup: 0, iterations: 1000, maxMs: 1, minIterations: 3 });
    expect(samples).toHaveLength(3);
  });

  it('interleave takes turns, so every piece of work gets the same number of samples in order', async () => {
    const order: string[] = [];
    const samples = await interleave({ a: async () => void order.push('a'), b: async () => void order.push('b') }, { warmup: 1, iterations: 3 });
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    expect(samples.a).toHaveLength(3);
    expect(samples.b).toHaveLength(3);
  });
});
