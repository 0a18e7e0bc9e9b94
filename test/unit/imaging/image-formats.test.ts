import { describe, expect, it } from 'vitest';
import { isRasterFormat, sniffImageFormat } from '../../../src/imaging/image-formats.js';
import { pseudoRandomBytes, solidImage } from '../../helpers/bad-images.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');

describe('sniffImageFormat', () => {
  it.each([
    ['jpeg', () => solidImage(8, 8).jpeg().toBuffer()],
    ['png', () => solidImage(8, 8).png().toBuffer()],
    ['webp', () => solidImage(8, 8).webp().toBuffer()],
    ['gif', () => solidImage(8, 8).gif().toBuffer()],
    ['tiff', () => solidImage(8, 8).tiff().toBuffer()],
    ['avif', () => solidImage(8, 8).avif().toBuffer()],
  ])('recognises %s as written by sharp', async (format, make) => {
    const sniffed = sniffImageFormat(await make());
    expect(sniffed).toBe(format);
    expect(sniffed && isRasterFormat(sniffed)).toBe(true);
  });

  it.each([
    ['big-endian TIFF', hex('4d4d002a 00000008'), 'tiff'],
    ['BigTIFF', hex('49492b00 08000000'), 'tiff'],
    ['HEIC by compatible brand', Buffer.concat([hex('00000018'), Buffer.from('ftypmif1\0\0\0\0mif1heic')]), 'heic'],
    ['AVIF by compatible brand', Buffer.concat([hex('00000018'), Buffer.from('ftypmif1\0\0\0\0mif1avif')]), 'avif'],
    ['MP4 video', Buffer.concat([hex('00000018'), Buffer.from('ftypisom\0\0\0\0isomavc1')]), 'mp4'],
    ['WAV audio', Buffer.from('RIFF\0\0\0\0WAVEfmt '), 'riff'],
    ['JPEG 2000', hex('0000000c 6a502020 0d0a870a'), 'jpeg2000'],
    ['PSD', Buffer.from('8BPS\0\x01'), 'psd'],
    ['PDF after a BOM-less preamble', Buffer.from('garbage line\n%PDF-1.4\n'), 'pdf'],
    ['SVG in UTF-16 big-endian', Buffer.concat([hex('feff'), Buffer.from('<svg/>', 'utf16le').swap16()]), 'svg'],
    ['XML without svg', Buffer.from('<?xml version="1.0"?><note/>'), 'markup'],
  ])('classifies %s', (_name, bytes, format) => {
    expect(sniffImageFormat(bytes)).toBe(format);
  });

  it.each([
    ['plain text starting with BM', Buffer.from('BMW is a car maker, not a bitmap.')],
    ['random bytes', pseudoRandomBytes(1024)],
    ['a lone JPEG marker byte', hex('ff')],
    ['nothing', Buffer.alloc(0)],
  ])('knows nothing of %s', (_name, bytes) => {
    expect(sniffImageFormat(bytes)).toBeUndefined();
  });
});
