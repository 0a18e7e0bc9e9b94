import type { OnnxGraphBuilder } from '../onnx/onnx-graph-builder.js';
import { depthwiseToOihw, hwioToOihw, type WeightTensor } from './face-api-weights.js';

/** ONNX pads [top, left, bottom, right]. */
export type Pads = [number, number, number, number];

/**
 * TensorFlow 'SAME' padding along one axis. With stride 2 on an even size the total is odd and
 * TF puts the extra row/column at the end (bottom/right), which ONNX auto_pad would not match
 * reliably, so the pads are always written out explicitly.
 */
export function samePads(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Square-input TF 'SAME' pads in ONNX order. */
export function samePads2d(size: number, kernel: number, stride: number): Pads {
  const [before, after] = samePads(size, kernel, stride);
  return [before, before, after, after];
}

/** Output size of a conv/pool along one axis given explicit pads. */
export function convOutSize(size: number, kernel: number, stride: number, pads: [number, number]): number {
  return Math.floor((size + pads[0] + pads[1] - kernel) / stride) + 1;
}

export interface ConvOptions {
  stride?: number;
  pads?: Pads;
  /** Depthwise conv: the filter is [kh, kw, C, 1] and becomes a grouped conv with group = C. */
  depthwise?: boolean;
}

/** Adds a Conv node from a TF-layout filter (and optional bias); returns the output name. */
export function conv(
  g: OnnxGraphBuilder,
  x: string,
  filter: WeightTensor,
  bias: WeightTensor | undefined,
  options: ConvOptions = {},
): string {
  const { stride = 1, pads = [0, 0, 0, 0], depthwise = false } = options;
  const w = depthwise ? depthwiseToOihw(filter) : hwioToOihw(filter);
  const [cout, , kh, kw] = w.dims as [number, number, number, number];
  const inputs = [x, g.constant(filter.name, w.data, w.dims)];
  if (bias) {
    if (bias.data.length !== cout) throw new Error(`graph: bias ${bias.name} has ${bias.data.length} values for ${cout} filters`);
    inputs.push(g.constant(bias.name, bias.data, [cout]));
  }
  return g.op('Conv', inputs, {
    kernel_shape: [kh, kw],
    strides: [stride, stride],
    pads,
    dilations: [1, 1],
    group: depthwise ? cout : 1,
  });
}

/** A per-channel vector as an NCHW-broadcastable constant [C, 1, 1]. */
export function channelConstant(g: OnnxGraphBuilder, t: WeightTensor): string {
  return g.constant(t.name, t.data, [t.data.length, 1, 1]);
}

/** A float32 scalar constant. */
export function scalar(g: OnnxGraphBuilder, name: string, value: number): string {
  return g.constant(name, new Float32Array([value]), []);
}

/** An int64 vector constant (shapes, pads, slice bounds). */
export function int64s(g: OnnxGraphBuilder, name: string, values: number[]): string {
  return g.constant(name, BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
}
