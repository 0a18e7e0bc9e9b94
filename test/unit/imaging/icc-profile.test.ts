import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/cli/bench/synthetic-vectors.js';
import { DEFAULT_DECODE_LIMITS, decodeImage } from '../../../src/imaging/decode.js';
import { isSrgbProfile, srgbToLinear } from '../../../src/imaging/icc-profile.js';

const PHOTOS = join(import.meta.dirname, '..', '..', 'fixtures', 'photos');
const photo = (name: string): Buffer => readFileSync(join(PHOTOS, name));
const embeddedProfile = async (name: string): Promise<Buffer> => {
  const { icc } = await sharp(photo(name)).metadata();
  if (!icc) throw new Error(`${name} has no ICC profile`);
  return icc;
};

type Xyz = [number, number, number];
const SRGB: Record<'r' | 'g' | 'b', Xyz> = { r: [0.43607, 0.22249, 0.01392], g: [0.38515, 0.71687, 0.09708], b: [0.14307, 0.06061, 0.7141] };
const DISPLAY_P3: Record<'r' | 'g' | 'b', Xyz> = { r: [0.51512, 0.2412, -0.00105], g: [0.29198, 0.69225, 0.04189], b: [0.1571, 0.06657, 0.78407] };

const tagData = {
  xyz: (v: Xyz) => {
    const b = Buffer.alloc(20);
    b.write('XYZ ', 0, 'latin1');
    v.forEach((x, i) => b.writeInt32BE(Math.round(x * 65536), 8 + 4 * i));
    return b;
  },
  gamma: (g: number) => {
    const b = Buffer.alloc(14);
    b.write('curv', 0, 'latin1');
    b.writeUInt32BE(1, 8);
    b.writeUInt16BE(Math.round(g * 256), 12);
    return b;
  },
  table: (f: (x: number) => number, n: number) => {
    const b = Buffer.alloc(12 + 2 * n);
    b.write('curv', 0, 'latin1');
    b.writeUInt32BE(n, 8);
    for (let i = 0; i < n; i++) b.writeUInt16BE(Math.round(f(i / (n - 1)) * 65535), 12 + 2 * i);
    return b;
  },
  /** parametricCurveType function 3, sRGB's own parameters. */
  srgbParametric: () => {
    const b = Buffer.alloc(32);
    b.write('para', 0, 'latin1');
    b.writeUInt16BE(3, 8);
    [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045].forEach((x, i) => b.writeInt32BE(Math.round(x * 65536), 12 + 4 * i));
    return b;
  },
};

/** A minimal RGB matrix/TRC profile with the given tags (the header fields lcms reads). */
function profile(tags: Record<string, Buffer>): Buffer {
  const entries = Object.entries(tags);
  const table = Buffer.alloc(4 + entries.length * 12);
  table.writeUInt32BE(entries.length, 0);
  let offset = 128 + table.length;
  const bodies: Buffer[] = [];
  entries.forEach(([signature, data], i) => {
    table.write(signature, 4 + i * 12, 'latin1');
    table.writeUInt32BE(offset, 8 + i * 12);
    table.writeUInt32BE(data.length, 12 + i * 12);
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    bodies.push(padded);
    offset += padded.length;
  });
  const header = Buffer.alloc(128);
  header.writeUInt32BE(offset, 0);
  header[8] = 2;
  header.write('mntrRGB XYZ ', 12, 'latin1');
  header.write('acsp', 36, 'latin1');
  return Buffer.concat([header, table, ...bodies]);
}

const matrixProfile = (colorants: Record<'r' | 'g' | 'b', Xyz>, curve: () => Buffer, extra: Record<string, Buffer> = {}) =>
  profile({ rXYZ: tagData.xyz(colorants.r), gXYZ: tagData.xyz(colorants.g), bXYZ: tagData.xyz(colorants.b), rTRC: curve(), gTRC: curve(), bTRC: curve(), ...extra });

describe('isSrgbProfile', () => {
  it('knows the sRGB IEC61966-2.1 profile the PNG photos carry, and not Adobe RGB', async () => {
    expect(isSrgbProfile(await embeddedProfile('astronaut.png'))).toBe(true);
    expect(isSrgbProfile(await embeddedProfile('chelsea.png'))).toBe(true);
    expect(isSrgbProfile(await embeddedProfile('rocket.jpg'))).toBe(false); // Adobe RGB (1998)
  });

  it('reads sRGB from colorants and curves, whether tabulated or parametric', () => {
    expect(isSrgbProfile(matrixProfile(SRGB, tagData.srgbParametric))).toBe(true);
    expect(isSrgbProfile(matrixProfile(SRGB, () => tagData.table(srgbToLinear, 1024)))).toBe(true);
    expect(isSrgbProfile(matrixProfile(SRGB, () => tagData.table(srgbToLinear, 4096)))).toBe(true);
  });

  it('refuses other colorants, other curves and lookup-table transforms', () => {
    expect(isSrgbProfile(matrixProfile(DISPLAY_P3, tagData.srgbParametric))).toBe(false);
    expect(isSrgbProfile(matrixProfile(SRGB, () => tagData.gamma(2.2)))).toBe(false); // close to sRGB, not equal
    expect(isSrgbProfile(matrixProfile(SRGB, () => tagData.gamma(1)))).toBe(false);
    expect(isSrgbProfile(matrixProfile(SRGB, tagData.srgbParametric, { A2B0: Buffer.alloc(32) }))).toBe(false);
    const missingCurve = profile({ rXYZ: tagData.xyz(SRGB.r), gXYZ: tagData.xyz(SRGB.g), bXYZ: tagData.xyz(SRGB.b), rTRC: tagData.srgbParametric() });
    expect(isSrgbProfile(missingCurve)).toBe(false);
  });

  it('refuses what is not a readable RGB profile, without throwing', async () => {
    const good = await embeddedProfile('astronaut.png');
    expect(isSrgbProfile(undefined)).toBe(false);
    expect(isSrgbProfile(Buffer.alloc(0))).toBe(false);
    for (const cut of [10, 131, 200, 1000, good.length - 1]) expect(isSrgbProfile(good.subarray(0, cut))).toBe(false);
    const grey = Buffer.from(good);
    grey.write('GRAY', 16, 'latin1');
    expect(isSrgbProfile(grey)).toBe(false);
    const badTagCount = Buffer.from(good);
    badTagCount.writeUInt32BE(0xffffffff, 128);
    expect(isSrgbProfile(badTagCount)).toBe(false);
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const noisy = Buffer.from(good);
      for (let k = 0; k < 8; k++) noisy[128 + Math.floor(random() * (noisy.length - 128))] = Math.floor(random() * 256);
      expect(typeof isSrgbProfile(noisy)).toBe('boolean');
    }
  });
});

describe('decodeImage and embedded profiles', () => {
  it('keeps the stored values of an sRGB-tagged image: within one level of converting them with the profile', async () => {
    // Every grey level plus random colours, tagged with the photos' sRGB profile.
    const width = 512;
    const height = 256;
    const pixels = Buffer.alloc(width * height * 3);
    const random = seededRandom(11);
    for (let i = 0; i < pixels.length; i++) pixels[i] = i < 256 * 3 ? Math.floor(i / 3) : Math.floor(random() * 256);
    const png = withChunkOf(await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer(), photo('astronaut.png'), 'iCCP');
    expect(isSrgbProfile((await sharp(png).metadata()).icc)).toBe(true);

    const decoded = await decodeImage(png, DEFAULT_DECODE_LIMITS);
    expect(decoded.data.equals(pixels)).toBe(true);
    const converted = await sharp(png).raw().toBuffer();
    let differing = 0;
    let largest = 0;
    for (let i = 0; i < pixels.length; i++) {
      const d = Math.abs(converted[i]! - pixels[i]!);
      largest = Math.max(largest, d);
      if (d) differing++;
    }
    expect(largest).toBeLessThanOrEqual(1);
    expect(differing / pixels.length).toBeLessThan(0.01);
  });

  it('still converts other profiles (Adobe RGB) to sRGB', async () => {
    const bytes = photo('rocket.jpg');
    const decoded = await decodeImage(bytes, DEFAULT_DECODE_LIMITS);
    expect(decoded.data.equals(await sharp(bytes).raw().toBuffer())).toBe(true);
    expect(decoded.data.equals(await sharp(bytes, { ignoreIcc: true }).raw().toBuffer())).toBe(false);
  });
});

/** `png` with the `type` chunk of `donor` (length, type, data and CRC as they are) after its IHDR. */
function withChunkOf(png: Buffer, donor: Buffer, type: string): Buffer {
  for (let at = 8; at < donor.length; at += 12 + donor.readUInt32BE(at)) {
    if (donor.toString('latin1', at + 4, at + 8) !== type) continue;
    const chunk = donor.subarray(at, at + 12 + donor.readUInt32BE(at));
    const afterHeader = 8 + 12 + png.readUInt32BE(8);
    return Buffer.concat([png.subarray(0, afterHeader), chunk, png.subarray(afterHeader)]);
  }
  throw new Error(`no ${type} chunk`);
}
