import sharp from 'sharp';
import type { Box, RgbImage } from '../core/types.js';

/**
 * Turns decoded images into model input tensors: pad (zeros) or stretch to the model's aspect,
 * resize, normalise, lay out, batch. Returns the transform that maps model pixels back to each
 * source image, so detections can be reported in the caller's coordinates.
 */

/**
 * 'letterbox' keeps the aspect and pads centred like 'pad-centre', with `padValue` pixels
 * (Ultralytics uses 114). 'centre-crop' scales the shorter side to `shortestEdge` and cuts the
 * centre width x height out, as Hugging Face image processors do (resize, then center_crop).
 */
export type ResizeMode = 'pad-bottom-right' | 'pad-centre' | 'letterbox' | 'stretch' | 'centre-crop';
/**
 * 'tf-bilinear' is tf.image.resizeBilinear(alignCorners = false, halfPixelCenters = false),
 * which face-api uses: source = destination * (in / out), no half-pixel offset, no
 * antialiasing. The others are sharp (libvips) kernels with half-pixel centres.
 */
export type Interpolation = 'tf-bilinear' | 'linear' | 'cubic' | 'lanczos3' | 'nearest';

export interface TensorSpec {
  width: number;
  height: number;
  layout: 'NCHW' | 'NHWC';
  colour: 'RGB' | 'BGR';
  resize: ResizeMode;
  interpolation?: Interpolation;
  /** x = (pixel 0..255 - mean) / std, per channel in the model's colour order. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** Value (0..255, before normalisation) of padding pixels; 0 unless given. */
  padValue?: number;
  /** 'centre-crop': length the shorter image side is scaled to before the crop; default min(width, height). */
  shortestEdge?: number;
}

/** source = model * scale - offset, per axis. */
export interface InputTransform {
  scaleX: number;
  scaleY: number;
  offsetX: number;
  offsetY: number;
  sourceWidth: number;
  sourceHeight: number;
}

export interface ImageTensor {
  data: Float32Array;
  dims: number[];
  transforms: InputTransform[];
}

interface Placement {
  /** Size of the (virtually) padded source that is resized to the model size. */
  paddedWidth: number;
  paddedHeight: number;
  /** Padding columns/rows before the image inside the padded source; negative when cropping. */
  left: number;
  top: number;
}

/** The centre window of the source that becomes the model input under 'centre-crop'. */
function centreWindow(width: number, height: number, spec: Pick<TensorSpec, 'width' | 'height' | 'shortestEdge'>): Placement {
  const scale = (spec.shortestEdge ?? Math.min(spec.width, spec.height)) / Math.min(width, height);
  const paddedWidth = Math.max(1, Math.round(spec.width / scale));
  const paddedHeight = Math.max(1, Math.round(spec.height / scale));
  return { paddedWidth, paddedHeight, left: Math.round((paddedWidth - width) / 2), top: Math.round((paddedHeight - height) / 2) };
}

/**
 * Where the image sits in the padded source. Centred padding splits like face-api's
 * padToSquare: round(diff / 2) after the image, the rest before it.
 */
export function placeImage(width: number, height: number, spec: Pick<TensorSpec, 'width' | 'height' | 'resize' | 'shortestEdge'>): Placement {
  if (spec.resize === 'stretch') return { paddedWidth: width, paddedHeight: height, left: 0, top: 0 };
  if (spec.resize === 'centre-crop') return centreWindow(width, height, spec);
  const paddedWidth = Math.max(width, Math.ceil((height * spec.width) / spec.height));
  const paddedHeight = Math.max(height, Math.ceil((width * spec.height) / spec.width));
  if (spec.resize === 'pad-bottom-right') return { paddedWidth, paddedHeight, left: 0, top: 0 };
  const dx = paddedWidth - width;
  const dy = paddedHeight - height;
  return { paddedWidth, paddedHeight, left: dx - Math.round(dx / 2), top: dy - Math.round(dy / 2) };
}

/**
 * Source index (byte offset of a pixel, or -1 for a padding pixel) and weight along one axis, for
 * tf-bilinear: src = ratio * dst, floor/ceil neighbours clamped to the padded size.
 */
function axisTaps(out: number, padded: number, before: number, size: number, stride: number) {
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const frac = new Float64Array(out);
  const ratio = padded / out;
  const index = (p: number) => (p - before >= 0 && p - before < size ? (p - before) * stride : -1);
  for (let d = 0; d < out; d++) {
    const src = ratio * d;
    const floor = Math.max(0, Math.floor(src));
    lo[d] = index(floor);
    hi[d] = index(Math.min(padded - 1, Math.ceil(src)));
    frac[d] = src - floor;
  }
  return { lo, hi, frac };
}

/** tf-bilinear resize of the zero-padded image straight into float RGB, without materialising the padding. */
function tfBilinear(image: RgbImage, place: Placement, outWidth: number, outHeight: number, pad = 0): Float32Array {
  const { data } = image;
  const out = new Float32Array(outWidth * outHeight * 3);
  const cols = axisTaps(outWidth, place.paddedWidth, place.left, image.width, 3);
  const rows = axisTaps(outHeight, place.paddedHeight, place.top, image.height, image.width * 3);
  let o = 0;
  for (let r = 0; r < outHeight; r++) {
    const r0 = rows.lo[r]!;
    const r1 = rows.hi[r]!;
    const fy = rows.frac[r]!;
    for (let c = 0; c < outWidth; c++) {
      const c0 = cols.lo[c]!;
      const c1 = cols.hi[c]!;
      const fx = cols.frac[c]!;
      const tl = r0 < 0 || c0 < 0 ? -1 : r0 + c0;
      const tr = r0 < 0 || c1 < 0 ? -1 : r0 + c1;
      const bl = r1 < 0 || c0 < 0 ? -1 : r1 + c0;
      const br = r1 < 0 || c1 < 0 ? -1 : r1 + c1;
      for (let ch = 0; ch < 3; ch++) {
        const vtl = tl < 0 ? pad : data[tl + ch]!;
        const vtr = tr < 0 ? pad : data[tr + ch]!;
        const vbl = bl < 0 ? pad : data[bl + ch]!;
        const vbr = br < 0 ? pad : data[br + ch]!;
        const top = vtl + (vtr - vtl) * fx;
        const bottom = vbl + (vbr - vbl) * fx;
        out[o++] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/**
 * Cropping (negative offsets) with extract and padding with extend, then a separate resize
 * (sharp would otherwise resize first).
 */
async function sharpResize(image: RgbImage, place: Placement, spec: TensorSpec, kernel: Exclude<Interpolation, 'tf-bilinear'>): Promise<Float32Array> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  let padded: Buffer = image.data;
  if (place.paddedWidth !== image.width || place.paddedHeight !== image.height) {
    const keptWidth = place.left < 0 ? place.paddedWidth : image.width;
    const keptHeight = place.top < 0 ? place.paddedHeight : image.height;
    const pad = { r: spec.padValue ?? 0, g: spec.padValue ?? 0, b: spec.padValue ?? 0 };
    let edit = sharp(image.data, { raw });
    if (keptWidth !== image.width || keptHeight !== image.height) {
      edit = edit.extract({ left: Math.max(0, -place.left), top: Math.max(0, -place.top), width: keptWidth, height: keptHeight });
    }
    const left = Math.max(0, place.left);
    const top = Math.max(0, place.top);
    padded = await edit
      .extend({ top, left, bottom: place.paddedHeight - keptHeight - top, right: place.paddedWidth - keptWidth - left, background: pad })
      .raw()
      .toBuffer();
  }
  const resized = await sharp(padded, { raw: { width: place.paddedWidth, height: place.paddedHeight, channels: 3 } })
    .resize(spec.width, spec.height, { fit: 'fill', kernel })
    .raw()
    .toBuffer();
  return Float32Array.from(resized);
}

/** Resized RGB floats (interleaved, spec.width x spec.height) and the transform back to the source. */
export async function resizeForModel(image: RgbImage, spec: TensorSpec): Promise<{ rgb: Float32Array; transform: InputTransform }> {
  if (image.width < 1 || image.height < 1) throw new Error(`tensor: image is ${image.width}x${image.height}`);
  const place = placeImage(image.width, image.height, spec);
  const interpolation = spec.interpolation ?? 'tf-bilinear';
  const rgb =
    interpolation === 'tf-bilinear'
      ? tfBilinear(image, place, spec.width, spec.height, spec.padValue ?? 0)
      : await sharpResize(image, place, spec, interpolation);
  return { rgb, transform: transformOf(image, place, spec) };
}

function transformOf(image: RgbImage, place: Placement, spec: TensorSpec): InputTransform {
  return {
    scaleX: place.paddedWidth / spec.width,
    scaleY: place.paddedHeight / spec.height,
    offsetX: place.left,
    offsetY: place.top,
    sourceWidth: image.width,
    sourceHeight: image.height,
  };
}

/**
 * Normalises interleaved RGB floats into `out` at `offset`. Each step is rounded to float32, as
 * tfjs does ((x - mean) then / std), so inputs match face-api's bit for bit in the usual cases.
 */
function writeNormalised(rgb: Float32Array, spec: TensorSpec, out: Float32Array, offset: number): void {
  const f = Math.fround;
  const pixels = spec.width * spec.height;
  const order = spec.colour === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const planar = spec.layout === 'NCHW';
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const mean = f(spec.mean[c]!);
    const std = f(spec.std[c]!);
    const base = offset + (planar ? c * pixels : c);
    const step = planar ? 1 : 3;
    for (let i = 0; i < pixels; i++) out[base + i * step] = f(f(rgb[i * 3 + src]! - mean) / std);
  }
}

/**
 * One source row resized horizontally (tf-bilinear, padding included), interleaved RGB, in double
 * precision. Channels are unrolled and taps inside the image take a branch-free path: the
 * per-channel loop with padding checks cost three times as much.
 */
function horizontalRow(data: Buffer, row: number, cols: ReturnType<typeof axisTaps>, pad: number, out: Float64Array): void {
  const { lo, hi, frac } = cols;
  for (let c = 0, o = 0; c < lo.length; c++, o += 3) {
    const c0 = lo[c]!;
    const c1 = hi[c]!;
    const fx = frac[c]!;
    if (row >= 0 && c0 >= 0 && c1 >= 0) {
      const a = row + c0;
      const b = row + c1;
      const l0 = data[a]!;
      const l1 = data[a + 1]!;
      const l2 = data[a + 2]!;
      out[o] = l0 + (data[b]! - l0) * fx;
      out[o + 1] = l1 + (data[b + 1]! - l1) * fx;
      out[o + 2] = l2 + (data[b + 2]! - l2) * fx;
      continue;
    }
    for (let ch = 0; ch < 3; ch++) {
      const left = row < 0 || c0 < 0 ? pad : data[row + c0 + ch]!;
      const right = row < 0 || c1 < 0 ? pad : data[row + c1 + ch]!;
      out[o + ch] = left + (right - left) * fx;
    }
  }
}

/**
 * tfBilinear followed by writeNormalised, straight into the batch tensor: rows are resized
 * horizontally once (and reused by the next output row, which usually needs the same source
 * row), then blended vertically, normalised and laid out. No intermediate float image and no
 * second sweep; every step rounds to float32 exactly as the two-pass path does.
 */
function tfBilinearNormalised(image: RgbImage, place: Placement, spec: TensorSpec, out: Float32Array, offset: number): void {
  const f = Math.fround;
  const { width, height } = spec;
  const pad = spec.padValue ?? 0;
  const cols = axisTaps(width, place.paddedWidth, place.left, image.width, 3);
  const rows = axisTaps(height, place.paddedHeight, place.top, image.height, image.width * 3);
  const pixels = width * height;
  const planar = spec.layout === 'NCHW';
  const step = planar ? 1 : 3;
  // Per image channel (R, G, B): the model channel it feeds, where that channel starts, its mean,
  // and 1 / std. x * (1 / std) rounds to the same float32 as x / std for float32 x and std: the
  // quotient of two 24-bit numbers is never a float32 rounding midpoint and lies at least 2^-50
  // (relative) away from one, while the double product errs by at most 2^-52.
  const order = spec.colour === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const channel = [0, 1, 2].map((src) => order.indexOf(src));
  const [b0, b1, b2] = channel.map((c) => offset + (planar ? c * pixels : c)) as [number, number, number];
  const [m0, m1, m2] = channel.map((c) => f(spec.mean[c]!)) as [number, number, number];
  const [k0, k1, k2] = channel.map((c) => 1 / f(spec.std[c]!)) as [number, number, number];
  let upper = { row: Number.NaN, values: new Float64Array(width * 3) };
  let lower = { row: Number.NaN, values: new Float64Array(width * 3) };
  for (let r = 0; r < height; r++) {
    const r0 = rows.lo[r]!;
    const r1 = rows.hi[r]!;
    const fy = rows.frac[r]!;
    // Keep whichever cached row is still needed; fill the other.
    if (upper.row !== r0 && lower.row === r0) [upper, lower] = [lower, upper];
    if (upper.row !== r0) {
      horizontalRow(image.data, r0, cols, pad, upper.values);
      upper.row = r0;
    }
    if (lower.row !== r1) {
      horizontalRow(image.data, r1, cols, pad, lower.values);
      lower.row = r1;
    }
    const top = upper.values;
    const bottom = lower.values;
    let o = r * width * step;
    for (let x = 0, i = 0; x < width; x++, i += 3, o += step) {
      const t0 = top[i]!;
      const t1 = top[i + 1]!;
      const t2 = top[i + 2]!;
      out[b0 + o] = f(f(t0 + (bottom[i]! - t0) * fy) - m0) * k0;
      out[b1 + o] = f(f(t1 + (bottom[i + 1]! - t1) * fy) - m1) * k1;
      out[b2 + o] = f(f(t2 + (bottom[i + 2]! - t2) * fy) - m2) * k2;
    }
  }
}

/** One batched tensor for several images: [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC). */
export async function toTensor(images: readonly RgbImage[], spec: TensorSpec): Promise<ImageTensor> {
  const per = spec.width * spec.height * 3;
  const data = new Float32Array(per * images.length);
  const transforms: InputTransform[] = [];
  for (const [n, image] of images.entries()) {
    if ((spec.interpolation ?? 'tf-bilinear') === 'tf-bilinear') {
      if (image.width < 1 || image.height < 1) throw new Error(`tensor: image is ${image.width}x${image.height}`);
      const place = placeImage(image.width, image.height, spec);
      tfBilinearNormalised(image, place, spec, data, n * per);
      transforms.push(transformOf(image, place, spec));
      continue;
    }
    const { rgb, transform } = await resizeForModel(image, spec);
    writeNormalised(rgb, spec, data, n * per);
    transforms.push(transform);
  }
  const dims =
    spec.layout === 'NCHW'
      ? [images.length, 3, spec.height, spec.width]
      : [images.length, spec.height, spec.width, 3];
  return { data, dims, transforms };
}

/** Maps a box in model-input pixels to source-image pixels (not clamped). */
export function boxToSource(box: Box, t: InputTransform): Box {
  return [box[0] * t.scaleX - t.offsetX, box[1] * t.scaleY - t.offsetY, box[2] * t.scaleX - t.offsetX, box[3] * t.scaleY - t.offsetY];
}
