import { describe, expect, it } from 'vitest';
import { exactTopK, recallAtK, seededRandom, syntheticSet } from '../../../../src/cli/bench/synthetic-vectors.js';

describe('syntheticSet', () => {
  it('is reproducible from its seed and gives unit vectors', () => {
    const a = syntheticSet(200, 16, 5, 7);
    const b = syntheticSet(200, 16, 5, 7);
    const c = syntheticSet(200, 16, 5, 8);
    expect(a.vectors).toEqual(b.vectors);
    expect(a.queries).toEqual(b.queries);
    expect(a.vectors).not.toEqual(c.vectors);
    for (let i = 0; i < a.count; i++) {
      const row = a.vectors.subarray(i * 16, (i + 1) * 16);
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    }
  });

  it('clusters entries of one identity: their nearest neighbours are each other', () => {
    const set = syntheticSet(500, 64, 0, 3, { perIdentity: 5, identitiesPerGroup: 10, identitySpread: 1, entrySpread: 0.6 });
    const [top] = exactTopK(set, set.vectors.subarray(0, 64), 1, 5);
    expect([...top!].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('exactTopK and recallAtK', () => {
  it('ranks by inner product, best first', () => {
    const vectors = new Float32Array([1, 0, 0.6, 0.8, 0, 1, -1, 0]);
    const [top] = exactTopK({ vectors, count: 4, dimension: 2 }, new Float32Array([1, 0.1]), 1, 3);
    expect([...top!]).toEqual([0, 1, 2]);
  });

  it('counts the share of the exact neighbours found', () => {
    const exact = [Int32Array.from([1, 2, 3, 4]), Int32Array.from([5, 6, 7, 8])];
    expect(recallAtK(exact, [[1, 2, 3, 4], [5, 6, 0, 0]], 4)).toBe(0.75);
    expect(recallAtK([], [], 4)).toBe(0);
  });

  it('seededRandom stays in [0, 1)', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = random();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});
