import { float16ToFloat32 } from '../../../../src/models/tfjs/tfjs-weights.js';

/**
 * Builds small TFJS graph models by hand, in the same JSON form the tfjs converter writes, so
 * that tfjs itself and the ONNX import can run the same graph.
 */

type Dtype = 'float32' | 'int32';
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: Dtype;
  quantization?: { dtype: 'float16' | 'uint8'; scale?: number; min?: number; original_dtype?: string };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ints = (values: number[]) => ({ list: { i: values.map(String) } });

/** Half-precision bit patterns of exactly representable values, found by decoding every pattern. */
let halfBits: Map<number, number> | undefined;
function toHalf(value: number): number {
  halfBits ??= new Map(Array.from({ length: 0x7c00 }, (_, bits) => [float16ToFloat32(bits), bits] as const).flatMap(([v, b]) => [[v, b], [-v, b | 0x8000]] as const));
  const bits = halfBits.get(value);
  if (bits === undefined) throw new Error(`${value} is not exactly representable in float16`);
  return bits;
}

export class TestGraph {
  readonly nodes: Record<string, unknown>[] = [];
  private readonly specs: WeightSpec[] = [];
  private readonly chunks: Buffer[] = [];
  private seed = 1;

  /** Deterministic values k / 32 in [-1, 1]: exact in float16 and in uint8 with scale 1/32. */
  values(count: number): number[] {
    return Array.from({ length: count }, () => {
      this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31;
      return ((this.seed >> 8) % 65) / 32 - 1;
    });
  }

  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } }, dtype: { type: 'DT_FLOAT' } } });
    return name;
  }

  constant(name: string, shape: number[], values: number[], storage: 'float32' | 'float16' | 'uint8' | 'int32' = 'float32'): string {
    const dtype: Dtype = storage === 'int32' ? 'int32' : 'float32';
    this.nodes.push({
      name,
      op: 'Const',
      attr: { value: { tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } },
    });
    const spec: WeightSpec = { name, shape, dtype };
    if (storage === 'float16') {
      spec.quantization = { dtype: 'float16', original_dtype: 'float32' };
      this.chunks.push(Buffer.from(Uint16Array.from(values.map(toHalf)).buffer));
    } else if (storage === 'uint8') {
      spec.quantization = { dtype: 'uint8', scale: 1 / 32, min: -1, original_dtype: 'float32' };
      this.chunks.push(Buffer.from(Uint8Array.from(values.map((v) => Math.round((v + 1) * 32)))));
    } else {
      this.chunks.push(Buffer.from((dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values)).buffer));
    }
    this.specs.push(spec);
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: { type: 'DT_FLOAT' }, ...attr } });
    return name;
  }

  conv(name: string, x: string, filterShape: number[], options: { depthwise?: boolean; stride?: number; padding?: string; fused?: string[]; dilation?: number; explicit?: number[]; storage?: 'float32' | 'float16' | 'uint8' } = {}): string {
    const filter = this.constant(`${name}/w`, filterShape, this.values(filterShape.reduce((a, b) => a * b, 1)), options.storage);
    const s = options.stride ?? 1;
    const d = options.dilation ?? 1;
    const attr: Record<string, unknown> = {
      strides: ints([1, s, s, 1]),
      dilations: ints([1, d, d, 1]),
      padding: { s: b64(options.padding ?? 'SAME') },
      data_format: { s: b64('NHWC') },
      explicit_paddings: ints(options.explicit ?? []),
    };
    const inputs = [x, filter];
    let op = options.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
    if (options.fused) {
      op = options.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D';
      const outChannels = options.depthwise ? filterShape[2]! * filterShape[3]! : filterShape[3]!;
      inputs.push(this.constant(`${name}/b`, [outChannels], this.values(outChannels)));
      Object.assign(attr, { fused_ops: { list: { s: options.fused.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 } });
    }
    return this.op(name, op, inputs, attr);
  }

  /** model.json object and weight bytes, as the tfjs converter writes them. */
  build(): { json: Record<string, unknown>; weights: Uint8Array } {
    const json = {
      format: 'graph-model',
      generatedBy: 'test',
      convertedBy: 'test',
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.specs }],
    };
    return { json, weights: new Uint8Array(Buffer.concat(this.chunks)) };
  }
}

export { b64, ints };
