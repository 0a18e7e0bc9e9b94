import type { GreyImage } from '../imaging/grey.js';
import { loadOpenCv, type CvMat, type OpenCv } from './opencv-runtime.js';

/**
 * ORB keypoints and binary descriptors, brute-force Hamming matching with Lowe's ratio test, and
 * a RANSAC homography: the textbook check that a planar object (a box, a label, a cover) of the
 * gallery is present in the query. Features are serialised so that they can be stored per entry:
 * 'ORB1', count, width, height (uint32), count (x, y) float32 pairs, count 32-byte descriptors.
 */

export interface OrbOptions {
  /** Keypoints kept per image (default 1000). */
  features?: number;
  /** Lowe's ratio: best match distance / second best below this (default 0.75). */
  ratio?: number;
  /** RANSAC reprojection error in pixels (default 5). */
  ransacPixels?: number;
}

interface Features {
  count: number;
  width: number;
  height: number;
  points: Float32Array;
  descriptors: Uint8Array;
}

const MAGIC = 0x3142524f; // 'ORB1' little-endian
const HEADER = 16;
const DESCRIPTOR_BYTES = 32;
/** A homography needs 4 points; fewer than this many ratio-test survivors is never a match. */
const MIN_GOOD_MATCHES = 8;

export function encodeFeatures(f: Features): Uint8Array {
  const bytes = new Uint8Array(HEADER + f.count * 8 + f.count * DESCRIPTOR_BYTES);
  const view = new DataView(bytes.buffer);
  [MAGIC, f.count, f.width, f.height].forEach((v, i) => view.setUint32(i * 4, v, true));
  for (let i = 0; i < f.count * 2; i++) view.setFloat32(HEADER + i * 4, f.points[i]!, true);
  bytes.set(f.descriptors.subarray(0, f.count * DESCRIPTOR_BYTES), HEADER + f.count * 8);
  return bytes;
}

export function decodeFeatures(bytes: Uint8Array): Features {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER || view.getUint32(0, true) !== MAGIC) throw new Error('orb features: not an ORB1 record');
  const [count, width, height] = [4, 8, 12].map((at) => view.getUint32(at, true)) as [number, number, number];
  if (bytes.byteLength !== HEADER + count * (8 + DESCRIPTOR_BYTES)) throw new Error(`orb features: ${bytes.byteLength} bytes for ${count} keypoints`);
  const points = new Float32Array(count * 2);
  for (let i = 0; i < count * 2; i++) points[i] = view.getFloat32(HEADER + i * 4, true);
  return { count, width, height, points, descriptors: bytes.slice(HEADER + count * 8) };
}

/** Maps a point by a row-major 3x3 homography. */
function project(h: Float64Array, x: number, y: number): [number, number] {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

export class OrbVerifier {
  readonly id: string;
  private cv: Promise<{ cv: OpenCv }> | undefined;
  private readonly features: number;
  private readonly ratio: number;
  private readonly ransacPixels: number;

  constructor(options: OrbOptions = {}) {
    this.features = options.features ?? 1000;
    this.ratio = options.ratio ?? 0.75;
    this.ransacPixels = options.ransacPixels ?? 5;
    this.id = `orb${this.features}-ratio${this.ratio}-ransac${this.ransacPixels}`;
  }

  /** Loads the WebAssembly runtime now rather than on the first query. */
  async init(): Promise<void> {
    await this.runtime();
  }

  /** The runtime in a wrapper: the module object is a thenable and must never be awaited itself. */
  private runtime(): Promise<{ cv: OpenCv }> {
    this.cv ??= loadOpenCv();
    return this.cv;
  }

  async extract(image: GreyImage): Promise<Uint8Array> {
    const { cv } = await this.runtime();
    const mat = new cv.Mat(image.height, image.width, cv.CV_8UC1);
    const orb = new cv.ORB(this.features);
    const keypoints = new cv.KeyPointVector();
    const descriptors = new cv.Mat();
    const mask = new cv.Mat();
    try {
      mat.data.set(image.data);
      orb.detectAndCompute(mat, mask, keypoints, descriptors);
      const count = descriptors.empty() ? 0 : keypoints.size();
      const points = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        const { pt } = keypoints.get(i);
        points[2 * i] = pt.x;
        points[2 * i + 1] = pt.y;
      }
      return encodeFeatures({ count, width: image.width, height: image.height, points, descriptors: descriptors.data.slice() });
    } finally {
      for (const m of [mat, orb, keypoints, descriptors, mask]) m.delete();
    }
  }

  async match(queryBytes: Uint8Array, candidateBytes: Uint8Array): Promise<{ inliers: number; corners?: [number, number][] }> {
    const query = decodeFeatures(queryBytes);
    const candidate = decodeFeatures(candidateBytes);
    if (query.count < MIN_GOOD_MATCHES || candidate.count < MIN_GOOD_MATCHES) return { inliers: 0 };
    const { cv } = await this.runtime();
    const [src, dst] = this.goodMatches(cv, query, candidate);
    if (src.length / 2 < MIN_GOOD_MATCHES) return { inliers: 0 };
    const from = this.pointMat(cv, src);
    const to = this.pointMat(cv, dst);
    const mask = new cv.Mat();
    let h: CvMat | undefined;
    try {
      h = cv.findHomography(from, to, cv.RANSAC, this.ransacPixels, mask);
      if (h.empty()) return { inliers: 0 };
      let inliers = 0;
      for (let i = 0; i < mask.rows; i++) inliers += mask.data[i] ? 1 : 0;
      const { width: w, height: ht } = candidate;
      const corners = [project(h.data64F, 0, 0), project(h.data64F, w, 0), project(h.data64F, w, ht), project(h.data64F, 0, ht)];
      return { inliers, corners };
    } finally {
      for (const m of [from, to, mask]) m.delete();
      h?.delete();
    }
  }

  /** Candidate -> query point pairs that pass the ratio test. */
  private goodMatches(cv: OpenCv, query: Features, candidate: Features): [number[], number[]] {
    const q = this.descriptorMat(cv, query);
    const c = this.descriptorMat(cv, candidate);
    const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
    const knn = new cv.DMatchVectorVector();
    const src: number[] = [];
    const dst: number[] = [];
    try {
      matcher.knnMatch(q, c, knn, 2);
      for (let i = 0; i < knn.size(); i++) {
        const pair = knn.get(i);
        if (pair.size() === 2) {
          const [best, second] = [pair.get(0), pair.get(1)];
          if (best.distance < this.ratio * second.distance) {
            src.push(candidate.points[2 * best.trainIdx]!, candidate.points[2 * best.trainIdx + 1]!);
            dst.push(query.points[2 * best.queryIdx]!, query.points[2 * best.queryIdx + 1]!);
          }
        }
        pair.delete();
      }
    } finally {
      for (const m of [q, c, matcher, knn]) m.delete();
    }
    return [src, dst];
  }

  private descriptorMat(cv: OpenCv, f: Features): CvMat {
    const mat = new cv.Mat(f.count, DESCRIPTOR_BYTES, cv.CV_8U);
    mat.data.set(f.descriptors);
    return mat;
  }

  private pointMat(cv: OpenCv, xy: number[]): CvMat {
    const mat = new cv.Mat(xy.length / 2, 1, cv.CV_32FC2);
    mat.data32F.set(xy);
    return mat;
  }
}
