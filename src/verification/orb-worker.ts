import { createRequire } from 'node:module';
import { WorkerChannel } from '../core/worker-channel.js';
import { ORB_WORKER_SOURCE } from './orb-worker-source.js';

/**
 * OpenCV's WebAssembly build computes synchronously on the thread that calls it: on the main
 * thread a 40 ms extraction is 40 ms in which no request is read and no health check answered,
 * and loading the runtime blocks for most of a second. The verifier's OpenCV (and its matching)
 * therefore lives in a worker thread of its own, started on first use. A thread that dies
 * (crash, trap, exit) fails the calls in flight, and the next call starts a fresh one; after
 * dispose() every call is refused.
 */

export interface OrbParameters {
  features: number;
  ratio: number;
  ransacPixels: number;
}

/** What the worker thread does: load OpenCV, extract features, match two feature sets. */
export type OrbOp = 'load' | 'extract' | 'match';

const OPENCV = createRequire(import.meta.url).resolve('@techstark/opencv-js');

export class OrbWorker {
  private channel: WorkerChannel | undefined;
  private disposed = false;

  constructor(private readonly parameters: OrbParameters) {}

  /** `transfer`: buffers that move to the worker instead of being copied (they become empty here). */
  call<T>(op: OrbOp, message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('orb verifier: used after dispose()'));
    // A dead thread is left behind; the next call starts a fresh one.
    if (!this.channel || this.channel.failed) {
      this.channel = new WorkerChannel(ORB_WORKER_SOURCE, { opencv: OPENCV, orb: this.parameters }, 'orb verifier');
    }
    return this.channel.call<T>({ ...message, op }, transfer);
  }

  /** Stops the thread and fails the calls in flight; safe to call more than once. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await this.channel?.terminate(new Error('orb verifier: disposed while a call was in flight'));
  }
}
