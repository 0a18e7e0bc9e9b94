/**
 * Untrusted bytes to an RgbImage, or an AppError with a stable code. Order of checks: size,
 * magic bytes (only known rasters reach sharp), header dimensions (before any pixel is
 * decoded), then a pixel decode that is bounded in pixels and in time. Pixels come out as sRGB:
 * an embedded colour profile is applied, unless it is sRGB's own (see icc-profile.ts).
 */
import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../core/app-error.js';
import type { RgbImage } from '../core/types.js';
import { isSrgbProfile } from './icc-profile.js';
import { FORMAT_LABELS, isRasterFormat, sniffImageFormat, type RasterFormat } from './image-formats.js';

export { decodeBase64Image } from './base64-image.js';

export interface DecodeLimits {
  maxBytes: number;
  maxPixels: number;
  /** Longest side, in either orientation. */
  maxDimension: number;
  /** Shortest side; omitted means DEFAULT_DECODE_LIMITS.minDimension, pass 1 to turn it off. */
  minDimension?: number;
  /** Wall time for the pixel decode; omitted means DEFAULT_DECODE_LIMITS.timeoutSeconds. */
  timeoutSeconds?: number;
}

/**
 * - maxBytes 20 MiB: a 48 MP phone JPEG is 8-15 MB; anything bigger is not a photo upload.
 * - maxPixels 50 MP: admits 48-50 MP sensor output (8064x6048, 8160x6120) at full size; the
 *   decoded RGB of such an image is 150 MB, which bounds memory per in-flight decode.
 * - maxDimension 16384: the largest side WebP and libjpeg-turbo write (16383) rounded up; longer
 *   strips would letterbox to a few rows at detector resolution anyway.
 * - minDimension 16: below that no detector anchor fits and an upscaled crop carries no identity.
 * - timeoutSeconds 10: the slowest legitimate case measured (48 MP noise WebP, 2 cores) took
 *   4.3 s; twice that leaves room for a busy machine, and a crafted file cannot hold a thread.
 */
export const DEFAULT_DECODE_LIMITS: Readonly<Required<DecodeLimits>> = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 50_000_000,
  maxDimension: 16_384,
  minDimension: 16,
  timeoutSeconds: 10,
});

export interface DecodedImage extends RgbImage {
  readonly format: RasterFormat;
  /** The EXIF orientation (2-8) that was applied, when the file carried one. */
  readonly orientedFrom?: number;
}

/** The name libvips reports for each raster format, checked against the sniffed one. */
const LOADER_FORMAT: Record<RasterFormat, string> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  tiff: 'tiff',
  avif: 'heif',
};

/** AVIF goes through libheif, which a custom libvips build may lack. */
const canDecode = (format: RasterFormat): boolean =>
  format !== 'avif' || sharp.format.heif?.input.buffer === true;

export async function decodeImage(bytes: Buffer, limits: DecodeLimits): Promise<DecodedImage> {
  if (bytes.length === 0) throw new AppError('IMAGE_EMPTY', 'the image is zero bytes long');
  if (bytes.length > limits.maxBytes) {
    throw new AppError('IMAGE_TOO_LARGE', `the image is ${bytes.length} bytes, more than the limit of ${limits.maxBytes}`);
  }
  const format = acceptedFormat(bytes);
  const header = await readHeader(bytes, format);
  const orientation = checkDimensions(header, limits);

  // failOn 'error': truncated data and CRC/stream errors abort, while libjpeg's warnings (e.g.
  // "extraneous bytes before marker", common from cameras) do not reject real photos.
  const input = sharp(bytes, {
    failOn: 'error',
    limitInputPixels: limits.maxPixels,
    sequentialRead: true,
    autoOrient: true,
    pages: 1,
    // An embedded sRGB profile would only be converted to sRGB (icc-profile.ts): skipped, as it
    // costs more than the decode itself. Other profiles are converted.
    ignoreIcc: header.srgbProfile,
  });
  try {
    const { data, info } = await input
      .timeout({ seconds: Math.ceil(limits.timeoutSeconds ?? DEFAULT_DECODE_LIMITS.timeoutSeconds) }) // sharp takes whole seconds
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoder produced ${info.channels} channels, ${data.length} bytes for ${info.width}x${info.height}`);
    }
    return {
      data,
      width: info.width,
      height: info.height,
      format,
      ...(orientation > 1 ? { orientedFrom: orientation } : {}),
    };
  } catch (cause) {
    throw decodeError(cause, format, limits);
  }
}

function acceptedFormat(bytes: Buffer): RasterFormat {
  const sniffed = sniffImageFormat(bytes);
  if (sniffed === undefined) {
    throw new AppError('IMAGE_DECODE_FAILED', 'the bytes are not a recognisable image');
  }
  if (!isRasterFormat(sniffed) || !canDecode(sniffed)) {
    throw new AppError('IMAGE_FORMAT_UNSUPPORTED', `${FORMAT_LABELS[sniffed]} are not accepted; send JPEG, PNG, WebP, GIF, TIFF${canDecode('avif') ? ' or AVIF' : ''}`);
  }
  return sniffed;
}

interface Header {
  width: number;
  height: number;
  orientation: number;
  /** The embedded ICC profile describes sRGB: converting with it would change nothing. */
  srgbProfile: boolean;
}

/** Header only: no pixels are decoded, so a 30000x30000 bomb costs a few hundred bytes of reading. */
async function readHeader(bytes: Buffer, format: RasterFormat): Promise<Header> {
  let meta: Metadata;
  try {
    // No pixel limit here: the dimensions are wanted precisely to refuse with a clear reason.
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'error', pages: 1 }).metadata();
  } catch (cause) {
    throw new AppError('IMAGE_DECODE_FAILED', `the ${format} header could not be read (corrupt or truncated)`, { cause });
  }
  if (meta.format !== LOADER_FORMAT[format]) {
    throw new AppError('IMAGE_DECODE_FAILED', `the bytes look like ${format} but decode as ${meta.format}`);
  }
  if (format === 'avif' && meta.compression !== 'av1') {
    throw new AppError('IMAGE_FORMAT_UNSUPPORTED', 'only AV1-coded HEIF (AVIF) is accepted');
  }
  if (!(meta.width > 0 && meta.height > 0)) {
    throw new AppError('IMAGE_DECODE_FAILED', `the ${format} header has no dimensions`);
  }
  return { width: meta.width, height: meta.height, orientation: meta.orientation ?? 1, srgbProfile: isSrgbProfile(meta.icc) };
}

/** Refuses by header dimensions; returns the EXIF orientation to report. */
function checkDimensions({ width, height, orientation }: Header, limits: DecodeLimits): number {
  const size = `${width}x${height}`;
  if (width * height > limits.maxPixels) {
    throw new AppError('IMAGE_TOO_LARGE', `the image is ${size} (${width * height} pixels), more than the limit of ${limits.maxPixels}`);
  }
  if (Math.max(width, height) > limits.maxDimension) {
    throw new AppError('IMAGE_TOO_LARGE', `the image is ${size}, a side is longer than ${limits.maxDimension}`);
  }
  const minDimension = limits.minDimension ?? DEFAULT_DECODE_LIMITS.minDimension;
  if (Math.min(width, height) < minDimension) {
    throw new AppError('IMAGE_TOO_SMALL', `the image is ${size}, a side is shorter than ${minDimension}`);
  }
  return orientation >= 1 && orientation <= 8 ? orientation : 1;
}

/** sharp's messages name libvips internals; the client gets a stable code and a plain reason. */
function decodeError(cause: unknown, format: RasterFormat, limits: DecodeLimits): AppError {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (message.startsWith('timeout')) {
    const seconds = limits.timeoutSeconds ?? DEFAULT_DECODE_LIMITS.timeoutSeconds;
    return new AppError('IMAGE_DECODE_FAILED', `decoding the ${format} image took longer than ${seconds} s`, { cause });
  }
  if (message.includes('exceeds pixel limit')) {
    return new AppError('IMAGE_TOO_LARGE', `the image has more than ${limits.maxPixels} pixels`, { cause });
  }
  return new AppError('IMAGE_DECODE_FAILED', `the ${format} image is corrupt or truncated`, { cause });
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A JPEG of a decoded image, e.g. a thumbnail for a report; never enlarges. */
export async function encodeJpeg(image: RgbImage, options: { quality?: number; maxSide?: number } = {}): Promise<Buffer> {
  const { data, width, height } = image;
  if (data.length !== width * height * 3) {
    throw new RangeError(`an RgbImage of ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`);
  }
  let pipeline = sharp(data, { raw: { width, height, channels: 3 } });
  if (options.maxSide !== undefined && Math.max(width, height) > options.maxSide) {
    pipeline = pipeline.resize({ width: options.maxSide, height: options.maxSide, fit: 'inside', withoutEnlargement: true });
  }
  return pipeline.jpeg({ quality: options.quality ?? 80 }).toBuffer();
}
