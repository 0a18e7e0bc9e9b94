import { readFile } from 'node:fs/promises';
import type { Box } from '../../core/types.js';
import { cropImage } from '../../imaging/crop.js';
import { decodeImage, DEFAULT_DECODE_LIMITS, encodeJpeg, sha256Hex } from '../../imaging/decode.js';

/** A JPEG as a data: URI, so the report needs no file next to it. */
const dataUri = (jpeg: Buffer): string => `data:image/jpeg;base64,${jpeg.toString('base64')}`;

const limits = { ...DEFAULT_DECODE_LIMITS, minDimension: 1 };

export interface Thumbnail {
  uri: string;
  /** Size of the original image, the coordinate space of its boxes. */
  width: number;
  height: number;
}

/** The whole image, longest side at most `maxSide`. */
export async function imageThumbnail(path: string, maxSide: number): Promise<Thumbnail | null> {
  try {
    const image = await decodeImage(await readFile(path), limits);
    return { uri: dataUri(await encodeJpeg(image, { maxSide, quality: 75 })), width: image.width, height: image.height };
  } catch {
    return null;
  }
}

/**
 * The enrolled crop of a gallery entry, cut from the file it was indexed from, with a little
 * context. Null when the file is gone or no longer has the bytes that were enrolled.
 */
export async function entryThumbnail(path: string, imageSha256: string, box: Box, maxSide: number): Promise<string | null> {
  try {
    const bytes = await readFile(path);
    if (sha256Hex(bytes) !== imageSha256) return null;
    const image = await decodeImage(bytes, limits);
    return dataUri(await encodeJpeg(await cropImage(image, box, { margin: 0.1 }), { maxSide, quality: 75 }));
  } catch {
    return null;
  }
}
