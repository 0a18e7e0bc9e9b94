/**
 * Format sniffing from magic bytes. The decoder trusts this, not a file name or a declared
 * content type, to decide whether bytes may reach sharp at all: only raster formats with a
 * binary signature at offset 0 are ever handed over, so libvips never gets to pick its SVG,
 * PDF or other text-driven loaders for untrusted input.
 */

/** Raster formats sharp may decode for us (AVIF still depends on the sharp build). */
export type RasterFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** Formats we recognise and refuse: vector or document formats, and rasters sharp cannot read. */
export type RefusedFormat =
  | 'svg'
  | 'markup'
  | 'pdf'
  | 'postscript'
  | 'heic'
  | 'heif'
  | 'bmp'
  | 'ico'
  | 'psd'
  | 'jpeg2000'
  | 'jpeg-xl'
  | 'openexr'
  | 'radiance'
  | 'pnm'
  | 'fits'
  | 'vips'
  | 'riff'
  | 'mp4'
  | 'gzip'
  | 'zip';

export type SniffedFormat = RasterFormat | RefusedFormat;

export const RASTER_FORMATS: readonly RasterFormat[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'];

export const isRasterFormat = (format: SniffedFormat): format is RasterFormat =>
  (RASTER_FORMATS as readonly string[]).includes(format);

/** Plural names for messages to clients ("<label> are not accepted"). */
export const FORMAT_LABELS: Record<SniffedFormat, string> = {
  jpeg: 'JPEG images',
  png: 'PNG images',
  webp: 'WebP images',
  gif: 'GIF images',
  tiff: 'TIFF images',
  avif: 'AVIF images',
  svg: 'SVG images',
  markup: 'XML and HTML documents',
  pdf: 'PDF documents',
  postscript: 'PostScript documents',
  heic: 'HEIC images',
  heif: 'HEIF images',
  bmp: 'BMP images',
  ico: 'ICO images',
  psd: 'Photoshop documents',
  jpeg2000: 'JPEG 2000 images',
  'jpeg-xl': 'JPEG XL images',
  openexr: 'OpenEXR images',
  radiance: 'Radiance HDR images',
  pnm: 'PNM images',
  fits: 'FITS images',
  vips: 'libvips images',
  riff: 'RIFF files other than WebP',
  mp4: 'video files',
  gzip: 'gzip files (including SVGZ)',
  zip: 'zip archives',
};

const startsWith = (bytes: Buffer, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

const ascii = (bytes: Buffer, text: string, offset = 0): boolean =>
  startsWith(bytes, [...Buffer.from(text, 'latin1')], offset);

/**
 * The format the bytes claim to be, or undefined when they look like nothing we know (plain
 * text, random bytes, a fragment). Raster signatures are checked first, so a JPEG whose XMP
 * happens to contain "<svg" is still a JPEG.
 */
export function sniffImageFormat(bytes: Buffer): SniffedFormat | undefined {
  return sniffRaster(bytes) ?? sniffRefusedBinary(bytes) ?? sniffText(bytes);
}

function sniffRaster(bytes: Buffer): SniffedFormat | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(bytes, 'RIFF') && bytes.length >= 12) return ascii(bytes, 'WEBP', 8) ? 'webp' : 'riff';
  if (ascii(bytes, 'GIF87a') || ascii(bytes, 'GIF89a')) return 'gif';
  // Classic TIFF (42) and BigTIFF (43), both byte orders.
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'tiff';
  if (ascii(bytes, 'ftyp', 4)) return isoBrand(bytes);
  return undefined;
}

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2']);

/**
 * ISO-BMFF: the major brand, then the compatible brands, say what the box holds. Prebuilt
 * sharp decodes AV1 (AVIF) but has no HEVC decoder, so HEIC is refused by name.
 */
function isoBrand(bytes: Buffer): SniffedFormat {
  const boxSize = Math.min(bytes.readUInt32BE(0), bytes.length, 256);
  const brands = [bytes.toString('latin1', 8, 12)];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(bytes.toString('latin1', at, at + 4));
  const major = brands[0] ?? '';
  if (AVIF_BRANDS.has(major)) return 'avif';
  if (HEIC_BRANDS.has(major)) return 'heic';
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  if (brands.some((b) => HEIF_BRANDS.has(b))) return 'heif';
  return 'mp4';
}

/** DIB header sizes of the BMP versions; "BM" alone is too weak (plain text can start so). */
const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

function sniffRefusedBinary(bytes: Buffer): SniffedFormat | undefined {
  if (ascii(bytes, 'BM') && bytes.length >= 18 && BMP_DIB_SIZES.has(bytes.readUInt32LE(14))) return 'bmp';
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) || startsWith(bytes, [0x00, 0x00, 0x02, 0x00])) return 'ico';
  if (ascii(bytes, '8BPS')) return 'psd';
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])) return 'jpeg2000';
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) || startsWith(bytes, [0xff, 0x0a])) return 'jpeg-xl';
  if (startsWith(bytes, [0x76, 0x2f, 0x31, 0x01])) return 'openexr';
  if (startsWith(bytes, [0x08, 0xf2, 0xa6, 0xb6]) || startsWith(bytes, [0xb6, 0xa6, 0xf2, 0x08])) return 'vips';
  if (startsWith(bytes, [0x1f, 0x8b])) return 'gzip'; // also SVGZ
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  return undefined;
}

/** How far into a text file we look for an SVG root or a PDF header. */
const TEXT_SCAN_BYTES = 64 * 1024;

function sniffText(bytes: Buffer): SniffedFormat | undefined {
  const text = headAsText(bytes.subarray(0, TEXT_SCAN_BYTES));
  const start = text.trimStart();
  if (start.startsWith('%PDF-')) return 'pdf';
  if (start.startsWith('%!PS')) return 'postscript';
  if (start.startsWith('#?RADIANCE') || start.startsWith('#?RGBE')) return 'radiance';
  if (/^P[1-7Ff]\s/.test(start)) return 'pnm';
  if (start.startsWith('SIMPLE  =')) return 'fits';
  const lower = text.toLowerCase();
  if (lower.includes('<svg')) return 'svg';
  // Any other markup (XML, HTML, an SVG whose root lies beyond the scan) is refused as such.
  if (start.startsWith('<')) return 'markup';
  // PDF readers accept the header anywhere in the first KiB.
  if (text.slice(0, 1024).includes('%PDF-')) return 'pdf';
  return undefined;
}

/** The head as text, honouring a UTF-16 or UTF-8 byte order mark. */
function headAsText(head: Buffer): string {
  if (startsWith(head, [0xff, 0xfe])) return head.subarray(2).toString('utf16le');
  if (startsWith(head, [0xfe, 0xff])) {
    const swapped = Buffer.from(head.subarray(2, 2 + ((head.length - 2) & ~1)));
    return swapped.swap16().toString('utf16le');
  }
  if (startsWith(head, [0xef, 0xbb, 0xbf])) return head.subarray(3).toString('utf8');
  return head.toString('latin1');
}
