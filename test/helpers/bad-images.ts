/**
 * Inputs a recognition service must refuse, with the code and status each must produce. Shared
 * by the decoder's unit tests and the HTTP layer's bad-input tests. Bombs are crafted headers,
 * not rendered pixels, so the whole table costs milliseconds. The codes of the size cases assume
 * limits below 900 Mpx and 20000 px a side, and a minimum side of at least 3 px; the damaged
 * images claim up to 1600x1600, so their codes assume limits that admit that size.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import type { ErrorCode } from '../../src/core/app-error.js';

export interface BadImageCase {
  name: string;
  bytes: Buffer | (() => Promise<Buffer>);
  expectCode: ErrorCode;
  expectStatus: number;
}

export interface BadBase64Case {
  name: string;
  value: string;
  expectCode: ErrorCode;
  expectStatus: number;
}

const PHOTOS = join(import.meta.dirname, '..', 'fixtures', 'photos');
const photo = (name: string): Buffer => readFileSync(join(PHOTOS, name));

export const resolveBytes = async (c: BadImageCase): Promise<Buffer> =>
  typeof c.bytes === 'function' ? c.bytes() : c.bytes;

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG that declares width x height RGB but carries only one compressed row, if any. */
export function pngHeaderOnly(width: number, height: number, withData = true): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const chunks = [PNG_SIGNATURE, pngChunk('IHDR', ihdr)];
  if (withData) chunks.push(pngChunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))));
  chunks.push(pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(chunks);
}

/** Offset of the first JPEG segment (its 0xFF) whose marker passes `test`, before the first scan. */
export function jpegSegmentOffset(jpeg: Buffer, test: (marker: number) => boolean): number {
  for (let at = 2; at + 4 <= jpeg.length; ) {
    const marker = jpeg[at + 1] ?? 0;
    if (test(marker)) return at;
    if (marker === 0xda) break;
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  throw new Error('no such marker before the scan');
}

const isSof = (marker: number): boolean => marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);

/** A copy of a JPEG whose SOF header claims another size, or another coding process (marker). */
export function rewriteJpegSof(jpeg: Buffer, change: { width?: number; height?: number; marker?: number }): Buffer {
  const out = Buffer.from(jpeg);
  const at = jpegSegmentOffset(out, isSof);
  if (change.height !== undefined) out.writeUInt16BE(change.height, at + 5);
  if (change.width !== undefined) out.writeUInt16BE(change.width, at + 7);
  if (change.marker !== undefined) out[at + 1] = change.marker;
  return out;
}

/** A real small JPEG (16x16 unless given one) whose SOF header is rewritten to claim width x height. */
export async function jpegWithHeaderSize(width: number, height: number, jpeg?: Buffer): Promise<Buffer> {
  return rewriteJpegSof(jpeg ?? (await solidImage(16, 16).jpeg().toBuffer()), { width, height });
}

/** The first `keep` bytes of a JPEG (a fraction, or a count when > 1), then an EOI marker. */
export const jpegCutWithEoi = (jpeg: Buffer, keep: number): Buffer =>
  Buffer.concat([jpeg.subarray(0, keep > 1 ? keep : Math.floor(jpeg.length * keep)), Buffer.from([0xff, 0xd9])]);

/** A copy of a PNG whose IHDR claims width x height (CRC recomputed), over the same pixel data. */
export function pngWithHeaderSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  const at = pngChunkOffset(out, 'IHDR');
  out.writeUInt32BE(width, at);
  out.writeUInt32BE(height, at + 4);
  out.writeUInt32BE(crc32(out.subarray(at - 4, at + 13)), at + 13);
  return out;
}

/** A copy of a simple lossy WebP (RIFF, then the VP8 chunk) whose frame header claims width x height. */
export function webpWithHeaderSize(webp: Buffer, width: number, height: number): Buffer {
  if (webp.toString('latin1', 12, 16) !== 'VP8 ') throw new Error('not a simple lossy WebP');
  const out = Buffer.from(webp);
  out.writeUInt16LE(width, 26);
  out.writeUInt16LE(height, 28);
  return out;
}

/** A copy of a little-endian TIFF whose ImageLength and RowsPerStrip claim `rows` rows. */
export function tiffWithRows(tiff: Buffer, rows: number): Buffer {
  if (tiff.toString('latin1', 0, 2) !== 'II') throw new Error('not a little-endian TIFF');
  const out = Buffer.from(tiff);
  const ifd = out.readUInt32LE(4);
  for (let i = 0; i < out.readUInt16LE(ifd); i++) {
    const entry = ifd + 2 + i * 12;
    if (out.readUInt16LE(entry) !== 257 && out.readUInt16LE(entry) !== 278) continue;
    if (out.readUInt16LE(entry + 2) === 3) out.writeUInt16LE(rows, entry + 8); // SHORT
    else out.writeUInt32LE(rows, entry + 8); // LONG
  }
  return out;
}

/** Offset of the first byte of a chunk's data, by type. */
export function pngChunkOffset(png: Buffer, type: string): number {
  for (let at = 8; at + 8 <= png.length; ) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === type) return at + 8;
    at += 12 + length;
  }
  throw new Error(`no ${type} chunk`);
}

export const solidImage = (width: number, height: number, rgb = { r: 200, g: 30, b: 60 }): Sharp =>
  sharp({ create: { width, height, channels: 3, background: rgb } });

/** Deterministic noise; the first byte is fixed to one no signature starts with. */
export function pseudoRandomBytes(length: number, seed = 12345): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state >>> 24;
  }
  out[0] = 0x9c;
  return out;
}

/** A minimal 2x2 24-bit BMP, a real raster sharp cannot read. */
function tinyBmp(): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + 16, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  return Buffer.concat([header, Buffer.alloc(16, 0x80)]);
}

const SVG_BODY = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>';

/** An SVG that would fetch `url` if it were ever rendered. */
export const svgWithExternalHref = (url: string): Buffer =>
  Buffer.from(
    `<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">` +
      `<image href="${url}" xlink:href="${url}" width="64" height="64"/></svg>`,
  );

const truncated = (bytes: Buffer): Buffer => bytes.subarray(0, Math.floor(bytes.length / 2));

const decodeFailed = { expectCode: 'IMAGE_DECODE_FAILED', expectStatus: 422 } as const;
const unsupported = { expectCode: 'IMAGE_FORMAT_UNSUPPORTED', expectStatus: 415 } as const;
const tooLarge = { expectCode: 'IMAGE_TOO_LARGE', expectStatus: 413 } as const;

export const BAD_IMAGES: readonly BadImageCase[] = [
  { name: 'empty', bytes: Buffer.alloc(0), expectCode: 'IMAGE_EMPTY', expectStatus: 400 },
  { name: 'one byte', bytes: Buffer.from([0xff]), ...decodeFailed },
  { name: 'random bytes', bytes: pseudoRandomBytes(4096), ...decodeFailed },
  { name: 'text file', bytes: Buffer.from('This is a plain text file, not an image.\nSecond line.\n'), ...decodeFailed },
  { name: 'JSON text', bytes: Buffer.from('{"image": "not really"}'), ...decodeFailed },
  { name: 'JPEG SOI only', bytes: Buffer.from([0xff, 0xd8, 0xff]), ...decodeFailed },
  { name: 'PNG signature only', bytes: PNG_SIGNATURE, ...decodeFailed },
  { name: 'PNG signature then SVG', bytes: Buffer.concat([PNG_SIGNATURE, Buffer.from(SVG_BODY)]), ...decodeFailed },
  { name: 'PNG header without pixel data', bytes: pngHeaderOnly(64, 64, false), ...decodeFailed },
  { name: 'truncated JPEG', bytes: () => Promise.resolve(truncated(photo('rocket.jpg'))), ...decodeFailed },
  { name: 'JPEG cut 600 bytes before its end', bytes: () => Promise.resolve(photo('rocket.jpg').subarray(0, -600)), ...decodeFailed },
  { name: 'JPEG cut inside its scan, with an EOI after the cut', bytes: () => Promise.resolve(jpegCutWithEoi(photo('rocket.jpg'), 0.5)), ...decodeFailed },
  { name: 'progressive JPEG cut inside a scan, with an EOI after the cut', bytes: () => Promise.resolve(jpegCutWithEoi(photo('Blender_Suzanne1.jpg'), 0.5)), ...decodeFailed },
  { name: 'JPEG header enlarged from 16x16 to 1600x1600', bytes: () => jpegWithHeaderSize(1600, 1600), ...decodeFailed },
  {
    name: 'progressive JPEG header enlarged from 16x16 to 1600x1600',
    bytes: async () => jpegWithHeaderSize(1600, 1600, await solidImage(16, 16).jpeg({ progressive: true }).toBuffer()),
    ...decodeFailed,
  },
  { name: 'JPEG relabelled arithmetic-coded (SOF9)', bytes: async () => rewriteJpegSof(await solidImage(64, 64).jpeg().toBuffer(), { marker: 0xc9 }), ...unsupported },
  { name: 'PNG header enlarged from 600x400 to 600x800', bytes: () => Promise.resolve(pngWithHeaderSize(photo('coffee.png'), 600, 800)), ...decodeFailed },
  { name: 'WebP header enlarged from 600x400 to 1200x800', bytes: async () => webpWithHeaderSize(await sharp(photo('coffee.png')).webp().toBuffer(), 1200, 800), ...decodeFailed },
  { name: 'JPEG-compressed TIFF claiming 1000 rows of 64', bytes: async () => tiffWithRows(await solidImage(64, 64).tiff().toBuffer(), 1000), ...decodeFailed },
  { name: 'truncated PNG', bytes: () => Promise.resolve(truncated(photo('coffee.png'))), ...decodeFailed },
  { name: 'truncated WebP', bytes: async () => truncated(await sharp(photo('coffee.png')).webp().toBuffer()), ...decodeFailed },
  {
    name: 'PNG with corrupted IDAT data',
    bytes: () => {
      const png = Buffer.from(photo('coffee.png'));
      const at = pngChunkOffset(png, 'IDAT') + 100;
      png[at] = (png[at] ?? 0) ^ 0xff;
      return Promise.resolve(png);
    },
    ...decodeFailed,
  },
  {
    name: 'PNG with a wrong IDAT CRC',
    bytes: () => {
      const png = Buffer.from(photo('coffee.png'));
      const data = pngChunkOffset(png, 'IDAT');
      const crcAt = data + png.readUInt32BE(data - 8);
      png.writeUInt32BE((png.readUInt32BE(crcAt) ^ 0xdeadbeef) >>> 0, crcAt);
      return Promise.resolve(png);
    },
    ...decodeFailed,
  },
  { name: 'SVG with XML prolog', bytes: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${SVG_BODY}`), ...unsupported },
  { name: 'SVG without prolog', bytes: Buffer.from(`\n  ${SVG_BODY}`), ...unsupported },
  { name: 'SVG with external href', bytes: svgWithExternalHref('http://127.0.0.1:9/pixel.png'), ...unsupported },
  {
    name: 'SVG with an external entity',
    bytes: Buffer.from(`<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>${SVG_BODY.replace('</svg>', '<text>&x;</text></svg>')}`),
    ...unsupported,
  },
  { name: 'SVG after a comment', bytes: Buffer.from(`<!-- drawn by hand -->${SVG_BODY}`), ...unsupported },
  { name: 'SVG in UTF-16', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SVG_BODY, 'utf16le')]), ...unsupported },
  { name: 'SVGZ (gzipped SVG)', bytes: gzipSync(Buffer.from(SVG_BODY)), ...unsupported },
  { name: 'HTML page', bytes: Buffer.from('<!doctype html><html><body><img src="x.png"></body></html>'), ...unsupported },
  { name: 'PDF header', bytes: Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1'), ...unsupported },
  { name: 'BMP', bytes: tinyBmp(), ...unsupported },
  { name: 'HEIC brand', bytes: Buffer.from('000000186674797068656963000000006d69663168656963', 'hex'), ...unsupported },
  { name: 'PNG bomb 30000x30000 (header)', bytes: pngHeaderOnly(30_000, 30_000), ...tooLarge },
  { name: 'JPEG header claiming 65000x65000', bytes: () => jpegWithHeaderSize(65_000, 65_000), ...tooLarge },
  { name: 'PNG strip 20000x10', bytes: pngHeaderOnly(20_000, 10), ...tooLarge },
  { name: 'too small 2x2 PNG', bytes: () => solidImage(2, 2).png().toBuffer(), expectCode: 'IMAGE_TOO_SMALL', expectStatus: 422 },
];

/** Base64 strings a JSON body may carry; `maxBytes` is the decoded-size limit in force. */
export function badBase64Cases(maxBytes: number): BadBase64Case[] {
  const invalid = { expectCode: 'IMAGE_BASE64_INVALID', expectStatus: 400 } as const;
  return [
    { name: 'empty string', value: '', expectCode: 'IMAGE_EMPTY', expectStatus: 400 },
    { name: 'only whitespace', value: ' \n\t ', expectCode: 'IMAGE_EMPTY', expectStatus: 400 },
    { name: 'data URL without data', value: 'data:image/png;base64,', expectCode: 'IMAGE_EMPTY', expectStatus: 400 },
    { name: 'invalid characters', value: 'iVBORw0KGgo*AAAANSUhEUg==', ...invalid },
    { name: 'base64url alphabet', value: 'iVBORw0KGgo_AAAANSUhEUg-', ...invalid },
    { name: 'padding in the middle', value: 'QQ==QUJD', ...invalid },
    { name: 'too much padding', value: 'QUJD===', ...invalid },
    { name: 'length 4n+1', value: 'QUJDR', ...invalid },
    { name: 'non-zero pad bits', value: 'QR==', ...invalid },
    { name: 'percent-encoded data URL', value: 'data:image/png,%89PNG%0D%0A', ...invalid },
    { name: 'data URL without comma', value: 'data:image/png;base64', ...invalid },
    { name: 'oversized', value: 'A'.repeat(Math.ceil(((maxBytes + 1) * 4) / 3) + 4), expectCode: 'IMAGE_TOO_LARGE', expectStatus: 413 },
  ];
}
