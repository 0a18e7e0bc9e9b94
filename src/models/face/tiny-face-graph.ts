import { OnnxGraphBuilder } from '../onnx/onnx-graph-builder.js';
import { weight, type WeightMap } from './face-api-weights.js';
import { conv, convOutSize, samePads, samePads2d } from './graph-layers.js';

/**
 * face-api's TinyFaceDetector (Tiny-YOLOv2 with separable convs) as an ONNX graph.
 * Input `input` [1, 3, S, S] (S a multiple of 32, default 416), normalised
 * (pixel - [117.001, 114.697, 97.404]) / 255. Output `grid` [1, 25, S/32, S/32]: per cell 5 anchors
 * x (tx, ty, tw, th, objectness), channel = anchor * 5 + field. Decoding is in TypeScript.
 */
export const TINY_INPUT = 'input';
export const TINY_OUTPUT = 'grid';
export const TINY_DEFAULT_SIZE = 416;
export const TINY_ANCHORS: readonly [number, number][] = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
];

/** face-api's leaky() computes relu(x - 0.1x) + 0.1x with the float32 constant 0.1. */
const LEAKY_ALPHA = 0.10000000149011612;

interface Tensor {
  name: string;
  size: number;
}

/** Zero-pad 1, depthwise 3x3 + pointwise 1x1 (VALID), + bias, leaky ReLU. */
function separable(g: OnnxGraphBuilder, w: WeightMap, x: Tensor, prefix: string): Tensor {
  const dw = conv(g, x.name, weight(w, `${prefix}/depthwise_filter`), undefined, {
    pads: [1, 1, 1, 1],
    depthwise: true,
  });
  const pw = conv(g, dw, weight(w, `${prefix}/pointwise_filter`), weight(w, `${prefix}/bias`));
  return { name: g.op('LeakyRelu', [pw], { alpha: LEAKY_ALPHA }), size: x.size };
}

/** TF 'SAME' max-pool 2x2; padded cells never win (ONNX MaxPool pads act as -inf, like TF). */
function maxPool(g: OnnxGraphBuilder, x: Tensor, stride: number): Tensor {
  const pads = samePads2d(x.size, 2, stride);
  return {
    name: g.op('MaxPool', [x.name], { kernel_shape: [2, 2], strides: [stride, stride], pads }),
    size: convOutSize(x.size, 2, stride, samePads(x.size, 2, stride)),
  };
}

export function buildTinyFaceGraph(w: WeightMap, inputSize = TINY_DEFAULT_SIZE): Uint8Array {
  if (inputSize % 32 !== 0) throw new Error(`graph: tiny face input size ${inputSize} is not a multiple of 32`);
  const g = new OnnxGraphBuilder('tiny_face_detector');
  const input = g.input(TINY_INPUT, [1, 3, inputSize, inputSize]);
  const conv0 = conv(g, input, weight(w, 'conv0/filters', [3, 3, 3, 16]), weight(w, 'conv0/bias'));
  let x: Tensor = { name: g.op('LeakyRelu', [conv0], { alpha: LEAKY_ALPHA }), size: inputSize - 2 };
  x = maxPool(g, x, 2);
  for (let i = 1; i <= 5; i++) {
    x = separable(g, w, x, `conv${i}`);
    x = maxPool(g, x, i < 5 ? 2 : 1);
  }
  const cells = inputSize / 32;
  if (x.size !== cells) throw new Error(`graph: tiny backbone gives ${x.size}, expected ${cells}`);
  const head = conv(g, x.name, weight(w, 'conv8/filters', [1, 1, 512, 25]), weight(w, 'conv8/bias'));
  // Node outputs get counter-based names; an Identity gives the result its public name.
  g.op('Identity', [head], {}, TINY_OUTPUT);
  g.output(TINY_OUTPUT, [1, 25, cells, cells]);
  return g.toBytes({
    producer: 'spotter-face-pack',
    version: '1',
    doc: `face-api TinyFaceDetector (input ${inputSize}), rebuilt from @vladmandic/face-api 1.7.15 weights`,
  });
}
