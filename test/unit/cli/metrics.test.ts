import { describe, expect, it } from 'vitest';
import {
  averagePrecision, meanAveragePrecision, operatingPoint, recallAtK, suggestThreshold, thresholdSweep, type RankedQuery,
} from '../../../src/cli/evaluation/metrics.js';

const n = (label: string, similarity: number) => ({ label, similarity });

/**
 * A gallery with labels A (2 entries), B (1) and C (1). Four known queries, three unknown.
 * Every expected number below is worked out by hand in the comments.
 */
const queries: RankedQuery[] = [
  // q1: A at ranks 1 and 3 -> AP = (1/1 + 2/3) / 2 = 5/6; label rank 1.
  { expected: 'A', relevantCount: 2, neighbours: [n('A', 0.95), n('B', 0.8), n('A', 0.7), n('C', 0.6)] },
  // q2: B at rank 2 -> AP = (1/2) / 1 = 1/2; distinct labels A, B, C -> label rank 2.
  { expected: 'B', relevantCount: 1, neighbours: [n('A', 0.9), n('B', 0.85), n('A', 0.5), n('C', 0.4)] },
  // q3: C at rank 4 -> AP = (1/4) / 1 = 1/4; distinct labels A, B, C -> label rank 3.
  { expected: 'C', relevantCount: 1, neighbours: [n('A', 0.6), n('B', 0.55), n('A', 0.52), n('C', 0.5)] },
  // q4: no subject found -> AP 0, never found.
  { expected: 'A', relevantCount: 2, neighbours: [] },
  // q5, q6: not enrolled, but something is near; q7: not enrolled, no subject.
  { expected: null, relevantCount: 0, neighbours: [n('B', 0.88), n('A', 0.3)] },
  { expected: null, relevantCount: 0, neighbours: [n('C', 0.58)] },
  { expected: null, relevantCount: 0, neighbours: [] },
];

describe('retrieval metrics', () => {
  it('recall@k counts distinct labels among known queries', () => {
    expect(recallAtK(queries, 1)).toBe(1 / 4);
    expect(recallAtK(queries, 2)).toBe(2 / 4);
    expect(recallAtK(queries, 5)).toBe(3 / 4);
    expect(recallAtK(queries.filter((q) => q.expected === null), 1)).toBeNull();
  });

  it('AP divides by every relevant entry in the gallery, retrieved or not', () => {
    expect(averagePrecision(queries[0]!)).toBeCloseTo(5 / 6, 12);
    expect(averagePrecision(queries[1]!)).toBe(0.5);
    expect(averagePrecision(queries[2]!)).toBe(0.25);
    expect(averagePrecision(queries[3]!)).toBe(0);
    // One of two relevant entries retrieved, at rank 1: (1/1) / 2.
    expect(averagePrecision({ expected: 'A', relevantCount: 2, neighbours: [n('A', 0.9), n('B', 0.1)] })).toBe(0.5);
    // mAP = (5/6 + 1/2 + 1/4 + 0) / 4 = 19/48.
    expect(meanAveragePrecision(queries)).toBeCloseTo(19 / 48, 12);
  });
});

describe('open-set decisions', () => {
  it('a verified query is labelled at every threshold, as the service labels it', () => {
    const verified: RankedQuery = { expected: 'C', relevantCount: 1, verified: true, neighbours: [n('C', 0.5), n('A', 0.45)] };
    expect(operatingPoint([verified], 0.99)).toMatchObject({ accepted: 1, correctlyLabelled: 1, recall: 1 });
    expect(operatingPoint([{ ...verified, verified: false }], 0.99)).toMatchObject({ accepted: 0, recall: 0 });
  });

  it('an operating point counts accepted, correct and rejected-unknown queries', () => {
    // At 0.89: q1 (0.95, A) right, q2 (0.90, A) wrong, the rest rejected; all 3 unknowns rejected.
    const p = operatingPoint(queries, 0.89);
    expect(p).toMatchObject({ threshold: 0.89, accepted: 2, correctlyLabelled: 1, precision: 0.5, recall: 0.25, unknownRejectionRate: 1 });
    expect(p.accuracy).toBeCloseTo(4 / 7, 12);
    expect(p.f1).toBeCloseTo((2 * 0.5 * 0.25) / 0.75, 12);
    // At 0.58 everything with a neighbour is accepted: right 1 (q1), rejected unknown 1 (q7).
    const low = operatingPoint(queries, 0.58);
    expect(low).toMatchObject({ accepted: 5, correctlyLabelled: 1, precision: 0.2, recall: 0.25 });
    expect(low.accuracy).toBeCloseTo(2 / 7, 12);
    expect(low.unknownRejectionRate).toBeCloseTo(1 / 3, 12);
    // Above everything: nothing accepted, precision undefined, F1 0.
    expect(operatingPoint(queries, 0.99)).toMatchObject({ accepted: 0, precision: null, recall: 0, f1: 0, unknownRejectionRate: 1 });
  });

  it('the sweep has one point per distinct top-1 similarity', () => {
    const sweep = thresholdSweep(queries);
    expect(sweep.map((p) => p.threshold)).toEqual([0.58, 0.6, 0.88, 0.9, 0.95]);
    expect(sweep.map((p) => Math.round(p.accuracy * 7))).toEqual([2, 3, 3, 4, 4]);
  });

  it('suggests the middle of the widest interval with the best accuracy', () => {
    // Accuracy 4/7 on (0.88, 0.90] and (0.90, 0.95]; the second is wider -> 0.925.
    const s = suggestThreshold(queries, 'accuracy')!;
    expect(s.interval).toEqual([0.9, 0.95]);
    expect(s.threshold).toBe(0.925);
    expect(s.point.accuracy).toBeCloseTo(4 / 7, 12);
    // F1 is best (0.4: precision 1, recall 1/4) on the same interval.
    expect(suggestThreshold(queries, 'f1')!.threshold).toBe(0.925);
  });

  it('accuracy and F1 can disagree', () => {
    // One known query at 0.70 (right), three unknowns nearer than it.
    const set: RankedQuery[] = [
      { expected: 'A', relevantCount: 1, neighbours: [n('A', 0.7)] },
      { expected: null, relevantCount: 0, neighbours: [n('A', 0.8)] },
      { expected: null, relevantCount: 0, neighbours: [n('A', 0.75)] },
      { expected: null, relevantCount: 0, neighbours: [n('A', 0.72)] },
    ];
    // Accuracy: rejecting everything gives 3/4, on (0.80, 0.85] (outer intervals are 0.05 wide).
    const byAccuracy = suggestThreshold(set, 'accuracy')!;
    expect(byAccuracy.interval[0]).toBe(0.8);
    expect(byAccuracy.interval[1]).toBeCloseTo(0.85, 12);
    expect(byAccuracy.threshold).toBe(0.825);
    expect(byAccuracy.point.accuracy).toBe(0.75);
    // F1: only accepting everything labels the known query: precision 1/4, recall 1, F1 0.4 on (0.65, 0.70].
    const byF1 = suggestThreshold(set, 'f1')!;
    expect(byF1.threshold).toBe(0.675);
    expect(byF1.point.f1).toBeCloseTo(0.4, 12);
  });

  it('never suggests a threshold above 1: "reject all" is (sm, 1]', () => {
    // Every query is unknown, so rejecting all is best; the top similarity is 0.9924.
    const unknown: RankedQuery[] = [
      { expected: null, relevantCount: 0, neighbours: [n('A', 0.9924)] },
      { expected: null, relevantCount: 0, neighbours: [n('A', 0.872)] },
      { expected: null, relevantCount: 0, neighbours: [] },
    ];
    const s = suggestThreshold(unknown)!;
    expect(s.interval).toEqual([0.9924, 1]);
    expect(s.threshold).toBe(0.9962);
    expect(s.point).toMatchObject({ accepted: 0, accuracy: 1 });
    // An exact match (similarity 1) is accepted at every threshold a gallery takes, so "reject
    // all" is not offered; the best reachable choice, (0.9924, 1], rejects the other one.
    const exact: RankedQuery[] = [unknown[0]!, { expected: null, relevantCount: 0, neighbours: [n('A', 1)] }];
    const e = suggestThreshold(exact)!;
    expect(e.interval).toEqual([0.9924, 1]);
    expect(e.threshold).toBe(0.9962);
    expect(e.point).toMatchObject({ accepted: 1, accuracy: 0.5 });
  });

  it('gives no suggestion when no query found a subject', () => {
    expect(suggestThreshold([{ expected: 'A', relevantCount: 1, neighbours: [] }])).toBeNull();
  });
});
