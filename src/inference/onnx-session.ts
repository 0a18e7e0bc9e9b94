import type * as ort from 'onnxruntime-node';
import { InferenceWorker } from './inference-worker.js';

/** A float32 tensor as plain data, so nothing outside this folder sees onnxruntime types. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** Data of a model input: float32 images, or integer tensors (masks, shapes) some exports take. */
export type FeedData = Float32Array | Int32Array | BigInt64Array;
export interface InputTensor {
  data: FeedData;
  dims: number[];
}

function feedType(data: FeedData): 'float32' | 'int32' | 'int64' {
  if (data instanceof Float32Array) return 'float32';
  return data instanceof Int32Array ? 'int32' : 'int64';
}

export interface RunOptions {
  /** Hand the input buffers to the worker instead of copying them (see OnnxSession.run). */
  transferInputs?: boolean;
  /**
   * With `transferInputs`: the worker hands the input buffers back after the run, and they are
   * given to this function (e.g. a BufferPool's `give`) before `run` resolves.
   */
  reuseInputs?: (buffers: ArrayBuffer[]) => void;
}

/** The distinct plain ArrayBuffers behind some arrays (shared memory cannot be transferred). */
function transferable(arrays: FeedData[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
  return [...buffers];
}

/** What the worker reports of a new session (onnxruntime's own metadata, as plain data). */
interface SessionInfo {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

export interface SessionOptions {
  /** Threads inside one operator; 0 or undefined lets onnxruntime choose (one per core). */
  intraOpThreads?: number;
  /** Threads across independent operators; only used by the parallel execution mode. */
  interOpThreads?: number;
  /** e.g. ['cpu']; defaults to CPU. */
  executionProviders?: string[];
}

/**
 * onnxruntime's options for ours: full graph optimisation, CPU unless told otherwise, and
 * intra-op threads that sleep instead of spinning when they run out of work. By default a pool
 * keeps spinning after every run: measured on 2 cores with the SSD detector, a 100 ms idle gap
 * after a run cost 55 ms of CPU spinning against 0.2 ms sleeping, and that is the core that
 * decodes, preprocesses and answers HTTP for the next request. Back-to-back runs were as fast
 * either way (within the noise), and the service served more requests per second at
 * concurrency 4 without spinning. `session.force_spinning_stop` (spin inside a run, stop at its
 * end) measured no better. There is no inter-op setting: in sequential execution onnxruntime
 * creates no inter-op pool that could spin.
 */
export function ortSessionOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionProviders: options.executionProviders ?? ['cpu'],
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.interOpThreads ? { interOpNumThreads: options.interOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/**
 * One onnxruntime session, hosted in a worker thread (inference-worker.ts) so that model runs do
 * not block the event loop. The only class in the application that touches onnxruntime.
 */
export class OnnxSession {
  private disposed = false;

  private constructor(
    private readonly worker: InferenceWorker,
    private readonly info: SessionInfo,
    readonly options: Readonly<SessionOptions>,
  ) {}

  static async create(pathOrBytes: string | Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> {
    const worker = new InferenceWorker();
    try {
      const info = await worker.call<SessionInfo>({ op: 'create', source: pathOrBytes, options: ortSessionOptions(options) });
      return new OnnxSession(worker, info, { ...options });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  get inputNames(): readonly string[] {
    return this.info.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.info.outputNames;
  }

  /** Declared input shapes (symbolic dimensions as strings), by input name. */
  inputShape(name: string): (number | string)[] | undefined {
    const meta = this.info.inputMetadata.find((m) => m.name === name);
    return meta && meta.isTensor ? [...meta.shape] : undefined;
  }

  /** Declared output shapes (symbolic dimensions as strings), by output name. */
  outputShape(name: string): (number | string)[] | undefined {
    const meta = this.info.outputMetadata.find((m) => m.name === name);
    return meta && meta.isTensor ? [...meta.shape] : undefined;
  }

  /** Element type of an input as onnxruntime names it ('float32', 'int64', ...). */
  inputType(name: string): string | undefined {
    const meta = this.info.inputMetadata.find((m) => m.name === name);
    return meta && meta.isTensor ? meta.type : undefined;
  }

  /**
   * Runs the model. Integer outputs come back widened to float32. `outputNames` limits the run
   * to those outputs (the others are not computed). Inputs are copied to the worker, so the
   * caller keeps its arrays, unless `transferInputs` is set: then their buffers move to the
   * worker without a copy (a 512x512 image is 3 MB) and are empty afterwards, unless
   * `reuseInputs` takes them back. Runs of one session are executed one after another.
   */
  async run(feeds: Record<string, InputTensor>, outputNames?: readonly string[], options: RunOptions = {}): Promise<Record<string, FloatTensor>> {
    if (this.disposed) throw new Error('onnx session: run after dispose');
    const message: Record<string, { type: string; data: FeedData; dims: number[] }> = {};
    for (const [name, t] of Object.entries(feeds)) message[name] = { type: feedType(t.data), data: t.data, dims: t.dims };
    const transfer = options.transferInputs ? transferable(Object.values(feeds).map((t) => t.data)) : [];
    const reuse = transfer.length > 0 ? options.reuseInputs : undefined;
    const { outputs, inputs } = await this.worker.call<{ outputs: Record<string, FloatTensor>; inputs?: ArrayBuffer[] }>(
      { op: 'run', feeds: message, ...(outputNames ? { outputNames: [...outputNames] } : {}), ...(reuse ? { returnInputs: true } : {}) },
      transfer,
    );
    if (reuse && inputs) reuse(inputs);
    return outputs;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.worker.call({ op: 'release' });
    } finally {
      await this.worker.terminate();
    }
  }
}

/**
 * Runs the session once on zeros so the first real request does not pay for lazy allocations.
 * Symbolic dimensions (batch) are taken as 1. Returns the time taken in milliseconds.
 */
export async function warmUp(session: OnnxSession, inputs?: Record<string, number[]>): Promise<number> {
  const feeds: Record<string, InputTensor> = {};
  for (const name of session.inputNames) {
    const dims = inputs?.[name] ?? (session.inputShape(name) ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    const type = session.inputType(name);
    feeds[name] = { data: type === 'int64' ? new BigInt64Array(size) : type === 'int32' ? new Int32Array(size) : new Float32Array(size), dims };
  }
  const started = performance.now();
  await session.run(feeds);
  return performance.now() - started;
}
