import type { OnnxGraphBuilder } from '../onnx/onnx-graph-builder.js';
import type { TfjsAttr, TfjsNode } from './tfjs-graph-model.js';
import { broadcastToNchw } from './tfjs-layout.js';
import type { TfjsTensor } from './tfjs-weights.js';

/** An import failure that names the node and op; the message is meant for the model's owner. */
export class TfjsImportError extends Error {
  override name = 'TfjsImportError';
}

/**
 * A converted TF tensor: an ONNX value with its rank (4-D activations are NCHW in the ONNX
 * graph), or a TF constant that is written to the graph only once a consumer says in which
 * form it needs it (filter layout, broadcast shape, or as plain numbers such as axes).
 */
export type ImportedValue =
  | { kind: 'value'; name: string; rank: number; nchw: boolean }
  | { kind: 'const'; tensor: TfjsTensor };

/** What an op converter gets: the node, its data inputs and ways to read or write them. */
export class ConvertContext {
  constructor(
    readonly g: OnnxGraphBuilder,
    readonly node: TfjsNode,
    readonly inputs: readonly ImportedValue[],
    private readonly constants: Map<string, string>,
  ) {}

  fail(reason: string): never {
    throw new TfjsImportError(`tfjs import: node "${this.node.name}" (${this.node.op}): ${reason}`);
  }

  input(i: number): ImportedValue {
    const value = this.inputs[i];
    if (!value) this.fail(`expected at least ${i + 1} input(s), got ${this.inputs.length}`);
    return value;
  }

  /** Input `i`, which must be a constant (filters, biases, axes, sizes). */
  constant(i: number, what: string): TfjsTensor {
    const value = this.input(i);
    if (value.kind !== 'const') this.fail(`the ${what} (input ${i}) must be a constant`);
    return value.tensor;
  }

  /** Integer values of a constant input (axes, sizes). */
  ints(i: number, what: string): number[] {
    return Array.from(this.constant(i, what).data, (v) => Math.round(v));
  }

  /** Input `i` as an ONNX value; a constant is written as it is (or broadcast for NCHW). */
  value(i: number, options: { nchwBroadcast?: boolean } = {}): { name: string; rank: number; nchw: boolean } {
    const value = this.input(i);
    if (value.kind === 'value') return value;
    const t = value.tensor;
    const broadcast = options.nchwBroadcast === true && t.shape.length > 0;
    const written = broadcast ? broadcastToNchw(t.data, t.shape) : { data: t.data, dims: [...t.shape] };
    const name = this.writeConstant(`${t.name}${broadcast ? '/nchw' : ''}`, written.data, written.dims);
    return { name, rank: broadcast ? 4 : t.shape.length, nchw: false };
  }

  /** Writes a constant once per name; later requests reuse it. */
  writeConstant(name: string, data: Float32Array | Int32Array | BigInt64Array, dims: number[]): string {
    const existing = this.constants.get(name);
    if (existing) return existing;
    const written = this.g.constant(name, data, dims);
    this.constants.set(name, written);
    return written;
  }

  attr(name: string): TfjsAttr | undefined {
    return this.node.attr?.[name];
  }

  str(name: string, fallback?: string): string {
    const s = this.attr(name)?.s;
    if (s === undefined) {
      if (fallback !== undefined) return fallback;
      this.fail(`attribute ${name} is missing`);
    }
    return Buffer.from(s, 'base64').toString('utf8');
  }

  strs(name: string): string[] {
    return (this.attr(name)?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
  }

  intList(name: string, fallback?: number[]): number[] {
    const list = this.attr(name)?.list?.i;
    if (!list || list.length === 0) {
      if (fallback) return fallback;
      this.fail(`attribute ${name} is missing`);
    }
    return list.map(Number);
  }

  bool(name: string, fallback: boolean): boolean {
    return this.attr(name)?.b ?? fallback;
  }

  float(name: string, fallback: number): number {
    return this.attr(name)?.f ?? fallback;
  }
}

/** An op converter: writes ONNX nodes for one TF node and returns its output(s). */
export type OpConverter = (ctx: ConvertContext) => ImportedValue | ImportedValue[];
