import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { RgbImage } from '../../core/types.js';
import { cropImage } from '../../imaging/crop.js';
import { decodeImage, DEFAULT_DECODE_LIMITS } from '../../imaging/decode.js';

const PHOTO_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export interface Photo {
  file: string;
  path: string;
  bytes: Buffer;
  image: RgbImage;
}

/** The photos of a folder (sorted by name), read and decoded once. */
export async function readPhotos(dir: string): Promise<Photo[]> {
  const names = (await readdir(dir)).filter((n) => PHOTO_EXTENSIONS.has(extname(n).toLowerCase())).sort();
  const photos: Photo[] = [];
  for (const file of names) {
    const path = join(dir, file);
    const bytes = await readFile(path);
    photos.push({ file, path, bytes, image: await decodeImage(bytes, DEFAULT_DECODE_LIMITS) });
  }
  return photos;
}

/** The photo the single-image figures use: the one with a face, when the set has it. */
export function referencePhoto(photos: readonly Photo[], preferred = 'astronaut.png'): Photo {
  const photo = photos.find((p) => p.file === preferred) ?? photos[0];
  if (!photo) throw new Error('no photos to benchmark with');
  return photo;
}

/** A few photos in quick mode (the reference first), all of them otherwise. */
export function photoSubset(photos: readonly Photo[], reference: Photo, quick: boolean, count = 3): Photo[] {
  if (!quick) return [...photos];
  return [reference, ...photos.filter((p) => p !== reference)].slice(0, count);
}

/** The centre half of an image: a stand-in subject when only the cost of embedding matters. */
export function centreCrop(image: RgbImage): Promise<RgbImage> {
  const { width: w, height: h } = image;
  return cropImage(image, [w / 4, h / 4, (3 * w) / 4, (3 * h) / 4]);
}

