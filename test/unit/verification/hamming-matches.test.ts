import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, DEFAULT_DECODE_LIMITS } from '../../../src/imaging/decode.js';
import { toGrey } from '../../../src/imaging/grey.js';
import { ratioTestMatches } from '../../../src/verification/hamming-matches.js';
import { decodeFeatures, OrbVerifier, type OrbFeatures } from '../../../src/verification/orb-verifier.js';

const PHOTOS = join(import.meta.dirname, '..', '..', 'fixtures', 'photos');
const RATIO = 0.75;

/* eslint-disable @typescript-eslint/no-explicit-any -- OpenCV's WebAssembly build has no types */
type Cv = any;

/** OpenCV's module object has a `then` that calls back with itself: it travels wrapped, never as a promise's value. */
async function loadOpenCv(): Promise<{ cv: Cv }> {
  const cv = createRequire(import.meta.url)('@techstark/opencv-js') as Cv;
  if (typeof cv.Mat !== 'function') await new Promise<void>((resolve) => (cv.onRuntimeInitialized = resolve));
  return { cv };
}

/** The pairs OpenCV finds: BFMatcher(NORM_HAMMING).knnMatch(k = 2), then Lowe's ratio test. */
function openCvPairs(cv: Cv, query: OrbFeatures, candidate: OrbFeatures): number[] {
  const mat = (f: OrbFeatures) => {
    const m = new cv.Mat(f.count, 32, cv.CV_8U);
    m.data.set(f.descriptors);
    return m;
  };
  const q = mat(query);
  const c = mat(candidate);
  const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
  const knn = new cv.DMatchVectorVector();
  try {
    matcher.knnMatch(q, c, knn, 2);
    const pairs: number[] = [];
    for (let i = 0; i < knn.size(); i++) {
      const pair = knn.get(i);
      if (pair.size() === 2 && pair.get(0).distance < RATIO * pair.get(1).distance) pairs.push(pair.get(0).queryIdx, pair.get(0).trainIdx);
      pair.delete();
    }
    return pairs;
  } finally {
    for (const o of [q, c, matcher, knn]) o.delete();
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const match = (q: OrbFeatures, c: OrbFeatures) => Array.from(ratioTestMatches(q.descriptors, q.count, c.descriptors, c.count, RATIO));

describe('ratioTestMatches', () => {
  const verifier = new OrbVerifier();
  const features: Record<string, OrbFeatures> = {};
  let cv: Cv;

  beforeAll(async () => {
    for (const name of ['box.png', 'box_in_scene.png', 'coffee.png', 'astronaut.png']) {
      const image = await decodeImage(readFileSync(join(PHOTOS, name)), DEFAULT_DECODE_LIMITS);
      features[name] = decodeFeatures(await verifier.extract(await toGrey(image, 640)));
    }
    ({ cv } = await loadOpenCv());
  });
  afterAll(() => verifier.dispose());

  it('finds the same pairs as OpenCV brute-force kNN with the ratio test, on real ORB features', () => {
    const cases = [
      ['box_in_scene.png', 'box.png'],
      ['coffee.png', 'box.png'],
      ['box.png', 'box.png'],
      ['astronaut.png', 'coffee.png'],
      ['box.png', 'box_in_scene.png'],
    ] as const;
    for (const [q, c] of cases) {
      const ours = match(features[q]!, features[c]!);
      expect(ours, `${q} -> ${c}`).toEqual(openCvPairs(cv, features[q]!, features[c]!));
      expect(ours.length).toBeGreaterThan(0);
    }
    // box.png is in box_in_scene.png: far more survive the ratio test there than in the coffee cup.
    expect(match(features['box_in_scene.png']!, features['box.png']!).length).toBeGreaterThan(2 * match(features['coffee.png']!, features['box.png']!).length);
  });

  it('runs the same from its own source text, as the worker runs it', () => {
    const standalone = new Function(`return (${ratioTestMatches.toString()});`)() as typeof ratioTestMatches;
    const q = features['box_in_scene.png']!;
    const c = features['box.png']!;
    expect(Array.from(standalone(q.descriptors, q.count, c.descriptors, c.count, RATIO))).toEqual(match(q, c));
  });

  it('reads descriptors that do not start on a 4-byte boundary', () => {
    const q = features['box_in_scene.png']!;
    const c = features['box.png']!;
    const shifted = (bytes: Uint8Array) => {
      const copy = new Uint8Array(bytes.byteLength + 3);
      copy.set(bytes, 3);
      return copy.subarray(3);
    };
    expect(Array.from(ratioTestMatches(shifted(q.descriptors), q.count, shifted(c.descriptors), c.count, RATIO))).toEqual(match(q, c));
  });

  it('counts every bit: distances 0 to 256 over all 32 bytes', () => {
    // Query 0 is all zeros; candidate k has its first k bits set, so the nearest is k = 0 at
    // distance 0 and the second k = 1 at distance 1: 0 < 0.75.
    const candidates = new Uint8Array(257 * 32);
    for (let k = 0; k <= 256; k++) for (let bit = 0; bit < k; bit++) candidates[k * 32 + (bit >> 3)]! |= 1 << (bit & 7);
    expect(Array.from(ratioTestMatches(new Uint8Array(32), 1, candidates, 257, RATIO))).toEqual([0, 0]);
    // All ones: nearest is k = 256 (distance 0).
    expect(Array.from(ratioTestMatches(new Uint8Array(32).fill(255), 1, candidates, 257, RATIO))).toEqual([0, 256]);
    // Query with its first 200 bits set: nearest k = 200 at 0.
    const q = new Uint8Array(32);
    for (let bit = 0; bit < 200; bit++) q[bit >> 3]! |= 1 << (bit & 7);
    expect(Array.from(ratioTestMatches(q, 1, candidates.subarray(100 * 32), 157, RATIO))).toEqual([0, 100]);
  });

  it('finds no pair without a second candidate, for equally near candidates, or for no queries', () => {
    const one = new Uint8Array(32).fill(7);
    expect(ratioTestMatches(one, 1, one, 1, RATIO)).toHaveLength(0);
    expect(ratioTestMatches(one, 1, new Uint8Array(0), 0, RATIO)).toHaveLength(0);
    const twins = new Uint8Array(64).fill(7);
    expect(ratioTestMatches(one, 1, twins, 2, RATIO)).toHaveLength(0);
    expect(ratioTestMatches(new Uint8Array(0), 0, twins, 2, RATIO)).toHaveLength(0);
  });

  it('refuses arrays shorter than their counts say', () => {
    expect(() => ratioTestMatches(new Uint8Array(31), 1, new Uint8Array(64), 2, RATIO)).toThrow(/need 32 bytes each/);
    expect(() => ratioTestMatches(new Uint8Array(32), 1, new Uint8Array(63), 2, RATIO)).toThrow(/need 32 bytes each/);
  });
});
