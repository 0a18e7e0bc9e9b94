import type { Candidate, DecodeContext, DecoderFamily, Shape } from './decoder-types.js';
import { argMax, dimension, fromCentre, shapeProblem } from './decoder-types.js';
import type { DetectorManifest } from '../../inference/model-manifest.js';
import type { FloatTensor } from '../../inference/onnx-session.js';

/**
 * DETR-style set prediction, as Hugging Face exports it (transformers.js / optimum): `logits`
 * [1, queries, classes (+1)] and `pred_boxes` [1, queries, 4] as (cx, cy, w, h) normalised to
 * the model input. No NMS is needed (queries do not duplicate), though the manifest may still
 * ask for one.
 *
 * `detr`: softmax over classes + 1, the last being "no object". `rt-detr`: independent sigmoid
 * per class, no "no object" column.
 */
function checkDetr(shapes: readonly (Shape | undefined)[], manifest: DetectorManifest, extra: number): string | undefined {
  const [logits, boxes] = shapes;
  const queries = dimension(logits, 1) ?? dimension(boxes, 1) ?? null;
  const classes = manifest.decoding.classes?.length;
  return (
    shapeProblem('logits', logits, [null, queries, classes === undefined ? null : classes + extra]) ??
    shapeProblem('pred_boxes', boxes, [null, queries, 4])
  );
}

function decodeSets(outputs: readonly FloatTensor[], context: DecodeContext, score: (row: Float32Array) => { index: number; value: number }): Candidate[] {
  const [logits, boxes] = outputs;
  const queries = logits!.dims[1]!;
  const columns = logits!.dims[2]!;
  const { inputWidth: w, inputHeight: h, minScore } = context;
  const found: Candidate[] = [];
  for (let q = 0; q < queries; q++) {
    const best = score(logits!.data.subarray(q * columns, (q + 1) * columns));
    if (!(best.value >= minScore)) continue;
    const b = boxes!.data.subarray(q * 4, q * 4 + 4);
    found.push({ box: fromCentre(b[0]! * w, b[1]! * h, b[2]! * w, b[3]! * h), score: best.value, classId: best.index });
  }
  return found;
}

export const detr: DecoderFamily = {
  outputs: ['logits', 'pred_boxes'],
  signature: 'logits [1, queries, classes + 1] (softmax, last = no object) and pred_boxes [1, queries, 4] (normalised cx, cy, w, h)',
  checkShapes: (shapes, manifest) => checkDetr(shapes, manifest, 1),
  decode: (outputs, context) =>
    decodeSets(outputs, context, (row) => {
      const max = argMax(row, 0, row.length).value;
      let sum = 0;
      for (const v of row) sum += Math.exp(v - max);
      const best = argMax(row, 0, row.length - 1);
      return { index: best.index, value: Math.exp(best.value - max) / sum };
    }),
};

export const rtDetr: DecoderFamily = {
  outputs: ['logits', 'pred_boxes'],
  signature: 'logits [1, queries, classes] (sigmoid) and pred_boxes [1, queries, 4] (normalised cx, cy, w, h)',
  checkShapes: (shapes, manifest) => checkDetr(shapes, manifest, 0),
  decode: (outputs, context) =>
    decodeSets(outputs, context, (row) => {
      const best = argMax(row, 0, row.length);
      return { index: best.index, value: 1 / (1 + Math.exp(-best.value)) };
    }),
};
