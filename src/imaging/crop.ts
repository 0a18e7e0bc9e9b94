import { AppError } from '../core/app-error.js';
import type { Box, RgbImage } from '../core/types.js';

export interface CropOptions {
  /** Extra context on every side, as a fraction of the box's width (left/right) and height (top/bottom). */
  margin?: number;
}

/** The integer pixel rectangle a crop will cover: outward-rounded, clamped, at least 1x1. */
export function cropRect(image: Pick<RgbImage, 'width' | 'height'>, box: Box, options: CropOptions = {}): Box {
  if (!box.every(Number.isFinite)) throw new AppError('INVALID_BOX', `box [${box.join(', ')}] has non-finite values`);
  const margin = options.margin ?? 0;
  const mx = (box[2] - box[0]) * margin;
  const my = (box[3] - box[1]) * margin;
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  // x1/y1 stay inside the image, so growing x2/y2 to x1 + 1 / y1 + 1 never leaves it.
  const x1 = clamp(Math.floor(box[0] - mx), image.width - 1);
  const y1 = clamp(Math.floor(box[1] - my), image.height - 1);
  const x2 = Math.max(clamp(Math.ceil(box[2] + mx), image.width), x1 + 1);
  const y2 = Math.max(clamp(Math.ceil(box[3] + my), image.height), y1 + 1);
  return [x1, y1, x2, y2];
}

/**
 * Cuts a box out of an RGB image. The copy is a plain row-by-row byte copy: exact pixels, no
 * resampling, so what the embedder sees is decided by its own preprocessing alone.
 */
export async function cropImage(image: RgbImage, box: Box, options: CropOptions = {}): Promise<RgbImage> {
  const [x1, y1, x2, y2] = cropRect(image, box, options);
  const width = x2 - x1;
  const height = y2 - y1;
  const data = Buffer.allocUnsafe(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((y1 + y) * image.width + x1) * 3;
    image.data.copy(data, y * width * 3, from, from + width * 3);
  }
  return { data, width, height };
}
