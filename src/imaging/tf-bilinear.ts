import type { RgbImage } from '../core/types.js';
import type { Placement, TensorSpec } from './tensor.js';

/**
 * tf.image.resizeBilinear (align_corners false, half_pixel_centers false) with tfjs's float32
 * normalisation, bit for bit, straight into a model's input tensor: face-api's and the TFJS
 * graphs' own preprocessing, which no sharp kernel reproduces. Split from tensor.ts, which places
 * images and batches them.
 */

/**
 * Taps along one axis for tf-bilinear: src = ratio * dst, floor/ceil neighbours clamped to the
 * padded size, each as a byte offset into the image or -1 for a padding pixel.
 */
interface AxisTaps {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
  /** Positions [first, end) with both neighbours inside the image: one run, as taps only grow. */
  first: number;
  end: number;
  /** Padded size = output size: every position is exactly one source pixel (frac 0, lo = hi). */
  identity: boolean;
}

function axisTaps(out: number, padded: number, before: number, size: number, stride: number): AxisTaps {
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const frac = new Float64Array(out);
  const ratio = padded / out;
  const index = (p: number) => (p - before >= 0 && p - before < size ? (p - before) * stride : -1);
  let first = out;
  let end = 0;
  for (let d = 0; d < out; d++) {
    const src = ratio * d;
    const floor = Math.max(0, Math.floor(src));
    const a = index(floor);
    const b = index(Math.min(padded - 1, Math.ceil(src)));
    lo[d] = a;
    hi[d] = b;
    frac[d] = src - floor;
    if (a >= 0 && b >= 0) {
      first = Math.min(first, d);
      end = d + 1;
    }
  }
  return { lo, hi, frac, first: Math.min(first, end), end, identity: padded === out };
}

/**
 * Where normalised values go: image channel c (R, G, B) of output pixel p lands at
 * base[c] + p * step, as f(f(x) - mean) * (1 / std). x * (1 / std) rounds to the same float32 as
 * x / std for float32 x and std: the quotient of two 24-bit numbers is never a float32 rounding
 * midpoint and lies at least 2^-50 (relative) away from one, while the double product errs by at
 * most 2^-52. `fill` is that value for a padding pixel.
 */
interface ChannelWriter {
  out: Float32Array;
  step: number;
  base: Int32Array;
  mean: Float64Array;
  scale: Float64Array;
  fill: Float32Array;
}

function channelWriter(spec: TensorSpec, out: Float32Array, offset: number): ChannelWriter {
  const f = Math.fround;
  const pixels = spec.width * spec.height;
  const planar = spec.layout === 'NCHW';
  const order = spec.colour === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const writer: ChannelWriter = {
    out,
    step: planar ? 1 : 3,
    base: new Int32Array(3),
    mean: new Float64Array(3),
    scale: new Float64Array(3),
    fill: new Float32Array(3),
  };
  for (let src = 0; src < 3; src++) {
    const c = order.indexOf(src);
    writer.base[src] = offset + (planar ? c * pixels : c);
    const mean = (writer.mean[src] = f(spec.mean[c]!));
    const scale = (writer.scale[src] = 1 / f(spec.std[c]!));
    writer.fill[src] = f(f(spec.padValue ?? 0) - mean) * scale;
  }
  return writer;
}

/**
 * One source row (byte offset, or -1 for a padding row) resized horizontally, interleaved RGB in
 * double precision as tfjs computes it. Taps inside the image take a branch-free loop with the
 * channels unrolled; only the few at the padding's edge check each neighbour.
 */
function horizontalRow(data: Uint8Array, row: number, cols: AxisTaps, pad: number, out: Float64Array): void {
  if (row < 0) {
    out.fill(pad);
    return;
  }
  const { lo, hi, frac, first, end } = cols;
  for (let c = first, o = first * 3; c < end; c++, o += 3) {
    const a = row + lo[c]!;
    const b = row + hi[c]!;
    const fx = frac[c]!;
    const l0 = data[a]!;
    const l1 = data[a + 1]!;
    const l2 = data[a + 2]!;
    out[o] = l0 + (data[b]! - l0) * fx;
    out[o + 1] = l1 + (data[b + 1]! - l1) * fx;
    out[o + 2] = l2 + (data[b + 2]! - l2) * fx;
  }
  edgeTaps(data, row, cols, pad, out, 0, first);
  edgeTaps(data, row, cols, pad, out, end, lo.length);
}

/** Positions [from, to) of a row, where a neighbour may be padding. */
function edgeTaps(data: Uint8Array, row: number, cols: AxisTaps, pad: number, out: Float64Array, from: number, to: number): void {
  for (let c = from; c < to; c++) {
    const c0 = cols.lo[c]!;
    const c1 = cols.hi[c]!;
    for (let ch = 0; ch < 3; ch++) {
      const left = c0 < 0 ? pad : data[row + c0 + ch]!;
      const right = c1 < 0 ? pad : data[row + c1 + ch]!;
      out[c * 3 + ch] = left + (right - left) * cols.frac[c]!;
    }
  }
}

/** Output pixels [from, to) of the row starting at pixel `p` set to the padding value. */
function fillPixels(w: ChannelWriter, p: number, from: number, to: number): void {
  const { out, step, base, fill } = w;
  if (step === 1) {
    for (let c = 0; c < 3; c++) out.fill(fill[c]!, base[c]! + p + from, base[c]! + p + to);
    return;
  }
  const v0 = fill[0]!;
  const v1 = fill[1]!;
  const v2 = fill[2]!;
  for (let x = from, o = (p + from) * step; x < to; x++, o += step) {
    out[base[0]! + o] = v0;
    out[base[1]! + o] = v1;
    out[base[2]! + o] = v2;
  }
}

/** Per channel: where it starts, its mean and 1 / std, as plain numbers for the hot loops. */
function lanes(w: ChannelWriter): [number, number, number, number, number, number, number, number, number] {
  const { base, mean, scale } = w;
  return [base[0]!, base[1]!, base[2]!, mean[0]!, mean[1]!, mean[2]!, scale[0]!, scale[1]!, scale[2]!];
}

/**
 * Per channel, the normalised value of each byte: what the blending path computes for a pixel
 * taken 1:1, f(x - mean) * (1 / std) rounded to float32, looked up instead of computed.
 */
function byteTables(w: ChannelWriter): [Float32Array, Float32Array, Float32Array] {
  const f = Math.fround;
  const table = (c: number) => Float32Array.from({ length: 256 }, (_, x) => f(x - w.mean[c]!) * w.scale[c]!);
  return [table(0), table(1), table(2)];
}

/** Whether this machine stores the low byte of a 32-bit word first (every Node platform in use). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * The image bytes as little-endian 32-bit words, when they start on a word boundary: copyRow
 * reads four pixels as three words, a third of the loads of reading them byte by byte (a
 * 512x512 row copy 2.4 -> 1.5 ms).
 */
function wordView(data: Uint8Array): Uint32Array | undefined {
  return LITTLE_ENDIAN && data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length >> 2) : undefined;
}

/** Output row at pixel `p` taken 1:1 from source row `row` (cols.identity, frac 0): no blending. */
function copyRow(data: Uint8Array, words: Uint32Array | undefined, row: number, cols: AxisTaps, w: ChannelWriter, tables: Float32Array[], p: number): void {
  const { out, step, base } = w;
  const { first, end } = cols;
  const [t0, t1, t2] = tables as [Float32Array, Float32Array, Float32Array];
  const o0 = base[0]!;
  const o1 = base[1]!;
  const o2 = base[2]!;
  let s = row + (first < end ? cols.lo[first]! : 0);
  let x = first;
  let o = (p + first) * step;
  if (words && (s & 3) === 0) {
    // Four pixels, R G B R | G B R G | B R G B, per three words.
    for (let i = s >> 2; x + 4 <= end; x += 4, i += 3, s += 12) {
      const a = words[i]!;
      const b = words[i + 1]!;
      const c = words[i + 2]!;
      out[o0 + o] = t0[a & 255]!;
      out[o1 + o] = t1[(a >>> 8) & 255]!;
      out[o2 + o] = t2[(a >>> 16) & 255]!;
      o += step;
      out[o0 + o] = t0[a >>> 24]!;
      out[o1 + o] = t1[b & 255]!;
      out[o2 + o] = t2[(b >>> 8) & 255]!;
      o += step;
      out[o0 + o] = t0[(b >>> 16) & 255]!;
      out[o1 + o] = t1[b >>> 24]!;
      out[o2 + o] = t2[c & 255]!;
      o += step;
      out[o0 + o] = t0[(c >>> 8) & 255]!;
      out[o1 + o] = t1[(c >>> 16) & 255]!;
      out[o2 + o] = t2[c >>> 24]!;
      o += step;
    }
  }
  for (; x < end; x++, o += step, s += 3) {
    out[o0 + o] = t0[data[s]!]!;
    out[o1 + o] = t1[data[s + 1]!]!;
    out[o2 + o] = t2[data[s + 2]!]!;
  }
  fillPixels(w, p, 0, first);
  fillPixels(w, p, end, cols.lo.length);
}

/** Output row at pixel `p` blended vertically from two horizontally resized rows, normalised. */
function blendRow(top: Float64Array, bottom: Float64Array, fy: number, w: ChannelWriter, p: number, width: number): void {
  const f = Math.fround;
  const { out, step } = w;
  const [o0, o1, o2, m0, m1, m2, k0, k1, k2] = lanes(w);
  // frac 0: t + (b - t) * 0 is t, so the lower row is not read.
  if (fy === 0) {
    for (let x = 0, i = 0, o = p * step; x < width; x++, i += 3, o += step) {
      out[o0 + o] = f(f(top[i]!) - m0) * k0;
      out[o1 + o] = f(f(top[i + 1]!) - m1) * k1;
      out[o2 + o] = f(f(top[i + 2]!) - m2) * k2;
    }
    return;
  }
  for (let x = 0, i = 0, o = p * step; x < width; x++, i += 3, o += step) {
    const t0 = top[i]!;
    const t1 = top[i + 1]!;
    const t2 = top[i + 2]!;
    out[o0 + o] = f(f(t0 + (bottom[i]! - t0) * fy) - m0) * k0;
    out[o1 + o] = f(f(t1 + (bottom[i + 1]! - t1) * fy) - m1) * k1;
    out[o2 + o] = f(f(t2 + (bottom[i + 2]! - t2) * fy) - m2) * k2;
  }
}

/**
 * tf-bilinear resize of the padded image, normalised and laid out straight into the batch tensor,
 * without materialising the padding or an intermediate float image. Each source row is resized
 * horizontally once and kept while the next output row still needs it. Rows that are all
 * padding are constant, and rows that map 1:1 onto a source row (no resampling, as a 512x512
 * image for a 512x512 model) skip the blending and its row buffers.
 */
export function tfBilinearNormalised(image: RgbImage, place: Placement, spec: TensorSpec, out: Float32Array, offset: number): void {
  const { width, height } = spec;
  const pad = spec.padValue ?? 0;
  // A plain Uint8Array view, so the kernels see one array type whatever Buffer subclass came in.
  const data = new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length);
  const cols = axisTaps(width, place.paddedWidth, place.left, image.width, 3);
  const rows = axisTaps(height, place.paddedHeight, place.top, image.height, image.width * 3);
  const writer = channelWriter(spec, out, offset);
  const tables = cols.identity ? byteTables(writer) : [];
  const words = cols.identity ? wordView(data) : undefined;
  let upper = { row: Number.NaN, values: new Float64Array(width * 3) };
  let lower = { row: Number.NaN, values: new Float64Array(width * 3) };
  for (let r = 0; r < height; r++) {
    const r0 = rows.lo[r]!;
    const r1 = rows.hi[r]!;
    const fy = rows.frac[r]!;
    if (r0 < 0 && r1 < 0) {
      fillPixels(writer, r * width, 0, width);
      continue;
    }
    if (fy === 0 && cols.identity && r0 >= 0) {
      copyRow(data, words, r0, cols, writer, tables, r * width);
      continue;
    }
    // Keep whichever cached row is still needed; fill the other.
    if (upper.row !== r0 && lower.row === r0) [upper, lower] = [lower, upper];
    if (upper.row !== r0) {
      horizontalRow(data, r0, cols, pad, upper.values);
      upper.row = r0;
    }
    if (fy !== 0 && lower.row !== r1) {
      horizontalRow(data, r1, cols, pad, lower.values);
      lower.row = r1;
    }
    blendRow(upper.values, lower.values, fy, writer, r * width, width);
  }
}
