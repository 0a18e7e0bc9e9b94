import { describe, expect, it } from 'vitest';
import { l2Normalize } from '../../../../src/models/embedders/l2-normalize.js';
import { convOutSize, samePads, samePads2d } from '../../../../src/models/face/graph-layers.js';
import { decodeSsdOutput } from '../../../../src/models/face/ssd-face-detector.js';
import { decodeTinyYoloGrid } from '../../../../src/models/face/tiny-face-detector.js';

describe('TF SAME padding', () => {
  it('puts the odd extra pad at the end for stride 2 on even sizes', () => {
    expect(samePads(512, 3, 2)).toEqual([0, 1]);
    expect(samePads(2, 3, 2)).toEqual([0, 1]);
    expect(samePads(207, 2, 2)).toEqual([0, 1]);
    expect(samePads(414, 2, 2)).toEqual([0, 0]);
    expect(samePads(13, 2, 1)).toEqual([0, 1]);
    expect(samePads(32, 3, 1)).toEqual([1, 1]);
    expect(samePads2d(512, 3, 2)).toEqual([0, 0, 1, 1]);
  });

  it('gives ceil(size / stride) outputs', () => {
    for (const size of [1, 2, 7, 16, 207, 512]) {
      for (const stride of [1, 2]) expect(convOutSize(size, 3, stride, samePads(size, 3, stride))).toBe(Math.ceil(size / stride));
    }
  });
});

describe('decodeSsdOutput', () => {
  it('keeps scores above minScore and turns (y1, x1, y2, x2) relative boxes into input pixels', () => {
    const boxes = { data: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0, 0, 1, 1, 0.5, 0.5, 0.6, 0.6]), dims: [1, 3, 4] };
    const scores = { data: Float32Array.from([0.9, 0.5, 0.2]), dims: [1, 3] };
    const out = decodeSsdOutput(boxes, scores, 0.5, 512, 256);
    expect(out).toHaveLength(1);
    const [x1, y1, x2, y2] = out[0]!.box;
    expect([x1, y1, x2, y2].map((v) => Math.round(v * 1000) / 1000)).toEqual([102.4, 25.6, 204.8, 76.8]);
    expect(out[0]!.score).toBeCloseTo(0.9, 6);
  });
});

describe('decodeTinyYoloGrid', () => {
  it('decodes centre and size per cell and anchor like face-api', () => {
    const anchors: [number, number][] = [
      [1, 2],
      [3, 4],
    ];
    const g = 4;
    const data = new Float32Array(anchors.length * 5 * g * g).fill(-10); // objectness ~0 everywhere
    const set = (anchor: number, field: number, row: number, col: number, v: number) => {
      data[(anchor * 5 + field) * g * g + row * g + col] = v;
    };
    // anchor 1 at row 2, col 3: sigmoid(0) = 0.5 offsets, exp(0) = 1 sizes, objectness sigmoid(2)
    for (const field of [0, 1, 2, 3]) set(1, field, 2, 3, 0);
    set(1, 4, 2, 3, 2);
    const out = decodeTinyYoloGrid({ data, dims: [1, 10, g, g] }, anchors, 0.5, 400, 400);
    expect(out).toHaveLength(1);
    const cx = 3.5 / 4;
    const cy = 2.5 / 4;
    const [w, h] = [3 / 4, 4 / 4];
    const want = [(cx - w / 2) * 400, (cy - h / 2) * 400, (cx + w / 2) * 400, (cy + h / 2) * 400];
    out[0]!.box.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 9));
    expect(out[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
  });

  it('refuses a grid that does not fit the anchors', () => {
    expect(() => decodeTinyYoloGrid({ data: new Float32Array(25 * 4), dims: [1, 25, 2, 2] }, [[1, 1]], 0.5, 64, 64)).toThrow(/does not fit/);
  });
});

describe('l2Normalize', () => {
  it('scales to unit length without touching the input', () => {
    const v = Float32Array.from([3, 4]);
    expect(Array.from(l2Normalize(v))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(v)).toEqual([3, 4]);
  });

  it('leaves a zero vector at zero', () => {
    expect(Array.from(l2Normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });
});
