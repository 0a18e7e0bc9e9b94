/**
 * Untrusted bytes to an RgbImage, or an AppError with a stable code. Order of checks: size,
 * magic bytes (only known rasters reach sharp), a JPEG's marker layout (coding process, camera
 * quirks; see prepareJpeg), header dimensions (before any pixel is decoded), then a pixel decode
 * that is bounded in pixels and in time and refuses data that runs out before the image does.
 * Pixels come out as sRGB: an embedded colour profile is applied, unless it is sRGB's own (see
 * icc-profile.ts).
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

/**
 * How much damage the pixel decode lets through (sharp's failOn). 'error' refuses what a loader
 * reports as an error, and truncation: libvips fails when the decoder reads past the last byte.
 * That is not enough for JPEG. When a scan's data ends (at a marker) before its last block,
 * libjpeg only warns, "premature end of data segment", and fills the rest with grey: a 2 KB JPEG
 * whose SOF header was rewritten to 7000x7000, or a photo cut short with an EOI after the cut,
 * decodes at 'error'. JPEG-compressed TIFF strips fail the same way. So JPEG and TIFF decode at
 * 'warning' (sharp's default, and its advice for untrusted input), which refuses any libjpeg or
 * libtiff warning. The JPEG warning real cameras are known for, junk bytes between header
 * segments ("extraneous bytes before marker"), cannot arise: prepareJpeg removes the junk first.
 * A TIFF's unknown private tags do not warn. PNG, WebP, GIF and AVIF stay at 'error': their
 * loaders already refuse cut or short pixel data there, and 'warning' refused none of 60
 * randomly damaged files of each that 'error' let through.
 * What remains: libvips checks a JPEG's warnings between 8-row strips, so data missing only from
 * a baseline JPEG's last strip or so (8-16 rows) decodes grey; a GIF frame whose LZW data ends
 * early is filled in by libnsgif at any level. Both are bounded by the pixel limit, as any image.
 */
const FAIL_ON: Record<RasterFormat, 'error' | 'warning'> = {
  jpeg: 'warning',
  tiff: 'warning',
  png: 'error',
  webp: 'error',
  gif: 'error',
  avif: 'error',
};

/**
 * `beforePixels` is told the image's size once its header has passed the limits, before any
 * pixel is decoded; it may throw to refuse the image (e.g. a budget of pixels in flight).
 */
export async function decodeImage(bytes: Buffer, limits: DecodeLimits, beforePixels?: (width: number, height: number) => void): Promise<DecodedImage> {
  if (bytes.length === 0) throw new AppError('IMAGE_EMPTY', 'the image is zero bytes long');
  if (bytes.length > limits.maxBytes) {
    throw new AppError('IMAGE_TOO_LARGE', `the image is ${bytes.length} bytes, more than the limit of ${limits.maxBytes}`);
  }
  const format = acceptedFormat(bytes);
  const source = format === 'jpeg' ? prepareJpeg(bytes) : bytes;
  const header = await readHeader(source, format);
  const orientation = checkDimensions(header, limits);
  beforePixels?.(header.width, header.height);

  const input = sharp(source, {
    failOn: FAIL_ON[format],
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

const EOI = Buffer.from([0xff, 0xd9]);
/** libjpeg's bit buffer holds at most 8 bytes not yet decoded (it refills below 57 bits on 64-bit). */
const READ_AHEAD_PADDING = Buffer.alloc(8);

/**
 * A JPEG as libvips should see it, or a refusal of arithmetic coding (SOF9-SOF11, SOF13-SOF15).
 * - Arithmetic coding hides damage: its decoder can turn a Huffman scan relabelled SOF9, or a
 *   scan that ran out thousands of rows ago, into pixels without a warning. It is rarely used,
 *   and a JPEG re-saved by any common tool is Huffman-coded.
 * - Junk between header segments, which libjpeg skips with a warning ("N extraneous bytes before
 *   marker", from cameras and editors that miscount a segment), is cut out here so that the
 *   decode can refuse every warning. The skipping is libjpeg's own (next_marker in jdmarker.c),
 *   so the decoder reads the same segments either way.
 * - A JPEG that does not end with EOI is completed: progressive ones get the EOI (libjpeg reads
 *   a progressive file to its EOI before the first row), sequential ones 8 zero bytes for the
 *   decoder's read-ahead. The image still has to be whole: a scan that is short ends at the new
 *   EOI with a warning, or runs past the zero bytes into the end of the buffer, and is refused.
 *   What is accepted is an image all of whose data is there (encoders that drop the EOI, copies
 *   that lost the last two bytes), or one at most 8 bytes short, which zero-fills a few final
 *   blocks, or a progressive one cut exactly between two scans, which lacks some refinement.
 *   Bytes after an EOI (phone trailers) are never read, and neither is what is appended to them.
 */
function prepareJpeg(bytes: Buffer): Buffer {
  const { sof, junk } = readJpegLayout(bytes);
  if (sof !== undefined && sof >= 0xc9) {
    throw new AppError('IMAGE_FORMAT_UNSUPPORTED', 'arithmetic-coded JPEG images are not accepted; send a baseline or progressive JPEG');
  }
  const parts: Buffer[] = [];
  let from = 0;
  for (const [start, end] of junk) {
    parts.push(bytes.subarray(from, start));
    from = end;
  }
  parts.push(bytes.subarray(from));
  if (bytes.length < 2 || bytes.readUInt16BE(bytes.length - 2) !== 0xffd9) {
    parts.push(sof === 0xc2 ? EOI : READ_AHEAD_PADDING);
  }
  return parts.length === 1 ? bytes : Buffer.concat(parts);
}

interface JpegLayout {
  /** The first SOFn marker before the first scan: 0xc0-0xcf but DHT (c4), JPG (c8), DAC (cc). */
  sof?: number;
  /** [start, end) of each run of bytes before the first scan that libjpeg would skip as junk. */
  junk: [number, number][];
}

/** Walks the segments from SOI to the first SOS; stops early where libjpeg would fail anyway. */
function readJpegLayout(bytes: Buffer): JpegLayout {
  const junk: [number, number][] = [];
  let sof: number | undefined;
  let at = 2;
  while (at < bytes.length) {
    // As libjpeg's next_marker: skip to an 0xFF, past any 0xFF fill, and past FF 00 (not a marker).
    const start = at;
    let fill: number;
    for (;;) {
      while (at < bytes.length && bytes[at] !== 0xff) at++;
      fill = at;
      while (at < bytes.length && bytes[at] === 0xff) at++;
      if (at >= bytes.length || bytes[at] !== 0x00) break;
      at++;
    }
    if (fill > start) junk.push([start, fill]);
    const marker = bytes[at++];
    if (marker === undefined || marker === 0xd8 || marker === 0xd9) break;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // no length field
    if (at + 2 > bytes.length) break;
    const length = bytes.readUInt16BE(at);
    if (length < 2) break;
    if (sof === undefined && marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      sof = marker;
    }
    if (marker === 0xda) break;
    at += length;
  }
  return { sof, junk };
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
