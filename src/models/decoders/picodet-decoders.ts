import type { Candidate, DecoderFamily } from './decoder-types.js';
import { dimension, shapeProblem } from './decoder-types.js';

/**
 * PaddleDetection PicoDet (PP-ShiTu's mainbody detector) as paddle2onnx exports it.
 *
 * With NMS inside (`picodet-nms`): rows [N, 6] of (class, score, x1, y1, x2, y2) and a count
 * [batch]. PaddleDetection divides the boxes by the fed scale_factor before NMS, so the rows
 * are in source pixels when scale_factor is the real one; multiplying back by the fed factor
 * gives model-input pixels whatever the resize mode. Rows past the count, or with class -1
 * (the padding paddle2onnx emits when nothing is found), are ignored.
 *
 * Without NMS (`picodet-raw`, export with exclude_nms): boxes [1, A, 4] as (x1, y1, x2, y2) in
 * model-input pixels and class scores [1, C, A] after the sigmoid; NMS is left to Spotter.
 */
export const picodetNms: DecoderFamily = {
  outputs: ['boxes', 'count'],
  signature: 'rows [N, 6] (class, score, x1, y1, x2, y2) and count [batch]',
  checkShapes([rows, count]) {
    return shapeProblem('rows', rows, [null, 6]) ?? shapeProblem('count', count, [null]);
  },
  decode([rows, count], { scaleFactor, minScore }) {
    const n = Math.min(Math.round(count!.data[0] ?? 0), rows!.data.length / 6);
    const [sy, sx] = scaleFactor;
    const out: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const r = rows!.data.subarray(i * 6, i * 6 + 6);
      const classId = r[0]!;
      const score = r[1]!;
      if (classId < 0 || !(score >= minScore)) continue;
      out.push({ box: [r[2]! * sx, r[3]! * sy, r[4]! * sx, r[5]! * sy], score, classId: Math.round(classId) });
    }
    return out;
  },
};

export const picodetRaw: DecoderFamily = {
  outputs: ['boxes', 'scores'],
  signature: 'boxes [1, anchors, 4] (x1, y1, x2, y2 in input pixels) and scores [1, classes, anchors]',
  checkShapes([boxes, scores], manifest) {
    const anchors = dimension(boxes, 1) ?? dimension(scores, 2) ?? null;
    const classes = manifest.decoding.classes?.length ?? null;
    return shapeProblem('boxes', boxes, [null, anchors, 4]) ?? shapeProblem('scores', scores, [null, classes, anchors]);
  },
  decode([boxes, scores], { minScore }) {
    const anchors = boxes!.dims[1]!;
    const classes = scores!.dims[1]!;
    const out: Candidate[] = [];
    for (let a = 0; a < anchors; a++) {
      let best = -Infinity;
      let classId = 0;
      for (let c = 0; c < classes; c++) {
        const v = scores!.data[c * anchors + a]!;
        if (v > best) {
          best = v;
          classId = c;
        }
      }
      if (!(best >= minScore)) continue;
      const b = boxes!.data.subarray(a * 4, a * 4 + 4);
      out.push({ box: [b[0]!, b[1]!, b[2]!, b[3]!], score: best, classId });
    }
    return out;
  },
};
