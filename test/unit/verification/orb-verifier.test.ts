import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cropImage } from '../../../src/imaging/crop.js';
import { decodeImage, DEFAULT_DECODE_LIMITS } from '../../../src/imaging/decode.js';
import { toGrey, type GreyImage } from '../../../src/imaging/grey.js';
import { plausibleQuad } from '../../../src/pipeline/verification.js';
import { decodeFeatures, encodeFeatures, OrbVerifier } from '../../../src/verification/orb-verifier.js';

const PHOTOS = join(import.meta.dirname, '..', '..', 'fixtures', 'photos');
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A photo as the pipeline sees it for verification: decoded, cropped to its subject, grey at 640. */
async function grey(name: string): Promise<GreyImage> {
  const image = await decodeImage(readFileSync(join(PHOTOS, name)), DEFAULT_DECODE_LIMITS);
  return toGrey(await cropImage(image, [0, 0, image.width, image.height]), 640);
}

/** The verifier's inside, to stop a thread as a crash would and to see which threads ran. */
type Workers = { workers: { worker: { channel?: { worker: Worker } } }[] };

/** The largest gap between ticks of a 5 ms interval while `work` runs. */
async function largestTickGap(work: () => Promise<unknown>): Promise<{ gap: number; elapsed: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  try {
    const started = performance.now();
    last = started;
    await work();
    const elapsed = performance.now() - started;
    gap = Math.max(gap, performance.now() - last);
    return { gap, elapsed };
  } finally {
    clearInterval(timer);
  }
}

describe('OrbVerifier', () => {
  const verifier = new OrbVerifier();
  const images: Record<string, GreyImage> = {};
  const features: Record<string, Uint8Array> = {};

  beforeAll(async () => {
    await verifier.init();
    for (const name of ['box.png', 'box_in_scene.png', 'coffee.png']) {
      images[name] = await grey(name);
      features[name] = await verifier.extract(images[name]!);
    }
  });
  afterAll(() => verifier.dispose());

  it('finds box.png in box_in_scene.png, where it lies', async () => {
    const scene = images['box_in_scene.png']!;
    const { inliers, corners } = await verifier.match(features['box_in_scene.png']!, features['box.png']!);
    expect(inliers).toBeGreaterThanOrEqual(15);
    expect(plausibleQuad(corners, scene.width, scene.height)).toBe(true);
    // The box lies at about x 110-285, y 160-300 of the 512x384 scene.
    for (const [x, y] of corners!) {
      expect(x).toBeGreaterThan(70);
      expect(x).toBeLessThan(310);
      expect(y).toBeGreaterThan(130);
      expect(y).toBeLessThan(330);
    }
  });

  it('does not find box.png in a photo of a coffee cup', async () => {
    const { inliers } = await verifier.match(features['coffee.png']!, features['box.png']!);
    expect(inliers).toBeLessThan(8);
  });

  it('answers concurrent calls each with its own result', async () => {
    const pairs = [['box_in_scene.png', 'box.png'], ['coffee.png', 'box.png'], ['box.png', 'box.png']] as const;
    const one = async ([q, c]: readonly [string, string]) => verifier.match(features[q]!, features[c]!);
    const sequential = [];
    for (const pair of pairs) sequential.push(await one(pair));
    expect(await Promise.all(pairs.map(one))).toEqual(sequential);
    expect(sequential[2]!.inliers).toBeGreaterThan(sequential[0]!.inliers);
  });

  it('stores features as an ORB1 record that decodes and re-encodes to the same bytes', () => {
    const bytes = features['box.png']!;
    const f = decodeFeatures(bytes);
    expect(f.count).toBeGreaterThan(100);
    expect(f.count).toBeLessThanOrEqual(1000);
    expect([f.width, f.height]).toEqual([images['box.png']!.width, images['box.png']!.height]);
    expect(f.descriptors.byteLength).toBe(f.count * 32);
    expect(Array.from(f.points).every((v, i) => v >= 0 && v < (i % 2 ? f.height : f.width))).toBe(true);
    expect(Buffer.from(bytes.subarray(0, 4)).toString('latin1')).toBe('ORB1');
    expect(encodeFeatures(f)).toEqual(bytes);
  });

  it('leaves the caller its image and its records', async () => {
    const image = images['box.png']!;
    const before = image.data.slice();
    const record = features['box.png']!.slice();
    await verifier.extract(image);
    await verifier.match(record, record);
    expect(image.data).toEqual(before);
    expect(record).toEqual(features['box.png']);
  });

  it('rejects malformed records and images with a clear error, and keeps serving', async () => {
    const good = features['box.png']!;
    await expect(verifier.match(Uint8Array.from([1, 2, 3]), good)).rejects.toThrow(/not an ORB1 record/);
    await expect(verifier.match(good, good.subarray(0, good.byteLength - 1))).rejects.toThrow(/bytes for \d+ keypoints/);
    await expect(verifier.extract({ data: new Uint8Array(10), width: 4, height: 4 })).rejects.toThrow(/needs 16 bytes, got 10/);
    const { inliers } = await verifier.match(features['box_in_scene.png']!, good);
    expect(inliers).toBeGreaterThanOrEqual(15);
  });

  it('finds no keypoints in an image under its minimum side, thin ones included, and keeps serving', async () => {
    expect(verifier.minSide).toBe(63);
    // Strips of a textured photo. ORB's border of 31 px leaves no keypoint in one 62 px high; one
    // 1 px high used to fail inside OpenCV ('inv_scale_x > 0' in resize).
    const scene = images['box_in_scene.png']!;
    const strip = (width: number, height: number): GreyImage => ({ data: scene.data.slice(0, width * height), width, height });
    for (const image of [strip(512, 1), strip(1, 384), strip(1, 1), strip(2, 2), strip(512, 62)]) {
      const f = decodeFeatures(await verifier.extract(image));
      expect([f.count, f.width, f.height]).toEqual([0, image.width, image.height]);
      expect((await verifier.match(features['box_in_scene.png']!, encodeFeatures(f))).inliers).toBe(0);
    }
    expect(decodeFeatures(await verifier.extract(strip(512, 100))).count).toBeGreaterThan(0);
    const { inliers } = await verifier.match(features['box_in_scene.png']!, features['box.png']!);
    expect(inliers).toBeGreaterThanOrEqual(15);
  });

  it('keeps the event loop free while it matches', async () => {
    const query = features['box_in_scene.png']!;
    const { gap, elapsed } = await largestTickGap(async () => {
      await verifier.extract(images['box_in_scene.png']!);
      for (let i = 0; i < 5; i++) await verifier.match(query, features['box.png']!);
    });
    // In the calling thread the loop would stall for the whole sequence (about 150 ms).
    expect(gap).toBeLessThan(elapsed / 3);
  });

  it('fails the calls in flight when its thread dies, and the next call starts a fresh one', async () => {
    const failed = expect(verifier.match(features['box_in_scene.png']!, features['box.png']!)).rejects.toThrow(/worker thread exited/);
    // Stops the thread the way a crash would.
    await (verifier as unknown as Workers).workers[0]!.worker.channel!.worker.terminate();
    await failed;
    const again = await verifier.match(features['box_in_scene.png']!, features['box.png']!);
    expect(again.inliers).toBeGreaterThanOrEqual(15);
  });
});

describe('OrbVerifier with two threads', () => {
  const verifier = new OrbVerifier({ threads: 2 });
  afterAll(() => verifier.dispose());

  it('spreads calls over its threads, each answered with its own result, as one thread answers them', async () => {
    const single = new OrbVerifier();
    try {
      const names = ['box.png', 'box_in_scene.png', 'coffee.png'];
      const images = await Promise.all(names.map(grey));
      const features = await Promise.all(images.map((image) => verifier.extract(image)));
      expect(features).toEqual(await Promise.all(images.map((image) => single.extract(image))));
      const pairs = [[1, 0], [2, 0], [0, 0], [1, 2], [0, 1]] as const;
      const side = await Promise.all(pairs.map(([q, c]) => verifier.match(features[q]!, features[c]!)));
      const one = [];
      for (const [q, c] of pairs) one.push(await single.match(features[q]!, features[c]!));
      expect(side).toEqual(one);
      expect(side[0]!.inliers).toBeGreaterThanOrEqual(15);
      // Both threads were started: calls made at once went to both.
      expect((verifier as unknown as Workers).workers.map((w) => w.worker.channel !== undefined)).toEqual([true, true]);
    } finally {
      await single.dispose();
    }
  });

  it('fails the calls in flight on every thread when disposed', async () => {
    const image = await grey('box_in_scene.png');
    const other = new OrbVerifier({ threads: 2 });
    const calls = [other.extract(image), other.extract(image)].map((call) => expect(call).rejects.toThrow(/disposed while a call was in flight/));
    await other.dispose();
    await Promise.all(calls);
  });

  it('refuses a thread count that is not a whole number of at least 1', () => {
    expect(() => new OrbVerifier({ threads: 0 })).toThrow(/threads must be a whole number >= 1/);
    expect(() => new OrbVerifier({ threads: 1.5 })).toThrow(/threads must be a whole number >= 1/);
  });
});

describe('OrbVerifier.dispose', () => {
  it('fails a call in flight, can be called twice, and refuses later calls', async () => {
    const verifier = new OrbVerifier();
    const image = { data: new Uint8Array(64 * 64), width: 64, height: 64 };
    const failed = expect(verifier.extract(image)).rejects.toThrow(/disposed while a call was in flight/);
    await verifier.dispose();
    await verifier.dispose();
    await failed;
    await expect(verifier.extract(image)).rejects.toThrow(/after dispose/);
    await expect(verifier.extract({ data: new Uint8Array(1), width: 1, height: 1 })).rejects.toThrow(/after dispose/);
    await expect(verifier.init()).rejects.toThrow(/after dispose/);
  });

  it('lets the process exit on its own, disposed or idle', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./orb-exit-child.ts', import.meta.url))], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const hung = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearTimeout(hung);
    expect({ code, signal }, output).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/^same \d+\n$/);
  }, 20_000);
});
