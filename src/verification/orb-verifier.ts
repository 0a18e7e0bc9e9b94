import type { GreyImage } from '../imaging/grey.js';
import { decodeFeatures, encodeFeatures, type OrbFeatures } from './orb-features.js';
import { OrbWorker, type OrbOp } from './orb-worker.js';

export { decodeFeatures, encodeFeatures, type OrbFeatures } from './orb-features.js';

/**
 * Local-feature verification with ORB and a RANSAC homography (the algorithm is in
 * orb-worker-source.ts). OpenCV runs in worker threads of the verifier's own (`threads`), each
 * started on its first call or by init(), so the caller's event loop stays free; dispose() stops
 * them, after which every call is refused.
 */

export interface OrbOptions {
  /** Keypoints kept per image (default 1000). */
  features?: number;
  /** Lowe's ratio: best match distance / second best below this (default 0.75). */
  ratio?: number;
  /** RANSAC reprojection error in pixels (default 5). */
  ransacPixels?: number;
  /**
   * Worker threads, each with OpenCV of its own (about 54 MB): calls go to the least busy, so
   * the candidates of one query are matched side by side (default 1).
   */
  threads?: number;
}

/**
 * ORB (OpenCV's defaults for all but the keypoint count, as the worker makes it) keeps no keypoint
 * closer than its edge threshold, 31 px, to a border of any pyramid level, so a grey image with a
 * side under 2 x 31 + 1 px has none to find (measured: 640x62 none, 640x63 a few). A side of 1 px
 * even fails inside OpenCV, whose pyramid shrinks it to nothing.
 */
const ORB_MIN_SIDE = 2 * 31 + 1;

export class OrbVerifier {
  /** Names the parameters, since features stored with one setting are not comparable with another's. */
  readonly id: string;
  /** Shortest side of a grey image ORB can find keypoints in; smaller images get an empty record. */
  readonly minSide = ORB_MIN_SIDE;
  /** Each worker with its calls in flight; a worker's thread starts on its first call. */
  private readonly workers: { worker: OrbWorker; busy: number }[];
  private disposed = false;

  constructor(options: OrbOptions = {}) {
    const parameters = { features: options.features ?? 1000, ratio: options.ratio ?? 0.75, ransacPixels: options.ransacPixels ?? 5 };
    this.id = `orb${parameters.features}-ratio${parameters.ratio}-ransac${parameters.ransacPixels}`;
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`orb verifier: threads must be a whole number >= 1, got ${threads}`);
    this.workers = Array.from({ length: threads }, () => ({ worker: new OrbWorker(parameters), busy: 0 }));
  }

  /** Starts the threads and loads the WebAssembly runtime now rather than on the first queries. */
  async init(): Promise<void> {
    await Promise.all(this.workers.map(({ worker }) => worker.call('load', {})));
  }

  /** A call on the worker with the fewest calls in flight (the first of them on a tie). */
  private async call<T>(op: OrbOp, message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    const slot = this.workers.reduce((least, w) => (w.busy < least.busy ? w : least));
    slot.busy++;
    try {
      return await slot.worker.call<T>(op, message, transfer);
    } finally {
      slot.busy--;
    }
  }

  async extract(image: GreyImage): Promise<Uint8Array> {
    const { width, height } = image;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || image.data.length !== width * height) {
      throw new Error(`orb verifier: a ${width}x${height} grey image needs ${width * height} bytes, got ${image.data.length}`);
    }
    // No keypoints to find: answered here, as OpenCV would fail on a side of 1 px.
    if (Math.min(width, height) < this.minSide) {
      if (this.disposed) throw new Error('orb verifier: used after dispose()');
      return encodeFeatures({ count: 0, width, height, points: new Float32Array(0), descriptors: new Uint8Array(0) });
    }
    // A copy of exactly the pixels moves to the worker: the caller keeps its image, and a view
    // into a larger buffer does not drag that whole buffer along.
    const data = image.data.slice();
    const found = await this.call<Omit<OrbFeatures, 'width' | 'height'>>('extract', { width, height, data }, [data.buffer]);
    return encodeFeatures({ ...found, width, height });
  }

  /** Rejects a record that is not ORB1 before it reaches the worker. */
  async match(queryBytes: Uint8Array, candidateBytes: Uint8Array): Promise<{ inliers: number; corners?: [number, number][] }> {
    const query = decodeFeatures(queryBytes);
    const candidate = decodeFeatures(candidateBytes);
    // Decoded arrays are copies of their own, free to move.
    const transfer = [query, candidate].flatMap((f) => [f.points.buffer, f.descriptors.buffer]);
    return this.call('match', { query, candidate }, transfer as ArrayBuffer[]);
  }

  /** Stops the worker threads; safe to call twice. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(this.workers.map(({ worker }) => worker.dispose()));
  }
}
