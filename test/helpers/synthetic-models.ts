import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnnxGraphBuilder } from '../../src/models/onnx/onnx-graph-builder.js';

/**
 * Tiny ONNX graphs with exactly the input and output names, shapes, element types and encodings
 * of public models (PaddleDetection PicoDet with and without NMS, Ultralytics YOLO v5/v8,
 * Hugging Face DETR / RT-DETR, PP-ShiTuV2 recognition, DINOv2 and CLIP vision as exported for
 * transformers.js). Detector outputs are constants chosen by the test, made to depend on every
 * input so onnxruntime keeps all inputs; embedder outputs are simple functions of the image
 * (patch means times a fixed matrix) so tests can compute the expected vector.
 */

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const meta = { producer: 'spotter-synthetic', version: '1', opset: 17 };

/** A scalar 0 that depends on each input (int inputs cast to float first). */
function zeroOf(g: OnnxGraphBuilder, inputs: { name: string; int?: boolean }[]): string {
  const zero = g.constant('zero', Float32Array.from([0]), []);
  let total = zero;
  for (const input of inputs) {
    const asFloat = input.int ? g.op('Cast', [input.name], { to: 1 }) : input.name;
    total = g.op('Add', [total, g.op('Mul', [g.op('ReduceMean', [asFloat], { keepdims: 0 }), zero])]);
  }
  return total;
}

function constantOutput(g: OnnxGraphBuilder, zero: string, name: string, data: Float32Array, dims: number[]): void {
  g.op('Add', [g.constant(`${name}_value`, data, dims), zero], {}, name);
}

/** A detection row as a PaddleDetection NMS export emits it, in model-input pixels. */
export type PicodetRow = [classId: number, score: number, x1: number, y1: number, x2: number, y2: number];

/**
 * PicoDet exported by paddle2onnx with NMS (PP-ShiTu mainbody detector): inputs `image`
 * [1, 3, 640, 640], `scale_factor` [1, 2] (y, x), `im_shape` [1, 2]; outputs
 * `multiclass_nms3_0.tmp_0` [N, 6] (class, score, x1, y1, x2, y2 divided by scale_factor, i.e. in
 * source pixels) and `multiclass_nms3_0.tmp_2` int32 [1], the count.
 */
export function picodetNmsModel(rows: PicodetRow[], options: { size?: number; count?: number } = {}): Uint8Array {
  const size = options.size ?? 640;
  const g = new OnnxGraphBuilder('picodet_nms');
  g.input('image', [1, 3, size, size]);
  g.input('scale_factor', [1, 2]);
  g.input('im_shape', [1, 2]);
  const zero = zeroOf(g, [{ name: 'image' }, { name: 'im_shape' }]);
  const n = rows.length;
  const clsScore = g.constant('cls_score', Float32Array.from(rows.flatMap((r) => [r[0], r[1]])), [n, 2]);
  const coords = g.constant('coords', Float32Array.from(rows.flatMap((r) => r.slice(2))), [n, 4]);
  const xyxy = g.op('Gather', ['scale_factor', g.constant('yx_to_xyxy', BigInt64Array.from([1n, 0n, 1n, 0n]), [4])], { axis: 1 });
  const scaled = g.op('Div', [coords, xyxy]);
  g.op('Concat', [g.op('Add', [clsScore, zero]), scaled], { axis: 1 }, 'multiclass_nms3_0.tmp_0');
  g.op('Identity', [g.constant('count', Int32Array.from([options.count ?? n]), [1])], {}, 'multiclass_nms3_0.tmp_2');
  g.output('multiclass_nms3_0.tmp_0', ['N', 6]);
  g.output('multiclass_nms3_0.tmp_2', [1], 'int32');
  return g.toBytes(meta);
}

/** PicoDet exported without NMS: `image` -> boxes [1, 8500, 4] (x1, y1, x2, y2) and scores [1, classes, 8500]. */
export const PICODET_RAW_OUTPUTS = ['concat_14.tmp_0', 'tmp_20'] as const;
export function picodetRawModel(boxes: number[][], scores: number[][], options: { anchors?: number } = {}): Uint8Array {
  const anchors = options.anchors ?? 8500;
  const classes = scores.length;
  const g = new OnnxGraphBuilder('picodet_raw');
  g.input('image', [1, 3, 640, 640]);
  g.input('scale_factor', [1, 2]);
  const zero = zeroOf(g, [{ name: 'image' }, { name: 'scale_factor' }]);
  const boxData = new Float32Array(anchors * 4);
  boxes.forEach((b, a) => boxData.set(b, a * 4));
  const scoreData = new Float32Array(classes * anchors);
  scores.forEach((row, c) => scoreData.set(row, c * anchors));
  constantOutput(g, zero, PICODET_RAW_OUTPUTS[0], boxData, [1, anchors, 4]);
  constantOutput(g, zero, PICODET_RAW_OUTPUTS[1], scoreData, [1, classes, anchors]);
  g.output(PICODET_RAW_OUTPUTS[0], [1, anchors, 4]);
  g.output(PICODET_RAW_OUTPUTS[1], [1, classes, anchors]);
  return g.toBytes(meta);
}

export interface YoloBox {
  anchor: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
  classId: number;
  score: number;
  objectness?: number;
}

/** Ultralytics YOLOv8/v11 export: `images` [1, 3, 640, 640] -> `output0` [1, 4 + classes, 8400]. */
export function yoloV8Model(boxes: YoloBox[], options: { classes?: number; anchors?: number } = {}): Uint8Array {
  const classes = options.classes ?? 80;
  const anchors = options.anchors ?? 8400;
  const rows = 4 + classes;
  const data = new Float32Array(rows * anchors);
  for (const b of boxes) {
    [b.cx, b.cy, b.w, b.h].forEach((v, r) => (data[r * anchors + b.anchor] = v));
    data[(4 + b.classId) * anchors + b.anchor] = b.score;
  }
  const g = new OnnxGraphBuilder('yolov8');
  g.input('images', [1, 3, 640, 640]);
  constantOutput(g, zeroOf(g, [{ name: 'images' }]), 'output0', data, [1, rows, anchors]);
  g.output('output0', [1, rows, anchors]);
  return g.toBytes(meta);
}

/** Ultralytics YOLOv5 export: `images` [1, 3, 640, 640] -> `output0` [1, 25200, 5 + classes]. */
export function yoloV5Model(boxes: YoloBox[], options: { classes?: number; anchors?: number } = {}): Uint8Array {
  const classes = options.classes ?? 80;
  const anchors = options.anchors ?? 25200;
  const columns = 5 + classes;
  const data = new Float32Array(anchors * columns);
  for (const b of boxes) {
    data.set([b.cx, b.cy, b.w, b.h, b.objectness ?? 1], b.anchor * columns);
    data[b.anchor * columns + 5 + b.classId] = b.score;
  }
  const g = new OnnxGraphBuilder('yolov5');
  g.input('images', [1, 3, 640, 640]);
  constantOutput(g, zeroOf(g, [{ name: 'images' }]), 'output0', data, [1, anchors, columns]);
  g.output('output0', [1, anchors, columns]);
  return g.toBytes(meta);
}

export interface SetPrediction {
  query: number;
  /** Normalised (cx, cy, w, h). */
  box: [number, number, number, number];
  classId: number;
  logit: number;
}

/**
 * Hugging Face DETR (`detr`, with int64 `pixel_mask`, logits over classes + "no object") or
 * RT-DETR (`rt-detr`, sigmoid logits): `pixel_values` -> `logits`, `pred_boxes`.
 */
export function detrModel(kind: 'detr' | 'rt-detr', predictions: SetPrediction[], options: { queries?: number; classes?: number } = {}): Uint8Array {
  const queries = options.queries ?? (kind === 'detr' ? 100 : 300);
  const columns = (options.classes ?? (kind === 'detr' ? 91 : 80)) + (kind === 'detr' ? 1 : 0);
  const logits = new Float32Array(queries * columns).fill(kind === 'detr' ? 0 : -10);
  const boxes = new Float32Array(queries * 4).fill(0.5);
  for (let q = 0; q < queries && kind === 'detr'; q++) logits[q * columns + columns - 1] = 10;
  for (const p of predictions) {
    if (kind === 'detr') logits[p.query * columns + columns - 1] = 0;
    logits[p.query * columns + p.classId] = p.logit;
    boxes.set(p.box, p.query * 4);
  }
  const g = new OnnxGraphBuilder(kind);
  const dynamic = kind === 'detr';
  g.input('pixel_values', dynamic ? ['batch_size', 3, 'height', 'width'] : ['batch_size', 3, 640, 640]);
  if (dynamic) g.input('pixel_mask', ['batch_size', 'height', 'width'], 'int64');
  const zero = zeroOf(g, dynamic ? [{ name: 'pixel_values' }, { name: 'pixel_mask', int: true }] : [{ name: 'pixel_values' }]);
  constantOutput(g, zero, 'logits', logits, [1, queries, columns]);
  constantOutput(g, zero, 'pred_boxes', boxes, [1, queries, 4]);
  g.output('logits', ['batch_size', queries, columns]);
  g.output('pred_boxes', ['batch_size', queries, 4]);
  return g.toBytes(meta);
}

/** A fixed [3, d] matrix: row c, column k = cos(k * (c + 1) / 7) (no two columns alike). */
export function projection(dimension: number): Float32Array {
  const w = new Float32Array(3 * dimension);
  for (let c = 0; c < 3; c++) for (let k = 0; k < dimension; k++) w[c * dimension + k] = Math.cos((k * (c + 1)) / 7 + c);
  return w;
}

/** Patch tokens [N, patches, d] = (mean of each patch per channel) x projection(d). */
function patchTokens(g: OnnxGraphBuilder, input: string, patch: number, dimension: number): string {
  const pooled = g.op('AveragePool', [input], { kernel_shape: [patch, patch], strides: [patch, patch] });
  const flat = g.op('Reshape', [pooled, g.constant('flat_shape', BigInt64Array.from([0n, 3n, -1n]), [3])]);
  const tokens = g.op('Transpose', [flat], { perm: [0, 2, 1] });
  return g.op('MatMul', [tokens, g.constant('projection', projection(dimension), [3, dimension])]);
}

/** CLS token = 2 x (mean of the patch tokens) + 1, so CLS and mean pooling give different vectors. */
function withCls(g: OnnxGraphBuilder, tokens: string): { sequence: string; cls: string } {
  const two = g.constant('two', Float32Array.from([2]), []);
  const one = g.constant('one', Float32Array.from([1]), []);
  const clsKeep = g.op('Add', [g.op('Mul', [g.op('ReduceMean', [tokens], { axes: [1], keepdims: 1 }), two]), one]);
  const cls = g.op('Add', [g.op('Mul', [g.op('ReduceMean', [tokens], { axes: [1], keepdims: 0 }), two]), one]);
  return { sequence: g.op('Concat', [clsKeep, tokens], { axis: 1 }), cls };
}

/**
 * PP-ShiTuV2 recognition (PPLCNetV2_base) as paddle2onnx exports it: `x` [N, 3, 224, 224] ->
 * `save_infer_model/scale_0.tmp_1` [N, 512] = (per-channel image mean) x projection(512).
 */
export const PPSHITU_REC_OUTPUT = 'save_infer_model/scale_0.tmp_1';
export function ppShituRecModel(options: { dimension?: number; input?: string; batch?: number } = {}): Uint8Array {
  const dimension = options.dimension ?? 512;
  const batch = options.batch ?? 'p2o.DynamicDimension.0';
  const g = new OnnxGraphBuilder('pplcnetv2_rec');
  const x = g.input(options.input ?? 'x', [batch, 3, 224, 224]);
  const pooled = g.op('GlobalAveragePool', [x]);
  const flat = g.op('Reshape', [pooled, g.constant('flat_shape', BigInt64Array.from([0n, 3n]), [2])]);
  g.op('MatMul', [flat, g.constant('projection', projection(dimension), [3, dimension])], {}, PPSHITU_REC_OUTPUT);
  g.output(PPSHITU_REC_OUTPUT, [batch, dimension]);
  return g.toBytes(meta);
}

/**
 * A ViT-style encoder whose patch embedding is a convolution, exported with symbolic height and
 * width: `pixel_values` [batch, 3, height, width] -> `embeds` [batch, 3] (mean of 14 x 14 patches,
 * which needs an input of at least 14 x 14).
 */
export function convPatchModel(): Uint8Array {
  const g = new OnnxGraphBuilder('conv_patch');
  g.input('pixel_values', ['batch_size', 3, 'height', 'width']);
  const weights = new Float32Array(3 * 3 * 14 * 14);
  for (let c = 0; c < 3; c++) weights.fill(1 / 196, (c * 3 + c) * 196, (c * 3 + c + 1) * 196);
  const patches = g.op('Conv', ['pixel_values', g.constant('patch_embed', weights, [3, 3, 14, 14])], { strides: [14, 14] });
  const pooled = g.op('GlobalAveragePool', [patches]);
  g.op('Reshape', [pooled, g.constant('flat_shape', BigInt64Array.from([0n, 3n]), [2])], {}, 'embeds');
  g.output('embeds', ['batch_size', 3]);
  return g.toBytes(meta);
}

/**
 * DINOv2-small as transformers.js exports it: `pixel_values` [batch, 3, height, width] (14-pixel
 * patches) -> `last_hidden_state` [batch, 1 + patches, 384] and `pooler_output` [batch, 384] (= CLS).
 */
export function dinov2Model(options: { dimension?: number } = {}): Uint8Array {
  const dimension = options.dimension ?? 384;
  const g = new OnnxGraphBuilder('dinov2');
  g.input('pixel_values', ['batch_size', 3, 'height', 'width']);
  const { sequence, cls } = withCls(g, patchTokens(g, 'pixel_values', 14, dimension));
  g.op('Identity', [sequence], {}, 'last_hidden_state');
  g.op('Identity', [cls], {}, 'pooler_output');
  g.output('last_hidden_state', ['batch_size', 'sequence_length', dimension]);
  g.output('pooler_output', ['batch_size', dimension]);
  return g.toBytes(meta);
}

/**
 * CLIP ViT-B/32 vision tower as transformers.js exports it: `pixel_values` [batch, 3, 224, 224]
 * -> `image_embeds` [batch, 512] (CLS x a second projection) and `last_hidden_state` [batch, 50, 768].
 */
export function clipVisionModel(): Uint8Array {
  const g = new OnnxGraphBuilder('clip_vision');
  g.input('pixel_values', ['batch_size', 3, 224, 224]);
  const { sequence, cls } = withCls(g, patchTokens(g, 'pixel_values', 32, 768));
  const visual = new Float32Array(768 * 512);
  for (let i = 0; i < 768; i++) visual[i * 512 + (i % 512)] = i < 512 ? 1 : 0.5;
  g.op('MatMul', [cls, g.constant('visual_projection', visual, [768, 512])], {}, 'image_embeds');
  g.op('Identity', [sequence], {}, 'last_hidden_state');
  g.output('image_embeds', ['batch_size', 512]);
  g.output('last_hidden_state', ['batch_size', 50, 768]);
  return g.toBytes(meta);
}

/** A CNN feature map: `input` [N, 3, 224, 224] -> `features` [N, 3, 7, 7] (32 x 32 patch means). */
export function featureMapModel(): Uint8Array {
  const g = new OnnxGraphBuilder('feature_map');
  g.input('input', ['N', 3, 224, 224]);
  g.op('AveragePool', ['input'], { kernel_shape: [32, 32], strides: [32, 32] }, 'features');
  g.output('features', ['N', 3, 7, 7]);
  return g.toBytes(meta);
}

/** Writes a model and its manifest (file name and sha256 filled in) into `dir`; returns the manifest path. */
export async function writeModel(dir: string, base: string, bytes: Uint8Array, manifest: Record<string, unknown>): Promise<string> {
  await writeFile(join(dir, `${base}.onnx`), bytes);
  const path = join(dir, `${base}.json`);
  await writeFile(path, JSON.stringify({ ...manifest, file: `${base}.onnx`, sha256: sha256(bytes) }, null, 2));
  return path;
}

/** A solid-colour RGB image. */
export function solidImage(width: number, height: number, rgb: [number, number, number]): { data: Buffer; width: number; height: number } {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

/** The `source` block every test manifest needs. */
export const TEST_SOURCE = { package: 'synthetic', version: '1', files: ['none'], licence: 'MIT', url: 'https://example.com/' };
