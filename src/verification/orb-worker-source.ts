import { ratioTestMatches } from './hamming-matches.js';

/**
 * The ORB check itself, run in the verifier's worker thread (see orb-worker.ts): ORB keypoints
 * and binary descriptors, brute-force Hamming matching with Lowe's ratio test, and a RANSAC
 * homography, the textbook check that a planar object (a box, a label, a cover) of the gallery
 * is present in the query.
 *
 * It is plain CommonJS given as source, so that it runs the same whether the service runs from
 * dist/ or from the TypeScript sources (tests, tsx): a worker cannot inherit a TypeScript loader.
 * It is a fixed string of this module, never built from input, with the text of one function
 * written in: the descriptor matcher of hamming-matches.ts, which is kept self-contained for it.
 * It sees features decoded (orb-features.ts owns the stored format) and OpenCV's package path
 * and the ORB parameters in workerData.
 */
export const ORB_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { features: FEATURES, ratio: RATIO, ransacPixels: RANSAC_PIXELS } = workerData.orb;
// A homography needs 4 points; fewer than this many ratio-test survivors is never a match.
const MIN_GOOD_MATCHES = 8;

// OpenCV's WebAssembly build (@techstark/opencv-js, OpenCV 4.5.1, Apache-2.0). Its embind
// classes such as Mat exist only once the runtime is initialised. The module object has a 'then'
// method that calls back with itself, so it is never what a promise resolves to.
const cv = require(workerData.opencv);
const ready = new Promise((resolve) => {
  if (typeof cv.Mat === 'function') return resolve();
  cv.onRuntimeInitialized = () => resolve();
});

// Mats and vectors live on the WebAssembly heap until deleted.
function using(objects, body) {
  try {
    return body();
  } finally {
    for (const o of objects) o.delete();
  }
}

function extract(m) {
  const mat = new cv.Mat(m.height, m.width, cv.CV_8UC1);
  const orb = new cv.ORB(FEATURES);
  const keypoints = new cv.KeyPointVector();
  const descriptors = new cv.Mat();
  const mask = new cv.Mat();
  return using([mat, orb, keypoints, descriptors, mask], () => {
    mat.data.set(m.data);
    orb.detectAndCompute(mat, mask, keypoints, descriptors);
    const count = descriptors.empty() ? 0 : keypoints.size();
    const points = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      const { pt } = keypoints.get(i);
      points[2 * i] = pt.x;
      points[2 * i + 1] = pt.y;
    }
    return { count, points, descriptors: descriptors.data.slice() };
  });
}

function pointMat(xy) {
  const mat = new cv.Mat(xy.length / 2, 1, cv.CV_32FC2);
  mat.data32F.set(xy);
  return mat;
}

const ratioTestMatches = ${ratioTestMatches.toString()};

// Candidate -> query point pairs that pass the ratio test.
function goodMatches(query, candidate) {
  const pairs = ratioTestMatches(query.descriptors, query.count, candidate.descriptors, candidate.count, RATIO);
  const src = [];
  const dst = [];
  for (let k = 0; k < pairs.length; k += 2) {
    const q = pairs[k];
    const c = pairs[k + 1];
    src.push(candidate.points[2 * c], candidate.points[2 * c + 1]);
    dst.push(query.points[2 * q], query.points[2 * q + 1]);
  }
  return [src, dst];
}

// Maps a point by a row-major 3x3 homography.
function project(h, x, y) {
  const w = h[6] * x + h[7] * y + h[8];
  return [(h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w];
}

function match({ query, candidate }) {
  if (query.count < MIN_GOOD_MATCHES || candidate.count < MIN_GOOD_MATCHES) return { inliers: 0 };
  const [src, dst] = goodMatches(query, candidate);
  if (src.length / 2 < MIN_GOOD_MATCHES) return { inliers: 0 };
  const from = pointMat(src);
  const to = pointMat(dst);
  const mask = new cv.Mat();
  return using([from, to, mask], () => {
    const h = cv.findHomography(from, to, cv.RANSAC, RANSAC_PIXELS, mask);
    return using([h], () => {
      if (h.empty()) return { inliers: 0 };
      let inliers = 0;
      for (let i = 0; i < mask.rows; i++) inliers += mask.data[i] ? 1 : 0;
      const w = candidate.width;
      const ht = candidate.height;
      const corners = [project(h.data64F, 0, 0), project(h.data64F, w, 0), project(h.data64F, w, ht), project(h.data64F, 0, ht)];
      return { inliers, corners };
    });
  });
}

// OpenCV reports its C++ exceptions as a bare heap pointer.
function messageOf(e) {
  if (typeof e === 'number' && typeof cv.exceptionFromPtr === 'function') return 'OpenCV: ' + String(cv.exceptionFromPtr(e).msg).trim();
  return e instanceof Error ? e.message : String(e);
}

parentPort.on('message', async (m) => {
  let value;
  try {
    await ready;
    if (m.op === 'load') value = null;
    else if (m.op === 'extract') value = extract(m);
    else if (m.op === 'match') value = match(m);
    else throw new Error('orb worker: unknown operation ' + m.op);
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, message: messageOf(e) });
    // A trap leaves the WebAssembly heap in an unknown state: end the thread, the next call starts afresh.
    if (e instanceof WebAssembly.RuntimeError) process.exit(1);
    return;
  }
  // The arrays of extract are fresh copies out of the heap: they move instead of being copied.
  parentPort.postMessage({ id: m.id, ok: true, value }, m.op === 'extract' ? [value.points.buffer, value.descriptors.buffer] : []);
});
`;
