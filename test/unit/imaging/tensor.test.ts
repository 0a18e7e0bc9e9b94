import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/types.js';
import { cropImage, cropRect } from '../../../src/imaging/crop.js';
import { tfBilinearNormalised } from '../../../src/imaging/tf-bilinear.js';
import { boxToSource, placeImage, resizeForModel, toTensor, type TensorSpec } from '../../../src/imaging/tensor.js';

const image = (width: number, height: number, pixel: (x: number, y: number, c: number) => number): RgbImage => {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = pixel(x, y, c);
  return { data, width, height };
};

const spec = (over: Partial<TensorSpec> = {}): TensorSpec => ({
  width: 4,
  height: 4,
  layout: 'NCHW',
  colour: 'RGB',
  resize: 'pad-bottom-right',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  ...over,
});

/** Two pixels side by side: (10, 20, 30) and (40, 50, 60). */
const pair = image(2, 1, (x, _y, c) => 10 * (c + 1) + 30 * x);

describe('placeImage', () => {
  it('pads at the bottom/right, centred like face-api (the extra pixel after the image), or stretches', () => {
    expect(placeImage(3, 2, spec())).toEqual({ paddedWidth: 3, paddedHeight: 3, left: 0, top: 0 });
    // height diff 3: round(1.5) = 2 rows after, 1 before
    expect(placeImage(5, 2, spec({ resize: 'pad-centre' }))).toEqual({ paddedWidth: 5, paddedHeight: 5, left: 0, top: 1 });
    expect(placeImage(2, 6, spec({ resize: 'pad-centre' }))).toEqual({ paddedWidth: 6, paddedHeight: 6, left: 2, top: 0 });
    expect(placeImage(5, 2, spec({ resize: 'stretch' }))).toEqual({ paddedWidth: 5, paddedHeight: 2, left: 0, top: 0 });
  });
});

describe('tf-bilinear resize with zero padding', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('samples at dst * in / out with no half-pixel offset', async () => {
    const { rgb } = await resizeForModel(pair, spec());
    const red = Array.from({ length: 16 }, (_, i) => rgb[i * 3]);
    // padded 2x2 (second row zeros) -> 4x4, source positions 0, 0.5, 1, 1.5 (clamped)
    expect(red).toEqual([10, 25, 40, 40, 5, 12.5, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('matches tf.image.resizeBilinear on face-api padded inputs exactly', async () => {
    // Odd height difference (15), so centring has to put the extra row where face-api does.
    const src = image(37, 22, (x, y, c) => (x * 7 + y * 13 + c * 101) % 256);
    for (const resize of ['pad-bottom-right', 'pad-centre'] as const) {
      const { rgb } = await resizeForModel(src, spec({ width: 32, height: 32, resize }));
      // face-api padToSquare: append round(diff * (centre ? 0.5 : 1)) rows, prepend the rest
      const append = Math.round(15 * (resize === 'pad-centre' ? 0.5 : 1));
      const expected = tf.tidy(() => {
        const t = tf.tensor4d(Float32Array.from(src.data), [1, 22, 37, 3]);
        const before = tf.zeros([1, 15 - append, 37, 3]);
        const after = tf.zeros([1, append, 37, 3]);
        return tf.image.resizeBilinear(tf.concat([before, t, after], 1) as tf.Tensor4D, [32, 32], false, false).dataSync();
      });
      expect(Math.max(...rgb.map((v, i) => Math.abs(v - expected[i]!)))).toBe(0);
    }
  });
});

describe('tf-bilinear against tfjs, normalised, on the fast paths', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  /** face-api's order: pad (with `pad`), resizeBilinear, then sub(mean) and div(std) in float32. */
  const tfReference = (src: RgbImage, s: TensorSpec, before: [number, number], after: [number, number], pad: number) =>
    tf.tidy(() => {
      const t = tf.tensor3d(Float32Array.from(src.data), [src.height, src.width, 3]);
      const padded = tf.pad(t, [[before[0], after[0]], [before[1], after[1]], [0, 0]], pad);
      const resized = tf.image.resizeBilinear(padded as tf.Tensor3D, [s.height, s.width], false, false);
      const normalised = resized.sub(tf.tensor1d([...s.mean])).div(tf.tensor1d([...s.std]));
      return normalised.transpose([2, 0, 1]).dataSync();
    });

  const odd = { mean: [122.782, 117.001, 104.298], std: [58.395, 57.12, 57.375] } as const;

  it('is exact when the padded image is already the model size (no resampling, padding rows and columns)', async () => {
    const wide = image(24, 15, (x, y, c) => (x * 11 + y * 29 + c * 83) % 256);
    const s = spec({ width: 24, height: 24, ...odd });
    const t = await toTensor([wide], s);
    expect(Array.from(t.data)).toEqual(Array.from(tfReference(wide, s, [0, 0], [9, 0], 0)));
    // pad-centre with an odd difference: round(9 / 2) = 5 columns after, 4 before.
    const tall = image(15, 24, (x, y, c) => (x * 13 + y * 7 + c * 97) % 256);
    const centred = spec({ width: 24, height: 24, resize: 'pad-centre', padValue: 114, ...odd });
    const u = await toTensor([tall], centred);
    expect(Array.from(u.data)).toEqual(Array.from(tfReference(tall, centred, [0, 4], [0, 5], 114)));
  });

  it('fills memory it is given (a reused buffer holding old values) exactly as fresh memory', async () => {
    const wide = image(24, 15, (x, y, c) => (x * 11 + y * 29 + c * 83) % 256);
    const s = spec({ width: 24, height: 24, ...odd });
    const fresh = await toTensor([wide, wide], s);
    const used = new Float32Array(24 * 24 * 3 * 2).fill(Number.NaN).buffer;
    const sizes: number[] = [];
    const t = await toTensor([wide, wide], s, (bytes) => (sizes.push(bytes), used));
    expect(sizes).toEqual([24 * 24 * 3 * 2 * 4]);
    expect(t.data.buffer).toBe(used);
    expect(Array.from(t.data)).toEqual(Array.from(fresh.data));
  });

  it('is exact when resampling (downscale and upscale) with padding rows', async () => {
    const src = image(40, 30, (x, y, c) => (x * 37 + y * 17 + c * 61) % 256);
    for (const size of [32, 57]) {
      const s = spec({ width: size, height: size, ...odd });
      const t = await toTensor([src], s);
      expect(Array.from(t.data)).toEqual(Array.from(tfReference(src, s, [0, 0], [10, 0], 0)));
    }
  });
});

describe('tf-bilinear writes every element of its slice', () => {
  // toTensor does not zero its tensor first: a value left unwritten would be whatever the
  // memory held. Each case starts from NaN and must leave none, and nothing outside the slice.
  const sizes: [number, number][] = [[8, 8], [13, 5], [5, 13], [1, 1], [31, 17]];
  const cases = ['pad-bottom-right', 'pad-centre', 'stretch', 'centre-crop'] as const;
  it.each(cases)('%s, NCHW and NHWC, up- and downscaling and 1:1', (resize) => {
    for (const [w, h] of sizes) {
      const square = Math.max(w, h); // padded to the model size exactly: 1:1 rows beside padding
      for (const [width, height] of [[8, 8], [12, 7], [w, h], [square, square]] as [number, number][]) {
        for (const layout of ['NCHW', 'NHWC'] as const) {
          const s = spec({ width, height, resize, layout, mean: [1, 2, 3], std: [2, 3, 4], padValue: 7 });
          const src = image(w, h, (x, y, c) => (x * 31 + y * 17 + c * 5) % 256);
          const per = width * height * 3;
          const out = new Float32Array(per + 6).fill(Number.NaN);
          tfBilinearNormalised(src, placeImage(w, h, s), s, out, 3);
          const slice = out.subarray(3, 3 + per);
          expect(slice.some(Number.isNaN), `${resize} ${layout} ${w}x${h} -> ${width}x${height}`).toBe(false);
          expect([...out.subarray(0, 3), ...out.subarray(3 + per)].every(Number.isNaN)).toBe(true);
        }
      }
    }
  });
});

describe('toTensor', () => {
  it('normalises (x - mean) / std, planar NCHW in RGB order', async () => {
    const t = await toTensor([image(1, 1, (_x, _y, c) => [100, 150, 200][c]!)], spec({ width: 1, height: 1, mean: [100, 50, 0], std: [2, 4, 8] }));
    expect(t.dims).toEqual([1, 3, 1, 1]);
    expect(Array.from(t.data)).toEqual([0, 25, 25]);
  });

  it('lays out NHWC and swaps to BGR when asked', async () => {
    const t = await toTensor([pair], spec({ width: 2, height: 1, resize: 'stretch', layout: 'NHWC', colour: 'BGR' }));
    expect(t.dims).toEqual([1, 1, 2, 3]);
    expect(Array.from(t.data)).toEqual([30, 20, 10, 60, 50, 40]);
  });

  it('batches images into one array, each slice equal to its own tensor', async () => {
    const other = image(3, 5, (x, y, c) => x + y + c);
    const s = spec({ width: 6, height: 6, resize: 'pad-centre', mean: [1, 2, 3], std: [2, 2, 2] });
    const both = await toTensor([pair, other], s);
    expect(both.dims).toEqual([2, 3, 6, 6]);
    const single = await toTensor([other], s);
    expect(Array.from(both.data.subarray(108))).toEqual(Array.from(single.data));
    expect(both.transforms).toHaveLength(2);
  });

  it('returns transforms that map model pixels back to the source image', async () => {
    const wide = await toTensor([image(200, 100, () => 0)], spec({ width: 50, height: 50 }));
    expect(boxToSource([0, 0, 50, 25], wide.transforms[0]!)).toEqual([0, 0, 200, 100]);
    const tall = await toTensor([image(100, 200, () => 0)], spec({ width: 50, height: 50, resize: 'pad-centre' }));
    expect(boxToSource([12.5, 0, 37.5, 50], tall.transforms[0]!)).toEqual([0, 0, 100, 200]);
    const stretched = await toTensor([image(100, 200, () => 0)], spec({ width: 50, height: 50, resize: 'stretch' }));
    expect(boxToSource([0, 0, 50, 50], stretched.transforms[0]!)).toEqual([0, 0, 100, 200]);
  });

  it('also resizes with sharp kernels (constant image stays constant, padding stays zero)', async () => {
    const grey = image(8, 4, () => 90);
    const { rgb } = await resizeForModel(grey, spec({ width: 4, height: 4, interpolation: 'linear' }));
    expect(rgb[0]).toBe(90);
    expect(rgb[(0 * 4 + 3) * 3]).toBe(90);
    expect(rgb[(3 * 4 + 0) * 3]).toBe(0);
  });

  it('normalises sharp-resized pixels as (x - mean) / std in float32 steps, in either layout and colour order', async () => {
    const f = Math.fround;
    // Every byte value appears in every channel, and sharp's 'linear' at the same size keeps them.
    const all = image(16, 16, (x, y, c) => (y * 16 + x + 85 * c) % 256);
    const mean = [123.675, 116.28, 103.53] as const;
    const std = [58.395, 57.12, 57.375] as const;
    const expected = (x: number, y: number, c: number) => f(f(((y * 16 + x + 85 * c) % 256) - f(mean[c]!)) / f(std[c]!));
    const base = spec({ width: 16, height: 16, resize: 'stretch', interpolation: 'linear', mean, std });
    const nchw = await toTensor([all], base);
    const nhwcBgr = await toTensor([all], { ...base, layout: 'NHWC', colour: 'BGR', mean: [mean[2], mean[1], mean[0]], std: [std[2], std[1], std[0]] });
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        for (let c = 0; c < 3; c++) {
          expect(nchw.data[c * 256 + y * 16 + x]).toBe(expected(x, y, c));
          expect(nhwcBgr.data[(y * 16 + x) * 3 + (2 - c)]).toBe(expected(x, y, c));
        }
      }
    }
  });

  it('batches sharp-resized crops of different sizes, each slice equal to its own tensor', async () => {
    const s = spec({ width: 8, height: 8, resize: 'stretch', interpolation: 'linear', mean: [10, 20, 30], std: [2, 3, 4] });
    const crops = [image(20, 12, (x, y, c) => x * 7 + y * 3 + c), image(5, 9, (x, y, c) => 200 - x * 9 - y * 5 - c), pair];
    const batch = await toTensor(crops, s);
    expect(batch.dims).toEqual([3, 3, 8, 8]);
    for (const [n, crop] of crops.entries()) {
      const single = await toTensor([crop], s);
      expect(Array.from(batch.data.subarray(n * 192, (n + 1) * 192))).toEqual(Array.from(single.data));
      expect(batch.transforms[n]).toEqual(single.transforms[0]);
    }
  });
});

// The crops are what the embedder's tensors are made from; kept here with the tensor tests.
describe('cropImage', () => {
  const src = image(10, 6, (x, y, c) => y * 30 + x * 3 + c);

  it('copies exact pixels of the outward-rounded box', async () => {
    const crop = await cropImage(src, [2.5, 1.2, 4.1, 3]);
    expect([crop.width, crop.height]).toEqual([3, 2]);
    expect(Array.from(crop.data.subarray(0, 3))).toEqual([36, 37, 38]); // (2, 1)
    expect(Array.from(crop.data.subarray(15, 18))).toEqual([72, 73, 74]); // (4, 2)
  });

  it('clamps to the image, adds margins, never goes below 1x1', () => {
    expect(cropRect(src, [-5, -5, 50, 50])).toEqual([0, 0, 10, 6]);
    expect(cropRect(src, [4, 2, 6, 4], { margin: 0.5 })).toEqual([3, 1, 7, 5]);
    expect(cropRect(src, [20, 20, 30, 30])).toEqual([9, 5, 10, 6]);
    expect(cropRect(src, [-9, -9, -1, -1])).toEqual([0, 0, 1, 1]);
    expect(cropRect(src, [3, 3, 3, 3])).toEqual([3, 3, 4, 4]);
  });

  it('rejects non-finite boxes with INVALID_BOX', async () => {
    await expect(cropImage(src, [0, 0, Number.NaN, 2])).rejects.toMatchObject({ code: 'INVALID_BOX' });
  });
});

describe('tf-bilinear 1:1 rows read as words or as bytes', () => {
  // Pixels are read four at a time as 32-bit words when a row starts on a word boundary, byte
  // by byte otherwise (and for the last pixels of a row): both must give the same tensor.
  it.each(['pad-bottom-right', 'pad-centre'] as const)('%s, odd and even widths, both layouts', (resize) => {
    for (const [w, h] of [[8, 8], [13, 5], [5, 13], [7, 7], [31, 17], [4, 9]] as [number, number][]) {
      const size = Math.max(w, h);
      for (const layout of ['NCHW', 'NHWC'] as const) {
        const s = spec({ width: size, height: size, resize, layout, mean: [1, 2, 3], std: [2, 3, 4], padValue: 7 });
        const aligned = image(w, h, (x, y, c) => (x * 31 + y * 17 + c * 5 + 3) % 256);
        // The same bytes one byte into a buffer: no word view is possible.
        const shifted = new Uint8Array(aligned.data.length + 1);
        shifted.set(aligned.data, 1);
        const unaligned: RgbImage = { ...aligned, data: Buffer.from(shifted.buffer, 1, aligned.data.length) };
        const a = new Float32Array(size * size * 3);
        const b = new Float32Array(size * size * 3);
        tfBilinearNormalised(aligned, placeImage(w, h, s), s, a, 0);
        tfBilinearNormalised(unaligned, placeImage(w, h, s), s, b, 0);
        expect(Array.from(a), `${resize} ${layout} ${w}x${h}`).toEqual(Array.from(b));
      }
    }
  });
});
