import sharp from 'sharp';
import type { RgbImage } from '../core/types.js';

/** An 8-bit single-channel image, row-major. */
export interface GreyImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Luma of an RGB image for local-feature matching, shrunk so its longer side is at most `maxSide`
 * (corner detectors gain little from more pixels and their cost grows with them). `scale` maps
 * grey pixels back to the source: source = grey * scale. Every side keeps at least 1 px, as sharp
 * never shrinks an axis below one pixel: a strip such as 16384x16 comes out 640x1, shrunk less
 * across than along, so there `scale` holds for x only; no features are found in so thin an
 * image anyway (see LocalFeatureVerifier.minSide).
 */
export async function toGrey(image: RgbImage, maxSide: number): Promise<GreyImage & { scale: number }> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`grey: expected one channel, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, scale: image.width / info.width };
}
