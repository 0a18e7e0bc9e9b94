import { AppError } from '../../core/app-error.js';
import type { DetectorManifest, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { FloatTensor, SessionOptions } from '../../inference/onnx-session.js';
import { FaceDetectorBase, type Candidate } from './face-detector-base.js';

/**
 * Reads the SSD graph's outputs: `boxes` [1, A, 4] as (y1, x1, y2, x2) relative to the input
 * square (already decoded against the anchors in the graph) and `scores` [1, A]. Keeps
 * score > minScore (strict, like face-api) and returns boxes in input pixels.
 */
export function decodeSsdOutput(
  boxes: FloatTensor,
  scores: FloatTensor,
  minScore: number,
  inputWidth: number,
  inputHeight: number,
): Candidate[] {
  const count = scores.data.length;
  if (boxes.data.length !== count * 4) {
    throw new Error(`ssd decode: ${boxes.data.length / 4} boxes for ${count} scores`);
  }
  const out: Candidate[] = [];
  for (let i = 0; i < count; i++) {
    const score = scores.data[i]!;
    if (!(score > minScore)) continue;
    const b = boxes.data.subarray(i * 4, i * 4 + 4);
    out.push({ box: [b[1]! * inputWidth, b[0]! * inputHeight, b[3]! * inputWidth, b[2]! * inputHeight], score });
  }
  return out;
}

/** face-api's SsdMobilenetv1 face detector (decoder 'ssd-face'). */
export class SsdFaceDetector extends FaceDetectorBase {
  static readonly decoder = 'ssd-face';

  constructor(model: LoadedModelManifest<DetectorManifest>, sessionOptions?: SessionOptions) {
    super(model, sessionOptions);
    if (model.manifest.decoding.outputs.length !== 2) {
      throw new AppError('MODEL_INVALID', `manifest ${model.manifest.id}: decoder ssd-face needs two outputs (boxes, scores)`);
    }
  }

  protected decode([boxes, scores]: FloatTensor[], minScore: number): Candidate[] {
    const { width, height } = this.model.manifest.input;
    return decodeSsdOutput(boxes!, scores!, minScore, width, height);
  }
}
