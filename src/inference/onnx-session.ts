import * as ort from 'onnxruntime-node';

/** A float32 tensor as plain data, so nothing outside this folder sees onnxruntime types. */
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

export interface SessionOptions {
  /** Threads inside one operator; 0 or undefined lets onnxruntime choose (one per core). */
  intraOpThreads?: number;
  /** Threads across independent operators; only used by the parallel execution mode. */
  interOpThreads?: number;
  /** e.g. ['cpu']; defaults to CPU. */
  executionProviders?: string[];
}

/** One onnxruntime session. The only class in the application that touches onnxruntime. */
export class OnnxSession {
  private disposed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly options: Readonly<SessionOptions>,
  ) {}

  static async create(pathOrBytes: string | Uint8Array, options: SessionOptions = {}): Promise<OnnxSession> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionProviders: options.executionProviders ?? ['cpu'],
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
      ...(options.interOpThreads ? { interOpNumThreads: options.interOpThreads } : {}),
    };
    const session =
      typeof pathOrBytes === 'string'
        ? await ort.InferenceSession.create(pathOrBytes, sessionOptions)
        : await ort.InferenceSession.create(pathOrBytes, sessionOptions);
    return new OnnxSession(session, { ...options });
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Declared input shapes (symbolic dimensions as strings), by input name. */
  inputShape(name: string): (number | string)[] | undefined {
    const meta = this.session.inputMetadata.find((m) => m.name === name);
    return meta && meta.isTensor ? [...meta.shape] : undefined;
  }

  async run(feeds: Record<string, FloatTensor>): Promise<Record<string, FloatTensor>> {
    if (this.disposed) throw new Error('onnx session: run after dispose');
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor('float32', t.data, t.dims);
    const outputs = await this.session.run(inputs);
    const result: Record<string, FloatTensor> = {};
    for (const [name, t] of Object.entries(outputs)) {
      if (t.type !== 'float32') throw new Error(`onnx session: output ${name} is ${t.type}, expected float32`);
      result[name] = { data: t.data as Float32Array, dims: [...t.dims] };
    }
    return result;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

/**
 * Runs the session once on zeros so the first real request does not pay for lazy allocations.
 * Symbolic dimensions (batch) are taken as 1. Returns the time taken in milliseconds.
 */
export async function warmUp(session: OnnxSession, inputs?: Record<string, number[]>): Promise<number> {
  const feeds: Record<string, FloatTensor> = {};
  for (const name of session.inputNames) {
    const dims = inputs?.[name] ?? (session.inputShape(name) ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    feeds[name] = { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims };
  }
  const started = performance.now();
  await session.run(feeds);
  return performance.now() - started;
}
