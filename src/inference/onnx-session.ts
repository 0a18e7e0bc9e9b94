import { availableParallelism } from 'node:os';
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
  /**
   * Runs that may execute side by side (default 1: one after another). Above 1 the session
   * keeps that many more copies of the model, each with intraOpThreads / sideBySide threads
   * (at least 1), beside the one with all intraOpThreads; see OnnxSession.run.
   */
  sideBySide?: number;
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

/** Intra-op threads of each narrow copy of a session with `sideBySide` copies (at least 1). */
export function narrowThreads(options: SessionOptions): number {
  return Math.max(1, Math.floor((options.intraOpThreads || availableParallelism()) / (options.sideBySide ?? 1)));
}

/** Model runs in flight in this process, over all sessions: they share the same cores. */
let runsInFlight = 0;

/** A worker thread with its session, and the runs sent to it that have not returned. */
interface Replica {
  worker: InferenceWorker;
  pending: number;
}

async function openReplica(source: string | Uint8Array, options: SessionOptions): Promise<{ replica: Replica; info: SessionInfo }> {
  const worker = new InferenceWorker();
  try {
    const info = await worker.call<SessionInfo>({ op: 'create', source, options: ortSessionOptions(options) });
    return { replica: { worker, pending: 0 }, info };
  } catch (error) {
    await worker.terminate();
    throw error;
  }
}

async function closeReplica({ worker }: Replica): Promise<void> {
  try {
    await worker.call({ op: 'release' });
  } finally {
    await worker.terminate();
  }
}

/** Feeds as the worker takes them: plain data with each tensor's type. */
function message(feeds: Record<string, InputTensor>): Record<string, { type: string; data: FeedData; dims: number[] }> {
  const out: Record<string, { type: string; data: FeedData; dims: number[] }> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = { type: feedType(t.data), data: t.data, dims: t.dims };
  return out;
}

/**
 * One onnxruntime session, hosted in a worker thread (inference-worker.ts) so that model runs do
 * not block the event loop. The only class in the application that touches onnxruntime.
 *
 * With `sideBySide` above 1 it becomes several sessions of the same model: a wide one with all
 * the intra-op threads, for a run alone on the machine (the lowest latency), and narrow ones
 * with a share of them, for runs beside others. onnxruntime splits each operator over its
 * threads and waits for the slowest at every step, so a wide run that shares its cores with a
 * second run, or with decoding, idles whenever one of its threads is preempted; narrow runs
 * side by side each keep their own core busy instead. A run goes to the wide session when no
 * other model run is in flight in the process, else to the least busy narrow one. The narrow
 * copies are opened (and warmed up) in the background the first time a run meets another, so a
 * service that never sees two requests at once never holds them; until they are open, runs
 * wait for the wide one.
 */
export class OnnxSession {
  private disposed = false;
  private readonly narrow: Replica[] = [];
  private opening: Promise<void> | undefined;

  private constructor(
    private readonly source: string | Uint8Array,
    private readonly wide: Replica,
    private readonly info: SessionInfo,
    readonly options: Readonly<SessionOptions>,
  ) {}

  static async create(source: string | Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> {
    const { replica, info } = await openReplica(source, options);
    return new OnnxSession(source, replica, info, { ...options });
  }

  /** Copies of the model open now: the wide one and the narrow ones opened so far. */
  get replicas(): number {
    return 1 + this.narrow.length;
  }

  /** Resolves once the narrow copies are open (at once if none were asked for or needed yet). */
  async sideBySideReady(): Promise<void> {
    await this.opening;
  }

  /** Opens the narrow copies, once, one after another, each warmed up before it takes runs. */
  private openNarrow(): void {
    const count = this.options.sideBySide ?? 1;
    if (this.opening || count <= 1) return;
    const threads = narrowThreads(this.options);
    const warm = message(zeroFeeds(this));
    this.opening = (async () => {
      while (this.narrow.length < count && !this.disposed) {
        const { replica } = await openReplica(this.source, { ...this.options, intraOpThreads: threads });
        // Zeros with symbolic dimensions taken as 1 may not suit every model: a failed warm-up
        // only means the first real run on this copy pays for its allocations.
        await replica.worker.call({ op: 'run', feeds: warm }).catch(() => undefined);
        if (this.disposed) return closeReplica(replica);
        this.narrow.push(replica);
      }
    })().catch(() => {
      // A copy that cannot be opened (e.g. memory) leaves the runs to those that could.
    });
  }

  private pick(): Replica {
    if (runsInFlight === 0) return this.wide;
    this.openNarrow();
    if (this.narrow.length === 0) return this.wide;
    return this.narrow.reduce((a, b) => (b.pending < a.pending ? b : a));
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
   * `reuseInputs` takes them back. Each copy of the model runs one call at a time; the wide one
   * takes a run when nothing else runs, the narrow ones (sideBySide) the runs beside others.
   */
  async run(feeds: Record<string, InputTensor>, outputNames?: readonly string[], options: RunOptions = {}): Promise<Record<string, FloatTensor>> {
    if (this.disposed) throw new Error('onnx session: run after dispose');
    const transfer = options.transferInputs ? transferable(Object.values(feeds).map((t) => t.data)) : [];
    const reuse = transfer.length > 0 ? options.reuseInputs : undefined;
    const replica = this.pick();
    replica.pending++;
    runsInFlight++;
    try {
      const { outputs, inputs } = await replica.worker.call<{ outputs: Record<string, FloatTensor>; inputs?: ArrayBuffer[] }>(
        { op: 'run', feeds: message(feeds), ...(outputNames ? { outputNames: [...outputNames] } : {}), ...(reuse ? { returnInputs: true } : {}) },
        transfer,
      );
      if (reuse && inputs) reuse(inputs);
      return outputs;
    } finally {
      replica.pending--;
      runsInFlight--;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.opening;
    await Promise.all([this.wide, ...this.narrow].map(closeReplica));
  }
}

/** Zeros for every input of a session; symbolic dimensions (batch) are taken as 1. */
function zeroFeeds(session: OnnxSession): Record<string, InputTensor> {
  const feeds: Record<string, InputTensor> = {};
  for (const name of session.inputNames) {
    const dims = (session.inputShape(name) ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    const type = session.inputType(name);
    feeds[name] = { data: type === 'int64' ? new BigInt64Array(size) : type === 'int32' ? new Int32Array(size) : new Float32Array(size), dims };
  }
  return feeds;
}
