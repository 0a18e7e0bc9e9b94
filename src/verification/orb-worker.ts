import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ORB_WORKER_SOURCE } from './orb-worker-source.js';

/**
 * OpenCV's WebAssembly build computes synchronously on the thread that calls it: on the main
 * thread a 40 ms match is 40 ms in which no request is read and no health check answered, and
 * loading the runtime blocks for most of a second. The verifier's OpenCV therefore lives in a
 * worker thread of its own, started on first use. A thread that dies (crash, trap, exit) fails
 * the calls in flight, and the next call starts a fresh one; after dispose() every call is
 * refused.
 */

export interface OrbParameters {
  features: number;
  ratio: number;
  ransacPixels: number;
}

const OPENCV = createRequire(import.meta.url).resolve('@techstark/opencv-js');

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string };

export class OrbWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private disposed = false;

  constructor(private readonly parameters: OrbParameters) {}

  /** `transfer`: buffers that move to the worker instead of being copied (they become empty here). */
  call<T>(op: 'load' | 'extract' | 'match', message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('orb verifier: used after dispose()'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (this.pending.size === 1) worker.ref();
      try {
        worker.postMessage({ ...message, op, id }, transfer);
      } catch (error) {
        this.settle({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
      }
    });
  }

  /** Stops the thread and fails the calls in flight; safe to call more than once. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    this.fail(worker, new Error('orb verifier: disposed while a call was in flight'));
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(ORB_WORKER_SOURCE, { eval: true, workerData: { opencv: OPENCV, orb: this.parameters } });
    // An idle worker must not keep the process alive; one with work in flight must.
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', (code) => this.fail(worker, new Error(`orb verifier: its worker thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new Error(reply.message));
  }

  /** Forgets a dead thread (later events of an already replaced one are ignored). */
  private fail(worker: Worker | undefined, error: Error): void {
    if (worker === undefined || worker !== this.worker) return;
    this.worker = undefined;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
