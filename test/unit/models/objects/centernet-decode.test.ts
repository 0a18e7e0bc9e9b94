import { describe, expect, it } from 'vitest';
import { decodeCenternet } from '../../../../src/models/objects/centernet-decode.js';

/** A [1, C, 4, 4] heatmap with the given (class, y, x, score) cells, and constant wh distances. */
function outputs(classes: number, cells: [number, number, number, number][], distances: [number, number, number, number] = [2, 3, 4, 5]) {
  const heat = new Float32Array(classes * 16).fill(0.01);
  for (const [c, y, x, v] of cells) heat[c * 16 + y * 4 + x] = v;
  const wh = new Float32Array(4 * 16);
  distances.forEach((d, k) => wh.fill(d, k * 16, (k + 1) * 16));
  return { heatmap: { data: heat, dims: [1, classes, 4, 4] }, wh: { data: wh, dims: [1, 4, 4, 4] } };
}

describe('decodeCenternet', () => {
  it('keeps 3x3 peaks per class, best first, with boxes from the wh distances', () => {
    const { heatmap, wh } = outputs(2, [
      [0, 1, 1, 0.9],
      [0, 1, 2, 0.5], // next to a higher cell of the same class: not a peak
      [1, 1, 2, 0.6], // a peak of its own class
      [1, 3, 3, 0.3],
    ]);
    const found = decodeCenternet(heatmap, wh, 4, { minScore: 0.1, maxCandidates: 10, classAgnostic: false });
    expect(found.map((f) => [f.classId, f.score])).toEqual([
      [0, expect.closeTo(0.9, 6)],
      [1, expect.closeTo(0.6, 6)],
      [1, expect.closeTo(0.3, 6)],
    ]);
    expect(found[0]!.box).toEqual([4 * 1 - 2, 4 * 1 - 3, 4 * 1 + 4, 4 * 1 + 5]);
  });

  it('class-agnostic: one score map of the best class per cell, the class kept as a hint', () => {
    const { heatmap, wh } = outputs(2, [
      [0, 1, 1, 0.9],
      [1, 1, 2, 0.6], // beside a better cell of another class: suppressed when classes are ignored
      [1, 3, 3, 0.3],
    ]);
    const found = decodeCenternet(heatmap, wh, 4, { minScore: 0.1, maxCandidates: 10, classAgnostic: true });
    expect(found.map((f) => [f.classId, f.score])).toEqual([
      [0, expect.closeTo(0.9, 6)],
      [1, expect.closeTo(0.3, 6)],
    ]);
  });

  it('drops scores at or below minScore and keeps at most maxCandidates', () => {
    const { heatmap, wh } = outputs(1, [
      [0, 0, 0, 0.5],
      [0, 0, 3, 0.4],
      [0, 3, 0, 0.25],
    ]);
    expect(decodeCenternet(heatmap, wh, 4, { minScore: 0.25, maxCandidates: 10, classAgnostic: true })).toHaveLength(2);
    expect(decodeCenternet(heatmap, wh, 4, { minScore: 0, maxCandidates: 1, classAgnostic: true })).toHaveLength(1);
  });

  it('refuses outputs whose shapes do not fit together', () => {
    const { heatmap } = outputs(1, []);
    expect(() => decodeCenternet(heatmap, { data: new Float32Array(32), dims: [1, 2, 4, 4] }, 4, { minScore: 0, maxCandidates: 1, classAgnostic: true })).toThrow(
      /do not fit/,
    );
  });
});
