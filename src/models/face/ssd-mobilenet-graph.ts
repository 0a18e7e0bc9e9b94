import { OnnxGraphBuilder } from '../onnx/onnx-graph-builder.js';
import { weight, type WeightMap } from './face-api-weights.js';
import { conv, convOutSize, int64s, samePads, samePads2d, scalar } from './graph-layers.js';

/**
 * face-api's SsdMobilenetv1 face detector as an ONNX graph, box decoding included.
 * Input `input` [1, 3, 512, 512], already normalised: pixel / 127.5 - 1.
 * Outputs `boxes` [1, 5118, 4] as (y1, x1, y2, x2) relative to the input square (not clamped),
 * and `scores` [1, 5118] (sigmoid of the face class). Thresholds and NMS are left to the caller.
 */
export const SSD_INPUT = 'input';
export const SSD_BOXES = 'boxes';
export const SSD_SCORES = 'scores';
export const SSD_SIZE = 512;
export const SSD_ANCHORS = 5118;

const BN_EPSILON = 0.0010000000474974513;
const DOWNSAMPLING_BLOCKS = new Set([2, 4, 6, 12]);

interface Tensor {
  name: string;
  size: number;
}

/** TF-SAME conv + `convolution_bn_offset`, ReLU6 (the "pointwise" layer of face-api). */
function pointwise(g: OnnxGraphBuilder, w: WeightMap, x: Tensor, prefix: string, stride: number): Tensor {
  const filters = weight(w, `${prefix}/weights`);
  const k = filters.shape[0]!;
  const pads = samePads2d(x.size, k, stride);
  const out = conv(g, x.name, filters, weight(w, `${prefix}/convolution_bn_offset`), { stride, pads });
  return { name: relu6(g, out), size: convOutSize(x.size, k, stride, samePads(x.size, k, stride)) };
}

/** Clip's bounds are inputs (opset >= 11); every ReLU6 shares the same two constants. */
function relu6(g: OnnxGraphBuilder, x: string): string {
  return g.op('Clip', [x, 'relu6_min', 'relu6_max']);
}

function depthwise(g: OnnxGraphBuilder, w: WeightMap, x: Tensor, block: number): Tensor {
  const prefix = `MobilenetV1/Conv2d_${block}_depthwise`;
  const stride = DOWNSAMPLING_BLOCKS.has(block) ? 2 : 1;
  const pads = samePads2d(x.size, 3, stride);
  let out = conv(g, x.name, weight(w, `${prefix}/depthwise_weights`), undefined, { stride, pads, depthwise: true });
  const bn = (n: string) => {
    const t = weight(w, `${prefix}/BatchNorm/${n}`);
    return g.constant(t.name, t.data, [t.data.length]);
  };
  out = g.op('BatchNormalization', [out, bn('gamma'), bn('beta'), bn('moving_mean'), bn('moving_variance')], {
    epsilon: BN_EPSILON,
  });
  return { name: relu6(g, out), size: convOutSize(x.size, 3, stride, samePads(x.size, 3, stride)) };
}

/** A box predictor's 1x1 conv, laid out as TF's NHWC reshape [N, H * W * anchors, last]. */
function predictor(g: OnnxGraphBuilder, w: WeightMap, x: string, prefix: string, last: number): string {
  const out = conv(g, x, weight(w, `${prefix}/weights`), weight(w, `${prefix}/biases`));
  const nhwc = g.op('Transpose', [out], { perm: [0, 2, 3, 1] });
  return g.op('Reshape', [nhwc, int64s(g, `${prefix}/shape`, [0, -1, last])]);
}

/**
 * Anchor sizes and centres, computed in float32 the way face-api's outputLayer does
 * (size = a2 - a0; centre = a0 + size / 2), so the decode matches it bit for bit.
 */
function anchorTerms(anchors: Float32Array): { sizes: Float32Array; centres: Float32Array } {
  const f = Math.fround;
  const sizes = new Float32Array(SSD_ANCHORS * 2);
  const centres = new Float32Array(SSD_ANCHORS * 2);
  for (let i = 0; i < SSD_ANCHORS; i++) {
    for (let d = 0; d < 2; d++) {
      const size = f(anchors[i * 4 + 2 + d]! - anchors[i * 4 + d]!);
      sizes[i * 2 + d] = size;
      centres[i * 2 + d] = f(anchors[i * 4 + d]! + f(size / 2));
    }
  }
  return { sizes, centres };
}

function decodeBoxes(g: OnnxGraphBuilder, w: WeightMap, encodings: string): string {
  const { sizes, centres } = anchorTerms(weight(w, 'Output/extra_dim', [1, SSD_ANCHORS, 4]).data);
  const size = g.constant('anchor_sizes', sizes, [1, SSD_ANCHORS, 2]);
  const centre = g.constant('anchor_centres', centres, [1, SSD_ANCHORS, 2]);
  const axis = int64s(g, 'decode_axis', [2]);
  const yx = g.op('Slice', [encodings, int64s(g, 'decode_yx_begin', [0]), int64s(g, 'decode_yx_end', [2]), axis]);
  const hw = g.op('Slice', [encodings, int64s(g, 'decode_hw_begin', [2]), int64s(g, 'decode_hw_end', [4]), axis]);
  // centre' = enc / 10 * size + centre; half = exp(enc / 5) * size / 2
  const newCentre = g.op('Add', [g.op('Mul', [g.op('Div', [yx, scalar(g, 'ten', 10)]), size]), centre]);
  const half = g.op('Div', [g.op('Mul', [g.op('Exp', [g.op('Div', [hw, scalar(g, 'five', 5)])]), size]), scalar(g, 'two', 2)]);
  const lo = g.op('Sub', [newCentre, half]);
  const hi = g.op('Add', [newCentre, half]);
  return g.op('Concat', [lo, hi], { axis: 2 }, SSD_BOXES);
}

export function buildSsdMobilenetGraph(w: WeightMap): Uint8Array {
  const g = new OnnxGraphBuilder('ssd_mobilenetv1_face');
  const input = g.input(SSD_INPUT, [1, 3, SSD_SIZE, SSD_SIZE]);
  scalar(g, 'relu6_min', 0);
  scalar(g, 'relu6_max', 6);
  let x = pointwise(g, w, { name: input, size: SSD_SIZE }, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let block11: Tensor | undefined;
  for (let block = 1; block <= 13; block++) {
    x = depthwise(g, w, x, block);
    x = pointwise(g, w, x, `MobilenetV1/Conv2d_${block}_pointwise`, 1);
    if (block === 11) block11 = x;
  }
  if (block11?.size !== 32 || x.size !== 16) throw new Error(`graph: backbone gives ${block11?.size} / ${x.size}, expected 32 / 16`);

  // Extra feature maps: 1x1 stride 1 then 3x3 stride 2, four times (16 -> 8 -> 4 -> 2 -> 1).
  const extras: Tensor[] = [];
  let e = x;
  for (let i = 0; i < 8; i++) {
    e = pointwise(g, w, e, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
    if (i % 2 === 1) extras.push(e);
  }
  const sizes = extras.map((t) => t.size).join(',');
  if (sizes !== '8,4,2,1') throw new Error(`graph: extra layers give ${sizes}, expected 8,4,2,1`);

  const features = [block11, x, ...extras];
  const encodings: string[] = [];
  const classes: string[] = [];
  features.forEach((f, i) => {
    encodings.push(predictor(g, w, f.name, `Prediction/BoxPredictor_${i}/BoxEncodingPredictor`, 4));
    classes.push(predictor(g, w, f.name, `Prediction/BoxPredictor_${i}/ClassPredictor`, 3));
  });
  const allEncodings = g.op('Concat', encodings, { axis: 1 });
  const allClasses = g.op('Concat', classes, { axis: 1 });
  decodeBoxes(g, w, allEncodings);
  const faceLogit = g.op('Slice', [
    allClasses,
    int64s(g, 'class_begin', [1]),
    int64s(g, 'class_end', [2]),
    int64s(g, 'class_axis', [2]),
  ]);
  g.op('Squeeze', [g.op('Sigmoid', [faceLogit]), int64s(g, 'squeeze_axis', [2])], {}, SSD_SCORES);
  g.output(SSD_BOXES, [1, SSD_ANCHORS, 4]);
  g.output(SSD_SCORES, [1, SSD_ANCHORS]);
  return g.toBytes({
    producer: 'spotter-face-pack',
    version: '1',
    doc: 'face-api SsdMobilenetv1 face detector with box decoding, rebuilt from @vladmandic/face-api 1.7.15 weights',
  });
}
