import { OnnxGraphBuilder } from '../onnx/onnx-graph-builder.js';
import { weight, type WeightMap } from './face-api-weights.js';
import { channelConstant, conv, convOutSize, int64s } from './graph-layers.js';

/**
 * face-api's FaceRecognitionNet (a dlib-style ResNet-34 variant) as an ONNX graph.
 * Input `input` [N, 3, 150, 150], already normalised: (pixel - [122.782, 117.001, 104.298]) / 255.
 * Output `descriptor` [N, 128], raw (not L2-normalised), exactly what face-api returns.
 */
export const FACE_RESNET_INPUT = 'input';
export const FACE_RESNET_OUTPUT = 'descriptor';
export const FACE_RESNET_SIZE = 150;

interface Tensor {
  name: string;
  channels: number;
  size: number;
}

/** conv + bias, then the per-channel "scale" affine, then optional ReLU. */
function convUnit(
  g: OnnxGraphBuilder,
  w: WeightMap,
  x: Tensor,
  prefix: string,
  opts: { stride: number; same: boolean; relu: boolean },
): Tensor {
  const filters = weight(w, `${prefix}/conv/filters`);
  const [k, , cin, cout] = filters.shape as [number, number, number, number];
  if (cin !== x.channels) throw new Error(`graph: ${prefix} expects ${cin} channels, got ${x.channels}`);
  // Only stride-1 convs are SAME here, where TF pads symmetrically (k - 1) / 2.
  const p = opts.same ? (k - 1) / 2 : 0;
  let out = conv(g, x.name, filters, weight(w, `${prefix}/conv/bias`, [cout]), {
    stride: opts.stride,
    pads: [p, p, p, p],
  });
  out = g.op('Mul', [out, channelConstant(g, weight(w, `${prefix}/scale/weights`, [cout]))]);
  out = g.op('Add', [out, channelConstant(g, weight(w, `${prefix}/scale/biases`, [cout]))]);
  if (opts.relu) out = g.op('Relu', [out]);
  return { name: out, channels: cout, size: convOutSize(x.size, k, opts.stride, [p, p]) };
}

function residual(g: OnnxGraphBuilder, w: WeightMap, x: Tensor, prefix: string): Tensor {
  const a = convUnit(g, w, x, `${prefix}/conv1`, { stride: 1, same: true, relu: true });
  const b = convUnit(g, w, a, `${prefix}/conv2`, { stride: 1, same: true, relu: false });
  return { ...b, name: g.op('Relu', [g.op('Add', [b.name, x.name])]) };
}

/**
 * Down-sampling block. The conv path uses a VALID stride-2 conv, the shortcut a 2x2 average
 * pool; channels of the shortcut are zero-padded at the end when they double, and when the conv
 * path comes out one smaller (odd sizes: 8 -> 3 vs 4, 4 -> 1 vs 2) it gets one zero row at the
 * bottom and one zero column at the right, as face-api's residualDown does.
 */
function residualDown(g: OnnxGraphBuilder, w: WeightMap, x: Tensor, prefix: string): Tensor {
  const a = convUnit(g, w, x, `${prefix}/conv1`, { stride: 2, same: false, relu: true });
  let b = convUnit(g, w, a, `${prefix}/conv2`, { stride: 1, same: true, relu: false });
  let shortcut = g.op('AveragePool', [x.name], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] });
  const pooledSize = convOutSize(x.size, 2, 2, [0, 0]);
  if (b.channels !== x.channels) {
    const pads = int64s(g, `${prefix}/shortcut_pads`, [0, 0, 0, 0, 0, b.channels - x.channels, 0, 0]);
    shortcut = g.op('Pad', [shortcut, pads], { mode: 'constant' });
  }
  if (b.size !== pooledSize) {
    const grow = pooledSize - b.size;
    if (grow !== 1) throw new Error(`graph: ${prefix} conv path ${b.size} vs shortcut ${pooledSize}`);
    const pads = int64s(g, `${prefix}/conv_pads`, [0, 0, 0, 0, 0, 0, 1, 1]);
    b = { ...b, name: g.op('Pad', [b.name, pads], { mode: 'constant' }), size: pooledSize };
  }
  return { ...b, name: g.op('Relu', [g.op('Add', [b.name, shortcut])]) };
}

/** Expected [channels, size] after each stage, from face-api's FaceRecognitionNet. */
const STAGES: [string, 'residual' | 'down', number, number][] = [
  ['conv32_1', 'residual', 32, 35],
  ['conv32_2', 'residual', 32, 35],
  ['conv32_3', 'residual', 32, 35],
  ['conv64_down', 'down', 64, 17],
  ['conv64_1', 'residual', 64, 17],
  ['conv64_2', 'residual', 64, 17],
  ['conv64_3', 'residual', 64, 17],
  ['conv128_down', 'down', 128, 8],
  ['conv128_1', 'residual', 128, 8],
  ['conv128_2', 'residual', 128, 8],
  ['conv256_down', 'down', 256, 4],
  ['conv256_1', 'residual', 256, 4],
  ['conv256_2', 'residual', 256, 4],
  ['conv256_down_out', 'down', 256, 2],
];

export function buildFaceResnetGraph(w: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder('face_recognition_resnet');
  const input = g.input(FACE_RESNET_INPUT, ['batch', 3, FACE_RESNET_SIZE, FACE_RESNET_SIZE]);
  let x: Tensor = { name: input, channels: 3, size: FACE_RESNET_SIZE };
  x = convUnit(g, w, x, 'conv32_down', { stride: 2, same: false, relu: true });
  if (x.size !== 72) throw new Error(`graph: stem gives ${x.size}, expected 72`);
  x = {
    ...x,
    name: g.op('MaxPool', [x.name], { kernel_shape: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0] }),
    size: convOutSize(x.size, 3, 2, [0, 0]),
  };
  for (const [prefix, kind, channels, size] of STAGES) {
    x = kind === 'residual' ? residual(g, w, x, prefix) : residualDown(g, w, x, prefix);
    if (x.channels !== channels || x.size !== size) {
      throw new Error(`graph: ${prefix} gives ${x.channels}x${x.size}x${x.size}, expected ${channels}x${size}x${size}`);
    }
  }
  // The mean over H and W includes the zero row/column padded in by the last down block.
  const pooled = g.op('GlobalAveragePool', [x.name]);
  const flat = g.op('Flatten', [pooled], { axis: 1 });
  const fc = weight(w, 'fc', [256, 128]);
  g.op('MatMul', [flat, g.constant('fc', fc.data, [256, 128])], {}, FACE_RESNET_OUTPUT);
  g.output(FACE_RESNET_OUTPUT, ['batch', 128]);
  return g.toBytes({
    producer: 'spotter-face-pack',
    version: '1',
    doc: 'face-api FaceRecognitionNet (128-D, raw), rebuilt from @vladmandic/face-api 1.7.15 weights',
  });
}
