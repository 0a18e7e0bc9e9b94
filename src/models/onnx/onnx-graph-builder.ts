import { ModelProto, OnnxAttributeType, OnnxDataType } from './onnx-proto.js';

/** A float attribute that happens to hold an integral value (e.g. alpha = 1). */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const float = (value: number): FloatAttr => new FloatAttr(value);

export type AttrValue = number | FloatAttr | string | number[];
type TensorData = Float32Array | Int32Array | BigInt64Array;
export type ElementType = 'float32' | 'int32' | 'int64';
const ELEMENT_TYPES: Record<ElementType, number> = { float32: OnnxDataType.FLOAT, int32: OnnxDataType.INT32, int64: OnnxDataType.INT64 };
interface ValueInfo {
  name: string;
  dims: (number | string)[];
  type: ElementType;
}

interface Attribute {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: Uint8Array;
  ints?: number[];
}

interface Node {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}

function toAttribute(name: string, value: AttrValue): Attribute {
  if (value instanceof FloatAttr) return { name, type: OnnxAttributeType.FLOAT, f: value.value };
  if (typeof value === 'string') {
    return { name, type: OnnxAttributeType.STRING, s: new TextEncoder().encode(value) };
  }
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) throw new Error(`attribute ${name}: only integer lists are supported`);
    return { name, type: OnnxAttributeType.INTS, ints: value };
  }
  return Number.isInteger(value)
    ? { name, type: OnnxAttributeType.INT, i: value }
    : { name, type: OnnxAttributeType.FLOAT, f: value };
}

function dataTypeOf(data: TensorData): number {
  if (data instanceof Float32Array) return OnnxDataType.FLOAT;
  if (data instanceof Int32Array) return OnnxDataType.INT32;
  return OnnxDataType.INT64;
}

/**
 * Builds an ONNX graph node by node and serialises it. Names are generated from a counter, so
 * the same sequence of calls always yields the same bytes (deterministic model builds).
 */
export class OnnxGraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers: { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private counter = 0;

  constructor(private readonly graphName: string) {}

  /** A graph input; float32 unless `type` says otherwise (e.g. int64 masks, int32 counts). */
  input(name: string, dims: (number | string)[], type: ElementType = 'float32'): string {
    this.inputs.push({ name, dims, type });
    return name;
  }

  output(name: string, dims: (number | string)[], type: ElementType = 'float32'): void {
    this.outputs.push({ name, dims, type });
  }

  /** Adds a constant tensor and returns its name. */
  constant(name: string, data: TensorData, dims: number[]): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) {
      throw new Error(`constant ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    }
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, data_type: dataTypeOf(data), raw_data: raw });
    return name;
  }

  /** Adds a node with one output and returns the output's name (or `outputName` if given). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputName?: string): string {
    return this.opMulti(opType, inputs, 1, attrs, outputName ? [outputName] : undefined)[0]!;
  }

  opMulti(
    opType: string,
    inputs: string[],
    outputCount: number,
    attrs: Record<string, AttrValue> = {},
    outputNames?: string[],
  ): string[] {
    const id = this.counter++;
    const name = `${opType.toLowerCase()}_${id}`;
    const output = outputNames ?? Array.from({ length: outputCount }, (_, k) => `${name}:${k}`);
    const attribute = Object.entries(attrs).map(([key, value]) => toAttribute(key, value));
    this.nodes.push({ name, op_type: opType, input: inputs, output, attribute });
    return output;
  }

  toBytes(meta: { producer: string; version: string; opset?: number; doc?: string }): Uint8Array {
    const valueInfo = (v: ValueInfo) => ({
      name: v.name,
      type: {
        tensor_type: {
          elem_type: ELEMENT_TYPES[v.type],
          shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
        },
      },
    });
    const model = {
      ir_version: 8,
      producer_name: meta.producer,
      producer_version: meta.version,
      doc_string: meta.doc ?? '',
      opset_import: [{ domain: '', version: meta.opset ?? 17 }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    };
    const err = ModelProto.verify(model);
    if (err) throw new Error(`invalid ONNX model: ${err}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}
