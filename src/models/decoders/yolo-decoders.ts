import type { Candidate, DecoderFamily } from './decoder-types.js';
import { argMax, dimension, fromCentre, shapeProblem } from './decoder-types.js';

/**
 * Ultralytics YOLO exports (no NMS inside; NMS in Spotter), boxes as (cx, cy, w, h) in
 * model-input pixels.
 *
 * `yolo-v8` (also v11): one output [1, 4 + classes, anchors], class scores already sigmoided, no
 * objectness. `yolo-v5`: one output [1, anchors, 5 + classes] with an objectness column; the
 * score is objectness x best class probability.
 */
export const yoloV8: DecoderFamily = {
  outputs: ['predictions'],
  signature: '[1, 4 + classes, anchors] (cx, cy, w, h, class scores), as YOLOv8/v11 export',
  checkShapes([shape], manifest) {
    const classes = manifest.decoding.classes?.length;
    const problem = shapeProblem('predictions', shape, [null, classes === undefined ? null : 4 + classes, null]);
    if (problem) return problem;
    const rows = dimension(shape, 1);
    const anchors = dimension(shape, 2);
    if (rows !== undefined && rows < 5) return `predictions has ${rows} rows per anchor, yolo-v8 needs 4 box values and at least one class`;
    if (rows !== undefined && anchors !== undefined && rows > anchors) {
      return `predictions has shape [${shape!.join(', ')}]: more rows than anchors, which looks like [1, anchors, 5 + classes]; use decoder yolo-v5 for that layout`;
    }
    return undefined;
  },
  decode([out], { minScore }) {
    const rows = out!.dims[1]!;
    const anchors = out!.dims[2]!;
    const d = out!.data;
    const found: Candidate[] = [];
    for (let a = 0; a < anchors; a++) {
      const best = argMax(d, 4 * anchors + a, rows - 4, anchors);
      if (!(best.value >= minScore)) continue;
      const box = fromCentre(d[a]!, d[anchors + a]!, d[2 * anchors + a]!, d[3 * anchors + a]!);
      found.push({ box, score: best.value, classId: best.index });
    }
    return found;
  },
};

export const yoloV5: DecoderFamily = {
  outputs: ['predictions'],
  signature: '[1, anchors, 5 + classes] (cx, cy, w, h, objectness, class probabilities), as YOLOv5 exports',
  checkShapes([shape], manifest) {
    const classes = manifest.decoding.classes?.length;
    const problem = shapeProblem('predictions', shape, [null, null, classes === undefined ? null : 5 + classes]);
    if (problem) return problem;
    const anchors = dimension(shape, 1);
    const columns = dimension(shape, 2);
    if (columns !== undefined && columns < 6) return `predictions has ${columns} values per anchor, yolo-v5 needs 5 plus at least one class`;
    if (anchors !== undefined && columns !== undefined && columns > anchors) {
      return `predictions has shape [${shape!.join(', ')}]: more values per anchor than anchors, which looks like [1, 4 + classes, anchors]; use decoder yolo-v8 for that layout`;
    }
    return undefined;
  },
  decode([out], { minScore }) {
    const anchors = out!.dims[1]!;
    const columns = out!.dims[2]!;
    const d = out!.data;
    const found: Candidate[] = [];
    for (let a = 0; a < anchors; a++) {
      const base = a * columns;
      const objectness = d[base + 4]!;
      if (!(objectness >= minScore)) continue;
      const best = argMax(d, base + 5, columns - 5);
      const score = objectness * best.value;
      if (!(score >= minScore)) continue;
      found.push({ box: fromCentre(d[base]!, d[base + 1]!, d[base + 2]!, d[base + 3]!), score, classId: best.index });
    }
    return found;
  },
};
