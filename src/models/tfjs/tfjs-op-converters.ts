import { float } from '../onnx/onnx-graph-builder.js';
import type { ConvertContext, ImportedValue, OpConverter } from './tfjs-import-context.js';
import { depthwiseToOihw, hwioToOihw, nchwAxis } from './tfjs-layout.js';

/**
 * One converter per supported TF op. The set covers MobileNet-style detectors (convolutions with
 * fused bias and activation, depthwise convolutions, hard-swish arithmetic, squeeze-excite means,
 * upsampling and concatenation); anything else is refused by name before a node is written.
 */

const nchwValue = (name: string): ImportedValue => ({ kind: 'value', name, rank: 4, nchw: true });

/** Input `i` as a 4-D NCHW activation. */
function activation(ctx: ConvertContext, i: number): string {
  const x = ctx.input(i);
  if (x.kind !== 'value' || !x.nchw) ctx.fail(`input ${i} must be a 4-D activation`);
  return x.name;
}

function requireNhwc(ctx: ConvertContext): void {
  const format = ctx.str('data_format', 'NHWC');
  if (format !== 'NHWC') ctx.fail(`data_format ${format} is not supported (only NHWC)`);
}

/** [1, h, w, 1] attribute lists (strides, dilations, ksize) to ONNX's [h, w]. */
function spatial(ctx: ConvertContext, attr: string): [number, number] {
  const list = ctx.intList(attr, [1, 1, 1, 1]);
  if (list.length !== 4 || list[0] !== 1 || list[3] !== 1) ctx.fail(`${attr} [${list.join(', ')}] must be [1, h, w, 1]`);
  return [list[1]!, list[2]!];
}

/**
 * TF padding to ONNX: SAME puts the odd extra row/column last, which is auto_pad SAME_UPPER.
 * onnxruntime refuses auto_pad with dilation; TF allows dilation only with stride 1, where the
 * SAME padding is (kernel - 1) * dilation whatever the input size, so it is written out.
 */
function padding(ctx: ConvertContext, kernel: [number, number] = [1, 1]): { auto_pad: string } | { pads: number[] } {
  const mode = ctx.str('padding');
  const dilations = ctx.node.attr?.dilations ? spatial(ctx, 'dilations') : [1, 1];
  if (mode === 'SAME' && dilations.some((d) => d > 1)) {
    if (spatial(ctx, 'strides').some((s) => s > 1)) ctx.fail('dilation with a stride above 1 is not supported');
    const [top, left] = dilations.map((d, i) => Math.floor(((kernel[i]! - 1) * d) / 2)) as [number, number];
    const [bottom, right] = dilations.map((d, i) => (kernel[i]! - 1) * d - [top, left][i]!) as [number, number];
    return { pads: [top, left, bottom, right] };
  }
  if (mode === 'SAME') return { auto_pad: 'SAME_UPPER' };
  if (mode === 'VALID') return { auto_pad: 'VALID' };
  if (mode === 'EXPLICIT') {
    const p = ctx.intList('explicit_paddings');
    if (p.length !== 8) ctx.fail(`explicit_paddings has ${p.length} values, expected 8`);
    return { pads: [p[2]!, p[4]!, p[3]!, p[5]!] };
  }
  return ctx.fail(`padding ${mode} is not supported`);
}

const ACTIVATIONS: Record<string, (ctx: ConvertContext, x: string) => string> = {
  Relu: (ctx, x) => ctx.g.op('Relu', [x]),
  Relu6: (ctx, x) =>
    ctx.g.op('Clip', [x, ctx.writeConstant('tfjs-import/relu6-min', new Float32Array([0]), []), ctx.writeConstant('tfjs-import/relu6-max', new Float32Array([6]), [])]),
  Sigmoid: (ctx, x) => ctx.g.op('Sigmoid', [x]),
  Tanh: (ctx, x) => ctx.g.op('Tanh', [x]),
  Elu: (ctx, x) => ctx.g.op('Elu', [x], { alpha: float(1) }),
  LeakyRelu: (ctx, x) => ctx.g.op('LeakyRelu', [x], { alpha: float(ctx.float('leakyrelu_alpha', ctx.float('alpha', 0.2))) }),
};

/** Conv2D / DepthwiseConv2dNative, plain or with fused BiasAdd and one activation. */
function convolution(depthwise: boolean): OpConverter {
  return (ctx) => {
    requireNhwc(ctx);
    const x = activation(ctx, 0);
    const filter = ctx.constant(1, 'filter');
    const data = filter.data;
    if (filter.shape.length !== 4 || !(data instanceof Float32Array)) return ctx.fail(`filter ${filter.name} must be a 4-D float tensor`);
    const w = depthwise ? depthwiseToOihw(data, filter.shape) : hwioToOihw(data, filter.shape);
    const [cout, , kh, kw] = w.dims as [number, number, number, number];
    const inputs = [x, ctx.writeConstant(`${filter.name}/oihw`, w.data, w.dims)];
    const fused = ctx.node.op.includes('Fused') ? ctx.strs('fused_ops') : [];
    if (fused.length > 0) {
      const [first, act, ...rest] = fused;
      if (first !== 'BiasAdd' || rest.length > 0 || (act !== undefined && !ACTIVATIONS[act])) {
        ctx.fail(`fused ops [${fused.join(', ')}] are not supported (BiasAdd, then optionally one of ${Object.keys(ACTIVATIONS).join(', ')})`);
      }
      const bias = ctx.constant(2, 'bias');
      if (bias.data.length !== cout) ctx.fail(`bias ${bias.name} has ${bias.data.length} values for ${cout} filters`);
      inputs.push(ctx.writeConstant(bias.name, bias.data, [cout]));
    }
    const y = ctx.g.op('Conv', inputs, {
      kernel_shape: [kh, kw],
      strides: spatial(ctx, 'strides'),
      dilations: spatial(ctx, 'dilations'),
      group: depthwise ? filter.shape[2]! : 1,
      ...padding(ctx, [kh, kw]),
    });
    const act = fused[1];
    return nchwValue(act ? ACTIVATIONS[act]!(ctx, y) : y);
  };
}

/** Elementwise binary op with NumPy broadcasting; constants are re-shaped for NCHW operands. */
function binary(onnxOp: string): OpConverter {
  return (ctx) => {
    const operands = [ctx.input(0), ctx.input(1)];
    const nchw = operands.some((v) => v.kind === 'value' && v.nchw);
    if (nchw && operands.some((v) => v.kind === 'value' && !v.nchw && v.rank > 0)) {
      ctx.fail('mixes a 4-D activation with a non-4-D computed tensor (layout cannot be tracked)');
    }
    const [a, b] = [ctx.value(0, { nchwBroadcast: nchw }), ctx.value(1, { nchwBroadcast: nchw })];
    return { kind: 'value', name: ctx.g.op(onnxOp, [a.name, b.name]), rank: Math.max(a.rank, b.rank), nchw };
  };
}

function unary(apply: (ctx: ConvertContext, x: string) => string): OpConverter {
  return (ctx) => {
    const x = ctx.value(0);
    return { kind: 'value', name: apply(ctx, x.name), rank: x.rank, nchw: x.nchw };
  };
}

function reduction(onnxOp: 'ReduceMean' | 'ReduceMax'): OpConverter {
  return (ctx) => {
    const x = ctx.input(0);
    if (x.kind !== 'value') return ctx.fail('reducing a constant is not supported');
    const keep = ctx.bool('keep_dims', false);
    const axes = [...new Set(ctx.ints(1, 'reduction indices').map((a) => (a < 0 ? a + x.rank : a)))].sort();
    if (!keep && x.nchw) {
      const left = [0, 1, 2, 3].filter((a) => !axes.includes(a));
      if (left.includes(3) && (left.includes(1) || left.includes(2))) ctx.fail('dropping axes would reorder channels and space');
    }
    const onnxAxes = (x.nchw ? axes.map(nchwAxis) : axes).sort();
    const y = ctx.g.op(onnxOp, [x.name], { axes: onnxAxes, keepdims: keep ? 1 : 0 });
    return { kind: 'value', name: y, rank: keep ? x.rank : x.rank - axes.length, nchw: keep && x.nchw };
  };
}

const concat: OpConverter = (ctx) => {
  const count = ctx.inputs.length - 1;
  const [axis] = ctx.ints(count, 'axis');
  const parts = ctx.inputs.slice(0, count);
  const nchw = parts.some((p) => p.kind === 'value' && p.nchw);
  if (nchw && parts.some((p) => p.kind !== 'value' || !p.nchw)) ctx.fail('concatenates a 4-D activation with another kind of tensor');
  const names = parts.map((_, i) => ctx.value(i).name);
  const rank = ctx.value(0).rank;
  const a = axis! < 0 ? axis! + rank : axis!;
  return { kind: 'value', name: ctx.g.op('Concat', names, { axis: nchw ? nchwAxis(a) : a }), rank, nchw };
};

/** ResizeBilinear to a constant size; TF's two flags pick ONNX's coordinate transformation. */
const resizeBilinear: OpConverter = (ctx) => {
  const x = activation(ctx, 0);
  const size = ctx.ints(1, 'size');
  if (size.length !== 2) ctx.fail(`size has ${size.length} values, expected 2`);
  const alignCorners = ctx.bool('align_corners', false);
  const halfPixel = ctx.bool('half_pixel_centers', false);
  if (alignCorners && halfPixel) ctx.fail('align_corners together with half_pixel_centers is not supported');
  const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
  const int64 = (name: string, values: number[]) => ctx.writeConstant(name, BigInt64Array.from(values.map(BigInt)), [values.length]);
  // sizes must name all four axes; batch and channels come from the input's own shape.
  const batchChannels = ctx.g.op('Slice', [ctx.g.op('Shape', [x]), int64('tfjs-import/zero', [0]), int64('tfjs-import/two', [2])]);
  const sizes = ctx.g.op('Concat', [batchChannels, int64(`${ctx.node.name}/sizes`, size)], { axis: 0 });
  return nchwValue(ctx.g.op('Resize', [x, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: mode }));
};

function pooling(onnxOp: 'MaxPool' | 'AveragePool'): OpConverter {
  return (ctx) => {
    requireNhwc(ctx);
    const x = activation(ctx, 0);
    // TF's SAME average pooling divides by the valid pixels only: ONNX count_include_pad = 0.
    return nchwValue(ctx.g.op(onnxOp, [x], { kernel_shape: spatial(ctx, 'ksize'), strides: spatial(ctx, 'strides'), ...padding(ctx) }));
  };
}

const identity: OpConverter = (ctx) => ctx.input(0);

/** TF op name to converter. `Const` and `Placeholder` are handled by the importer itself. */
export const OP_CONVERTERS: Readonly<Record<string, OpConverter>> = {
  Conv2D: convolution(false),
  _FusedConv2D: convolution(false),
  DepthwiseConv2dNative: convolution(true),
  FusedDepthwiseConv2dNative: convolution(true),
  Add: binary('Add'),
  AddV2: binary('Add'),
  BiasAdd: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Maximum: binary('Max'),
  Minimum: binary('Min'),
  Relu: unary(ACTIVATIONS.Relu!),
  Relu6: unary(ACTIVATIONS.Relu6!),
  Sigmoid: unary(ACTIVATIONS.Sigmoid!),
  Tanh: unary(ACTIVATIONS.Tanh!),
  Elu: unary(ACTIVATIONS.Elu!),
  LeakyRelu: unary(ACTIVATIONS.LeakyRelu!),
  Mean: reduction('ReduceMean'),
  Max: reduction('ReduceMax'),
  ConcatV2: concat,
  ResizeBilinear: resizeBilinear,
  MaxPool: pooling('MaxPool'),
  AvgPool: pooling('AveragePool'),
  Identity: identity,
};
