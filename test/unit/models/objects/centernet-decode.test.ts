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

  it('class-agnostic: the same candidates as peaks of the full best-class map, on random heatmaps', () => {
    // The decoder only looks at values above minScore; the plain definition: every cell's best
    // class (first on ties), then 3x3 peaks of that map above minScore.
    const reference = (heat: Float32Array, classes: number, size: number, minScore: number) => {
      const cells = size * size;
      const best = Array.from({ length: cells }, (_, i) => {
        let c = 0;
        for (let k = 1; k < classes; k++) if (heat[k * cells + i]! > heat[c * cells + i]!) c = k;
        return { score: heat[c * cells + i]!, classId: c };
      });
      const peaks: { score: number; classId: number; cell: number }[] = [];
      for (let i = 0; i < cells; i++) {
        const x = i % size;
        const y = (i - x) / size;
        const around = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [x + dx, y + dy] as const));
        const inside = around.filter(([xx, yy]) => xx >= 0 && yy >= 0 && xx < size && yy < size);
        if (best[i]!.score > minScore && inside.every(([xx, yy]) => best[yy * size + xx]!.score <= best[i]!.score)) peaks.push({ ...best[i]!, cell: i });
      }
      return peaks.sort((a, b) => b.score - a.score || a.cell * classes + a.classId - (b.cell * classes + b.classId)).map((p) => [p.classId, p.score, p.cell]);
    };
    let seed = 7;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const [classes, size] of [[3, 8], [5, 12], [80, 16]] as const) {
      const cells = size * size;
      // Mostly low scores, some near the floors, a few high, some equal, as a sigmoid map has.
      const heat = Float32Array.from({ length: classes * cells }, () => {
        const r = random();
        return r < 0.85 ? r * 0.1 : r < 0.9 ? 0.25 : r;
      });
      const wh = { data: new Float32Array(4 * cells).fill(1), dims: [1, 4, size, size] };
      for (const minScore of [0, 0.1, 0.25, 0.5]) {
        const found = decodeCenternet({ data: heat, dims: [1, classes, size, size] }, wh, 4, { minScore, maxCandidates: cells, classAgnostic: true });
        const expected = reference(heat, classes, size, minScore);
        expect(found.map((f) => [f.classId, f.score]), `${classes} classes, ${size}x${size}, minScore ${minScore}`).toEqual(expected.map(([c, v]) => [c, v]));
        expect(found.length).toBeGreaterThan(0);
      }
    }
  });

  it('refuses outputs whose shapes do not fit together', () => {
    const { heatmap } = outputs(1, []);
    expect(() => decodeCenternet(heatmap, { data: new Float32Array(32), dims: [1, 2, 4, 4] }, 4, { minScore: 0, maxCandidates: 1, classAgnostic: true })).toThrow(
      /do not fit/,
    );
  });
});
