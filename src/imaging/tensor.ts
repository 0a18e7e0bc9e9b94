import sharp from 'sharp';
import type { Box, RgbImage } from '../core/types.js';
import { tfBilinearNormalised } from './tf-bilinear.js';

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

export interface Placement {
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
 * Cropping (negative offsets) with extract and padding with extend, then a separate resize
 * (sharp would otherwise resize first).
 */
async function sharpResize(image: RgbImage, place: Placement, spec: TensorSpec, kernel: Exclude<Interpolation, 'tf-bilinear'>): Promise<Buffer> {
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
  return sharp(padded, { raw: { width: place.paddedWidth, height: place.paddedHeight, channels: 3 } })
    .resize(spec.width, spec.height, { fit: 'fill', kernel })
    .raw()
    .toBuffer();
}

/** Where a (non-empty) image sits in the model input. */
function checkedPlacement(image: RgbImage, spec: TensorSpec): Placement {
  if (image.width < 1 || image.height < 1) throw new Error(`tensor: image is ${image.width}x${image.height}`);
  return placeImage(image.width, image.height, spec);
}

/** Resized RGB floats (interleaved, spec.width x spec.height) and the transform back to the source. */
export async function resizeForModel(image: RgbImage, spec: TensorSpec): Promise<{ rgb: Float32Array; transform: InputTransform }> {
  const place = checkedPlacement(image, spec);
  const interpolation = spec.interpolation ?? 'tf-bilinear';
  const rgb =
    interpolation === 'tf-bilinear'
      ? tfBilinearRgb(image, place, spec)
      : new Float32Array(await sharpResize(image, place, spec, interpolation));
  return { rgb, transform: transformOf(image, place, spec) };
}

/** tf-bilinear without normalisation: mean 0 and std 1 leave f(x) as it is, interleaved RGB. */
function tfBilinearRgb(image: RgbImage, place: Placement, spec: TensorSpec): Float32Array {
  const rgb = new Float32Array(spec.width * spec.height * 3);
  const plain: TensorSpec = { ...spec, layout: 'NHWC', colour: 'RGB', mean: [0, 0, 0], std: [1, 1, 1] };
  tfBilinearNormalised(image, place, plain, rgb, 0);
  return rgb;
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
 * Normalises interleaved RGB bytes (sharp's output) into `out` at `offset`. Each channel's 256
 * possible results are computed once, rounded to float32 at each step as tfjs does
 * ((x - mean) then / std), and looked up: a 256x256 crop is 196,608 values.
 */
function writeNormalised(rgb: Uint8Array, spec: TensorSpec, out: Float32Array, offset: number): void {
  const f = Math.fround;
  const pixels = spec.width * spec.height;
  const order = spec.colour === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  const planar = spec.layout === 'NCHW';
  for (let c = 0; c < 3; c++) {
    const src = order[c]!;
    const mean = f(spec.mean[c]!);
    const std = f(spec.std[c]!);
    const table = Float32Array.from({ length: 256 }, (_, x) => f(f(x - mean) / std));
    const base = offset + (planar ? c * pixels : c);
    const step = planar ? 1 : 3;
    for (let i = 0, s = src, o = base; i < pixels; i++, s += 3, o += step) out[o] = table[rgb[s]!]!;
  }
}

/**
 * One batched tensor for several images: [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC). Its memory
 * comes from `allocate` (e.g. a BufferPool's `take`) when given: a buffer of exactly the bytes
 * asked for, whose old contents do not matter.
 */
export async function toTensor(images: readonly RgbImage[], spec: TensorSpec, allocate?: (bytes: number) => ArrayBuffer): Promise<ImageTensor> {
  const per = spec.width * spec.height * 3;
  // Every element is written below (padding included), so the memory is not zeroed first: for
  // a 512x512 input that saves clearing 3 MB per call.
  const bytes = per * images.length * 4;
  const data = new Float32Array(allocate ? allocate(bytes) : Buffer.allocUnsafeSlow(bytes).buffer, 0, per * images.length);
  const transforms: InputTransform[] = [];
  const interpolation = spec.interpolation ?? 'tf-bilinear';
  if (interpolation === 'tf-bilinear') {
    for (const [n, image] of images.entries()) {
      const place = checkedPlacement(image, spec);
      tfBilinearNormalised(image, place, spec, data, n * per);
      transforms.push(transformOf(image, place, spec));
    }
  } else {
    // sharp resizes on libuv's threads: a batch of crops is resized side by side, not in turn,
    // and each crop is normalised as soon as it is back, while the others are still resizing.
    const resized = await Promise.all(
      images.map(async (image, n) => {
        const place = checkedPlacement(image, spec);
        writeNormalised(await sharpResize(image, place, spec, interpolation), spec, data, n * per);
        return transformOf(image, place, spec);
      }),
    );
    transforms.push(...resized);
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
