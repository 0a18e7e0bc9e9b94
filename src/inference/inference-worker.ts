import { createRequire } from 'node:module';
import { WorkerChannel } from '../core/worker-channel.js';

/**
 * onnxruntime-node runs a model synchronously on the calling thread: on the main thread a 60 ms
 * detector run is 60 ms in which no request is read, no response written, no health check
 * answered. Each session therefore lives in a worker thread of its own, which is also the
 * thread onnxruntime computes on (with intra-op threads beside it).
 *
 * The worker is plain CommonJS given as source, so that it runs the same whether the service runs
 * from dist/ or from the TypeScript sources (tests, tsx): a worker cannot inherit a TypeScript
 * loader. It is a fixed string of this module, never built from input.
 */
const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.onnxruntime);
const NUMERIC = new Set(['float32', 'float64', 'int32', 'int64', 'int16', 'int8', 'uint8', 'uint16', 'uint32']);
let session;

// Integer outputs (counts, class ids) are widened to float32; anything else is refused.
function toFloat(name, t) {
  if (t.type === 'float32') return { data: t.data, dims: Array.from(t.dims) };
  if (!NUMERIC.has(t.type)) throw new Error('onnx session: output ' + name + ' is ' + t.type + ', expected a number type');
  const data = new Float32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) data[i] = Number(t.data[i]);
  return { data, dims: Array.from(t.dims) };
}

async function handle(m) {
  if (m.op === 'create') {
    session = await ort.InferenceSession.create(m.source, m.options);
    return { inputNames: session.inputNames, outputNames: session.outputNames, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata };
  }
  if (m.op === 'run') {
    const feeds = {};
    for (const name of Object.keys(m.feeds)) feeds[name] = new ort.Tensor(m.feeds[name].type, m.feeds[name].data, m.feeds[name].dims);
    const outputs = m.outputNames ? await session.run(feeds, m.outputNames) : await session.run(feeds);
    const result = {};
    for (const name of Object.keys(outputs)) result[name] = toFloat(name, outputs[name]);
    // Inputs the caller handed over and wants back (for reuse): onnxruntime is done with them.
    const inputs = m.returnInputs ? Array.from(new Set(Object.values(m.feeds).map((f) => f.data.buffer))) : undefined;
    return { outputs: result, inputs };
  }
  if (m.op === 'release') {
    if (session) await session.release();
    session = undefined;
    return null;
  }
  throw new Error('onnx session worker: unknown operation ' + m.op);
}

parentPort.on('message', async (m) => {
  let value;
  try {
    value = await handle(m);
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) });
    return;
  }
  // Output buffers (and returned inputs) move to the caller instead of being copied, when
  // onnxruntime lets them go.
  const transfer = value && m.op === 'run' ? Array.from(new Set([...Object.values(value.outputs).map((t) => t.data.buffer), ...(value.inputs || [])])) : [];
  try {
    parentPort.postMessage({ id: m.id, ok: true, value }, transfer);
  } catch {
    parentPort.postMessage({ id: m.id, ok: true, value });
  }
});
`;

const ONNXRUNTIME = createRequire(import.meta.url).resolve('onnxruntime-node');

/** One worker thread hosting one onnxruntime session; requests are answered in order. */
export class InferenceWorker {
  private readonly channel = new WorkerChannel(WORKER_SOURCE, { onnxruntime: ONNXRUNTIME }, 'onnx session');

  /** `transfer`: buffers that move to the worker instead of being copied (they become empty here). */
  call<T>(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    return this.channel.call<T>(message, transfer);
  }

  async terminate(): Promise<void> {
    await this.channel.terminate(new Error('onnx session: its worker thread was stopped'));
  }
}
