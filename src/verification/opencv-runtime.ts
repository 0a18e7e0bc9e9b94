import { createRequire } from 'node:module';

/**
 * OpenCV's WebAssembly build (@techstark/opencv-js, OpenCV 4.5.1, Apache-2.0): the only module
 * that loads it. The typed subset below is what local-feature verification uses; the package's
 * own typings (mirada) describe far more and are not needed.
 */

export interface CvMat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
  readonly data32F: Float32Array;
  readonly data64F: Float64Array;
  empty(): boolean;
  delete(): void;
}
interface CvKeyPoint {
  pt: { x: number; y: number };
}
interface CvVector<T> {
  size(): number;
  get(i: number): T;
  delete(): void;
}
export interface CvDMatch {
  queryIdx: number;
  trainIdx: number;
  distance: number;
}

export interface OpenCv {
  CV_8U: number;
  CV_8UC1: number;
  CV_32FC2: number;
  NORM_HAMMING: number;
  RANSAC: number;
  Mat: new (rows?: number, cols?: number, type?: number) => CvMat;
  KeyPointVector: new () => CvVector<CvKeyPoint>;
  DMatchVectorVector: new () => CvVector<CvVector<CvDMatch>>;
  ORB: new (features: number) => { detectAndCompute(image: CvMat, mask: CvMat, keypoints: CvVector<CvKeyPoint>, descriptors: CvMat): void; delete(): void };
  BFMatcher: new (norm: number, crossCheck: boolean) => { knnMatch(query: CvMat, train: CvMat, matches: CvVector<CvVector<CvDMatch>>, k: number): void; delete(): void };
  findHomography(src: CvMat, dst: CvMat, method: number, reprojectionThreshold: number, mask: CvMat): CvMat;
  onRuntimeInitialized?: () => void;
}

/**
 * Resolves once the WebAssembly runtime is ready (about 1-3 s on first use). The module is
 * cached by Node, so later calls find it initialised: embind classes such as Mat exist only
 * after initialisation, which is how that is told apart. The module object is handed over inside
 * a wrapper because it has a `then` method that calls back with itself: resolving a promise with
 * it directly never settles.
 */
export function loadOpenCv(): Promise<{ cv: OpenCv }> {
  const cv = createRequire(import.meta.url)('@techstark/opencv-js') as OpenCv;
  if (typeof cv.Mat === 'function') return Promise.resolve({ cv });
  return new Promise((resolve) => {
    const previous = cv.onRuntimeInitialized;
    cv.onRuntimeInitialized = () => {
      previous?.();
      resolve({ cv });
    };
  });
}
