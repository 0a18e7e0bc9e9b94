import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/app-error.js';
import type { RgbImage } from '../../../src/core/types.js';
import { DEFAULT_DECODE_LIMITS, decodeImage, encodeJpeg, sha256Hex, type DecodeLimits } from '../../../src/imaging/decode.js';
import {
  BAD_IMAGES,
  jpegCutWithEoi,
  jpegSegmentOffset,
  jpegWithHeaderSize,
  pseudoRandomBytes,
  resolveBytes,
  rewriteJpegSof,
  solidImage,
  svgWithExternalHref,
} from '../../helpers/bad-images.js';

const PHOTOS = join(import.meta.dirname, '..', '..', 'fixtures', 'photos');
const photo = (name: string): Buffer => readFileSync(join(PHOTOS, name));
const limits: DecodeLimits = DEFAULT_DECODE_LIMITS;
const RED = { r: 200, g: 30, b: 60 };

const pixel = (image: RgbImage, x: number, y: number): number[] => {
  const at = (y * image.width + x) * 3;
  return [...image.data.subarray(at, at + 3)];
};

const expectColour = (actual: number[], expected: number[], tolerance: number): void => {
  actual.forEach((v, i) => expect(Math.abs(v - (expected[i] ?? 0)), `channel ${i}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance));
};

const expectWellFormed = (image: RgbImage): void => {
  expect(Buffer.isBuffer(image.data)).toBe(true);
  expect(image.data.length).toBe(image.width * image.height * 3);
};

async function decodeError(bytes: Buffer, with_: DecodeLimits = limits): Promise<AppError> {
  const error = await decodeImage(bytes, with_).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('decodeImage accepts every raster format', () => {
  const avif = sharp.format.heif.input.buffer;
  const formats: [string, () => Promise<Buffer>, number][] = [
    ['jpeg', () => solidImage(48, 32, RED).jpeg().toBuffer(), 4],
    ['png', () => solidImage(48, 32, RED).png().toBuffer(), 0],
    ['webp', () => solidImage(48, 32, RED).webp().toBuffer(), 6],
    ['gif', () => solidImage(48, 32, RED).gif().toBuffer(), 6],
    ['tiff', () => solidImage(48, 32, RED).tiff().toBuffer(), 4], // sharp writes JPEG-compressed TIFF
    ...(avif ? [['avif', () => solidImage(48, 32, RED).avif().toBuffer(), 6] as [string, () => Promise<Buffer>, number]] : []),
  ];

  it.each(formats)('%s decodes to the right size and colour', async (format, make, tolerance) => {
    const image = await decodeImage(await make(), limits);
    expect(image.format).toBe(format);
    expect([image.width, image.height]).toEqual([48, 32]);
    expectWellFormed(image);
    expectColour(pixel(image, 24, 16), [RED.r, RED.g, RED.b], tolerance);
    expect(image.orientedFrom).toBeUndefined();
  });

  it('decodes every photo among the fixtures', async () => {
    const names = readdirSync(PHOTOS).filter((name) => /\.(jpg|png)$/.test(name));
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const name of names) expectWellFormed(await decodeImage(photo(name), limits));
  });

  it.each([
    ['astronaut.png', 512, 512],
    ['coffee.png', 600, 400],
    ['chelsea.png', 451, 300],
    ['rocket.jpg', 640, 427],
    ['fruits.jpg', 512, 480],
    ['Blender_Suzanne1.jpg', 640, 480],
  ])('the photo %s decodes at %ix%i', async (name, width, height) => {
    const image = await decodeImage(photo(name), limits);
    expect([image.width, image.height]).toEqual([width, height]);
    expectWellFormed(image);
  });

  it('decodes the photos the same way sharp itself does', async () => {
    const bytes = photo('coffee.png');
    const image = await decodeImage(bytes, limits);
    expect(image.data.equals(await sharp(bytes).raw().toBuffer())).toBe(true);
  });
});

describe('decodeImage normalises to 8-bit sRGB with 3 channels', () => {
  it('flattens a transparent PNG onto white', async () => {
    const clear = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 0 } } }).png().toBuffer();
    expectColour(pixel(await decodeImage(clear, limits), 5, 5), [255, 255, 255], 0);
    const halfBlack = await sharp({ create: { width: 20, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    expectColour(pixel(await decodeImage(halfBlack, limits), 5, 5), [128, 128, 128], 2);
  });

  it('expands greyscale (a real grey photo and a generated one) to three equal channels', async () => {
    const generated = await solidImage(20, 20, { r: 90, g: 90, b: 90 }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(generated).metadata()).channels).toBe(1);
    expectColour(pixel(await decodeImage(generated, limits), 3, 3), [90, 90, 90], 1);
    const box = await decodeImage(photo('box.png'), limits);
    expectWellFormed(box);
    const [r, g, b] = pixel(box, 100, 100);
    expect(r).toBe(g);
    expect(g).toBe(b);
  });

  it('reduces a 16-bit PNG to 8 bits', async () => {
    const deep = await solidImage(20, 20, RED).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const image = await decodeImage(deep, limits);
    expectWellFormed(image);
    expectColour(pixel(image, 3, 3), [RED.r, RED.g, RED.b], 1);
  });

  it('expands a palette PNG and converts a CMYK JPEG', async () => {
    const palette = await solidImage(20, 20, RED).png({ palette: true }).toBuffer();
    expectColour(pixel(await decodeImage(palette, limits), 3, 3), [RED.r, RED.g, RED.b], 2);
    const cmyk = await solidImage(20, 20, RED).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await decodeImage(cmyk, limits);
    expectWellFormed(image);
    expectColour(pixel(image, 3, 3), [RED.r, RED.g, RED.b], 30); // through a CMYK profile and back
  });

  it('applies EXIF orientation 6 (rotate 90 clockwise)', async () => {
    // Left half red, right half blue; after the rotation red is on top.
    const raw = Buffer.alloc(40 * 20 * 3);
    for (let i = 0; i < 40 * 20; i++) raw.set((i % 40) < 20 ? [255, 0, 0] : [0, 0, 255], i * 3);
    const bytes = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const image = await decodeImage(bytes, limits);
    expect([image.width, image.height, image.orientedFrom]).toEqual([20, 40, 6]);
    expectColour(pixel(image, 10, 5), [255, 0, 0], 40);
    expectColour(pixel(image, 10, 34), [0, 0, 255], 40);
  });

  it('takes only the first frame of an animated GIF', async () => {
    const raw = Buffer.alloc(40 * 40 * 3);
    for (let i = 0; i < 40 * 40; i++) raw.set(i < 800 ? [255, 0, 0] : [0, 255, 0], i * 3);
    const gif = await sharp(raw, { raw: { width: 40, height: 40, channels: 3, pageHeight: 20 } }).gif({ loop: 0, delay: [100, 100] }).toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await decodeImage(gif, limits);
    expect([image.width, image.height]).toEqual([40, 20]);
    expectColour(pixel(image, 20, 19), [255, 0, 0], 0);
  });
});

describe('decodeImage and damaged or quirky JPEGs', () => {
  const rocket = photo('rocket.jpg'); // baseline, 4:4:4
  const fruits = photo('fruits.jpg'); // baseline, 4:2:0
  const progressive = photo('Blender_Suzanne1.jpg');
  const insert = (bytes: Buffer, at: number, junk: number[]): Buffer => Buffer.concat([bytes.subarray(0, at), Buffer.from(junk), bytes.subarray(at)]);
  const decodesLike = async (bytes: Buffer, original: Buffer): Promise<void> => {
    const [image, expected] = await Promise.all([decodeImage(bytes, limits), decodeImage(original, limits)]);
    expect([image.width, image.height]).toEqual([expected.width, expected.height]);
    expect(image.data.equals(expected.data)).toBe(true);
  };

  it('refuses a 64x64 JPEG whose header was rewritten to 7000x7000', async () => {
    const bytes = await jpegWithHeaderSize(7000, 7000, await solidImage(64, 64).jpeg().toBuffer());
    expect((await sharp(bytes, { failOn: 'error' }).metadata()).width).toBe(7000); // within the limits
    const error = await decodeError(bytes);
    expect([error.code, error.statusCode, error.message]).toEqual(['IMAGE_DECODE_FAILED', 422, 'the jpeg image is corrupt or truncated']);
  });

  it.each([
    ['baseline 4:4:4', rocket],
    ['baseline 4:2:0', fruits],
    ['progressive', progressive],
  ])('refuses a %s JPEG cut inside its scan data, with or without an EOI after the cut', async (_kind, jpeg) => {
    const scan = jpegSegmentOffset(jpeg, (marker) => marker === 0xda);
    for (const at of [scan + 200, ...[0.25, 0.5, 0.75, 0.9].map((f) => Math.floor(jpeg.length * f))]) {
      expect((await decodeError(jpegCutWithEoi(jpeg, at))).code, `cut at ${at}, EOI`).toBe('IMAGE_DECODE_FAILED');
      expect((await decodeError(jpeg.subarray(0, at))).code, `cut at ${at}`).toBe('IMAGE_DECODE_FAILED');
    }
    // Without an EOI even the last rows are checked: the decoder runs past the end of the bytes.
    for (const short of [600, 40, 12]) {
      expect((await decodeError(jpeg.subarray(0, -short))).code, `${short} bytes short`).toBe('IMAGE_DECODE_FAILED');
    }
  });

  it('refuses arithmetic-coded JPEG, whose decoder can turn damage into pixels without a warning', async () => {
    const huffman = await solidImage(64, 64).jpeg().toBuffer();
    const relabelled = rewriteJpegSof(huffman, { marker: 0xc9 });
    const enlarged = rewriteJpegSof(huffman, { marker: 0xc9, width: 1600, height: 1600 });
    for (const bytes of [relabelled, enlarged]) await expect(sharp(bytes, { failOn: 'warning' }).raw().toBuffer()).resolves.toBeDefined();
    const progressive = rewriteJpegSof(await solidImage(64, 64).jpeg({ progressive: true }).toBuffer(), { marker: 0xca });
    for (const bytes of [relabelled, enlarged, progressive]) {
      const error = await decodeError(bytes);
      expect([error.code, error.statusCode]).toEqual(['IMAGE_FORMAT_UNSUPPORTED', 415]);
      expect(error.message).toMatch(/arithmetic-coded/);
    }
  });

  it('lets through damage confined to the last rows of a baseline JPEG with its EOI (a known limit)', async () => {
    // libvips looks at libjpeg's warnings before each 8-row strip, not after the last one.
    const image = await decodeImage(jpegCutWithEoi(rocket, rocket.length - 600), limits);
    expect([image.width, image.height]).toEqual([640, 427]);
    expect((await decodeError(await jpegWithHeaderSize(640, 427 + 16, rocket))).code).toBe('IMAGE_DECODE_FAILED');
  });

  it('tolerates junk bytes between header segments, as libjpeg does, with the same pixels', async () => {
    const afterApp0 = jpegSegmentOffset(rocket, (marker) => marker !== 0xe0);
    const cameraQuirk = insert(rocket, afterApp0, [0, 0, 0]);
    await expect(sharp(cameraQuirk, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow(/extraneous bytes before marker/);
    await decodesLike(cameraQuirk, rocket);
    await decodesLike(insert(rocket, jpegSegmentOffset(rocket, (m) => m === 0xda), [0x20, 0x41, 0x42]), rocket);
    await decodesLike(insert(rocket, jpegSegmentOffset(rocket, (m) => m === 0xc4), [0xff, 0x00, 0x17]), rocket); // FF 00 is no marker
    await decodesLike(insert(rocket, jpegSegmentOffset(rocket, (m) => m === 0xdb), [0xff, 0xff]), rocket); // fill bytes, legal
    await decodesLike(insert(progressive, jpegSegmentOffset(progressive, (m) => m === 0xc2), [0, 0]), progressive);
  });

  it('decodes a JPEG missing its EOI marker, or its last byte, to the same pixels', async () => {
    for (const jpeg of [rocket, fruits, progressive, await solidImage(48, 32).greyscale().jpeg().toBuffer()]) {
      expect(jpeg.readUInt16BE(jpeg.length - 2)).toBe(0xffd9);
      await decodesLike(jpeg.subarray(0, -2), jpeg);
      await decodesLike(jpeg.subarray(0, -1), jpeg);
    }
  });

  it('ignores what follows the image data: junk before the EOI, a trailer after it', async () => {
    await decodesLike(insert(rocket, rocket.length - 2, [0, 0, 0, 0]), rocket);
    await decodesLike(Buffer.concat([rocket, Buffer.from('trailer of a phone camera')]), rocket);
    await decodesLike(Buffer.concat([progressive, Buffer.from('trailer of a phone camera')]), progressive);
  });
});

describe('decodeImage refuses bad input with a stable code', () => {
  it.each(BAD_IMAGES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const error = await decodeError(await resolveBytes(c));
    expect([error.code, error.statusCode]).toEqual([c.expectCode, c.expectStatus]);
    // sharp's own text names libvips internals; clients see only our message.
    expect(error.message).not.toMatch(/vips|libpng|Input buffer/i);
  });

  it('never renders an SVG: its external image is not fetched', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await decodeError(svgWithExternalHref(`http://127.0.0.1:${port}/pixel.png`));
      expect(error.code).toBe('IMAGE_FORMAT_UNSUPPORTED');
      expect(requests).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses by byte size before looking at the bytes', async () => {
    const error = await decodeError(photo('rocket.jpg'), { ...limits, maxBytes: 1000 });
    expect([error.code, error.statusCode]).toEqual(['IMAGE_TOO_LARGE', 413]);
  });

  it('refuses by pixel count and by side from the header, with the sizes in the message', async () => {
    const coffee = photo('coffee.png');
    const pixels = await decodeError(coffee, { ...limits, maxPixels: 100_000 });
    expect([pixels.code, pixels.message]).toEqual(['IMAGE_TOO_LARGE', expect.stringContaining('600x400')]);
    const side = await decodeError(coffee, { ...limits, maxDimension: 500 });
    expect(side.code).toBe('IMAGE_TOO_LARGE');
  });

  it('applies the default minimum side when none is given, and none when it is 1', async () => {
    const tiny = await solidImage(2, 2).png().toBuffer();
    const { minDimension: _omitted, ...withoutMin } = limits;
    expect((await decodeError(tiny, withoutMin)).code).toBe('IMAGE_TOO_SMALL');
    expect(await decodeImage(tiny, { ...limits, minDimension: 1 })).toMatchObject({ width: 2, height: 2 });
  });

  it('survives random damage to every format: an image or an image error, nothing else', async () => {
    const sources = await Promise.all([
      solidImage(32, 24).jpeg().toBuffer(),
      solidImage(32, 24).png().toBuffer(),
      solidImage(32, 24).webp().toBuffer(),
      solidImage(32, 24).gif().toBuffer(),
      solidImage(32, 24).tiff().toBuffer(),
    ]);
    const noise = pseudoRandomBytes(40 * sources.length * 3, 99);
    const outcomes = new Map<string, number>();
    let n = 0;
    for (const source of sources) {
      for (let trial = 0; trial < 40; trial++) {
        const damaged = Buffer.from(source);
        for (let k = 0; k < 3; k++) {
          const r = noise[n++] ?? 0;
          damaged[(r * 7919 + trial * 131) % damaged.length] = r;
        }
        const outcome = await decodeImage(damaged, limits).then(
          (image) => (expectWellFormed(image), 'decoded'),
          (e: unknown) => (e instanceof AppError ? e.code : `raw: ${String(e)}`),
        );
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    }
    const allowed = new Set(['decoded', 'IMAGE_DECODE_FAILED', 'IMAGE_FORMAT_UNSUPPORTED', 'IMAGE_TOO_LARGE', 'IMAGE_TOO_SMALL']);
    expect([...outcomes.keys()].filter((k) => !allowed.has(k))).toEqual([]);
    expect(outcomes.get('IMAGE_DECODE_FAILED')).toBeGreaterThan(0);
  });
});

describe('sha256Hex and encodeJpeg', () => {
  it('hashes bytes to lowercase hex', () => {
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('writes a JPEG thumbnail that keeps the aspect ratio and never enlarges', async () => {
    const image = await decodeImage(photo('coffee.png'), limits);
    const thumb = await decodeImage(await encodeJpeg(image, { maxSide: 120, quality: 70 }), limits);
    expect([thumb.width, thumb.height, thumb.format]).toEqual([120, 80, 'jpeg']);
    const full = await decodeImage(await encodeJpeg(image, { maxSide: 5000 }), limits);
    expect([full.width, full.height]).toEqual([600, 400]);
  });

  it('refuses a buffer that does not match its size', async () => {
    await expect(encodeJpeg({ data: Buffer.alloc(10), width: 4, height: 4 })).rejects.toThrow(RangeError);
  });
});
