import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeWeights,
  depthwiseToOihw,
  hwioToOihw,
  readFaceApiWeights,
  weight,
  type WeightTensor,
} from '../../../../src/models/face/face-api-weights.js';

const modelDir = resolve(import.meta.dirname, '../../../../node_modules/@vladmandic/face-api/model');

function bytes(...parts: (number[] | Float32Array | Int32Array)[]): Uint8Array {
  const chunks = parts.map((p) => (Array.isArray(p) ? Uint8Array.from(p) : new Uint8Array(p.buffer.slice(0))));
  return Uint8Array.from(chunks.flatMap((c) => [...c]));
}

describe('decodeWeights', () => {
  const manifest = [
    {
      paths: ['x.bin'],
      weights: [
        { name: 'q', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        { name: 'f', shape: [2], dtype: 'float32' },
        { name: 'i', shape: [], dtype: 'int32', quantization: { dtype: 'uint8', scale: 1, min: 6 } },
        { name: 'n', shape: [1], dtype: 'int32' },
      ],
    },
  ];

  it('dequantises q * scale + min, reads float32/int32 as stored, in manifest order', () => {
    const data = bytes([0, 1, 2, 255], new Float32Array([1.25, -3]), [0], new Int32Array([-7]));
    const w = decodeWeights(manifest, data);
    expect(Array.from(w.get('q')!.data)).toEqual([-1, -0.5, 0, 126.5]);
    expect(w.get('q')!.shape).toEqual([2, 2]);
    expect(Array.from(w.get('f')!.data)).toEqual([1.25, -3]);
    expect(Array.from(w.get('i')!.data)).toEqual([6]);
    expect(w.get('i')!.dtype).toBe('int32');
    expect(Array.from(w.get('n')!.data)).toEqual([-7]);
  });

  it('rounds like tfjs: the double result stored as float32', () => {
    const m = [{ paths: ['x'], weights: [{ name: 'q', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.1, min: 0.3 } }] }];
    expect(decodeWeights(m, Uint8Array.from([7])).get('q')!.data[0]).toBe(Math.fround(7 * 0.1 + 0.3));
  });

  it('rejects data that is too short or too long', () => {
    expect(() => decodeWeights(manifest, bytes([0, 1, 2, 255]))).toThrow(/runs past the end/);
    const long = bytes([0, 1, 2, 255], new Float32Array([1, 2]), [0], new Int32Array([1]), [9]);
    expect(() => decodeWeights(manifest, long)).toThrow(/1 bytes left over/);
  });
});

describe('layout conversions', () => {
  it('HWIO -> OIHW', () => {
    // [kh=1, kw=2, in=2, out=3]; value encodes (x, i, o) as 100x + 10i + o
    const data = new Float32Array(12);
    for (let x = 0; x < 2; x++) for (let i = 0; i < 2; i++) for (let o = 0; o < 3; o++) data[(x * 2 + i) * 3 + o] = 100 * x + 10 * i + o;
    const t: WeightTensor = { name: 'w', shape: [1, 2, 2, 3], dtype: 'float32', data };
    const { data: out, dims } = hwioToOihw(t);
    expect(dims).toEqual([3, 2, 1, 2]);
    for (let o = 0; o < 3; o++) for (let i = 0; i < 2; i++) for (let x = 0; x < 2; x++) expect(out[(o * 2 + i) * 2 + x]).toBe(100 * x + 10 * i + o);
  });

  it('depthwise [kh, kw, C, 1] -> [C, 1, kh, kw], and refuses a channel multiplier', () => {
    const data = new Float32Array(8);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) for (let c = 0; c < 2; c++) data[(y * 2 + x) * 2 + c] = 100 * c + 10 * y + x;
    const { data: out, dims } = depthwiseToOihw({ name: 'd', shape: [2, 2, 2, 1], dtype: 'float32', data });
    expect(dims).toEqual([2, 1, 2, 2]);
    expect(Array.from(out)).toEqual([0, 1, 10, 11, 100, 101, 110, 111]);
    expect(() => depthwiseToOihw({ name: 'd', shape: [1, 1, 1, 2], dtype: 'float32', data: new Float32Array(2) })).toThrow(/multiplier/);
  });
});

describe('face-api weight files', () => {
  it('face_recognition_model: every byte used, fc [256, 128], conv64 filters stored as float32', async () => {
    const w = await readFaceApiWeights(join(modelDir, 'face_recognition_model-weights_manifest.json'));
    expect(weight(w, 'fc', [256, 128]).data).toHaveLength(256 * 128);
    expect(weight(w, 'conv32_down/conv/filters', [7, 7, 3, 32])).toBeDefined();
    const params = [...w.values()].reduce((n, t) => n + t.data.length, 0);
    expect(params).toBeGreaterThan(5.5e6);
    expect(params).toBeLessThan(5.8e6);
    expect(() => weight(w, 'fc', [128, 256])).toThrow(/has shape \[256, 128\]/);
    expect(() => weight(w, 'nope')).toThrow(/no tensor named nope/);
  });

  it('ssd_mobilenetv1_model: anchors are 5118 (ymin, xmin, ymax, xmax) boxes of positive size', async () => {
    const w = await readFaceApiWeights(join(modelDir, 'ssd_mobilenetv1_model-weights_manifest.json'));
    const anchors = weight(w, 'Output/extra_dim', [1, 5118, 4]).data;
    let smallest = Infinity;
    for (let i = 0; i < 5118; i++) {
      smallest = Math.min(smallest, anchors[i * 4 + 2]! - anchors[i * 4]!, anchors[i * 4 + 3]! - anchors[i * 4 + 1]!);
    }
    expect(smallest).toBeGreaterThan(0);
    expect(Math.min(...anchors)).toBeGreaterThan(-0.5);
    expect(Math.max(...anchors)).toBeLessThan(1.5);
  });
});
