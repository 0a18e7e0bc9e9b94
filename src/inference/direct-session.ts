import * as ort from 'onnxruntime-node';
import { ortSessionOptions, type InputTensor, type SessionOptions } from './onnx-session.js';

/**
 * An onnxruntime session on the calling thread, without the worker of OnnxSession, for timing a
 * model alone (benchmarks): `run` is onnxruntime's run and nothing else. It blocks the event loop
 * while it runs, so the service never uses it.
 */
export class DirectSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(pathOrBytes: string | Uint8Array, options: SessionOptions = {}): Promise<DirectSession> {
    const session =
      typeof pathOrBytes === 'string'
        ? await ort.InferenceSession.create(pathOrBytes, ortSessionOptions(options))
        : await ort.InferenceSession.create(pathOrBytes, ortSessionOptions(options));
    return new DirectSession(session);
  }

  /** Runs the model and drops the outputs; the inputs are wrapped, not copied. */
  async run(feeds: Record<string, InputTensor>): Promise<void> {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const type = t.data instanceof Float32Array ? 'float32' : t.data instanceof Int32Array ? 'int32' : 'int64';
      inputs[name] = new ort.Tensor(type, t.data, t.dims);
    }
    await this.session.run(inputs);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
