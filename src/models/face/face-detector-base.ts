import { clampBox, nms } from '../../core/geometry.js';
import type { Box, DetectOptions, Detection, Detector, RgbImage } from '../../core/types.js';
import { boxToSource } from '../../imaging/tensor.js';
import type { DetectorManifest } from '../../inference/model-manifest.js';
import type { FloatTensor } from '../../inference/onnx-session.js';
import { OnnxModel } from '../onnx-model.js';

/** A decoded candidate in model-input pixels, before NMS. */
export interface Candidate {
  box: Box;
  score: number;
}

/**
 * The shared path of the face detectors: preprocess as the manifest says, run, decode (per
 * model), greedy NMS, map boxes back to the source image and clamp them to it.
 */
export abstract class FaceDetectorBase extends OnnxModel<DetectorManifest> implements Detector {
  protected readonly role = 'detector';

  protected abstract decode(outputs: FloatTensor[], minScore: number): Candidate[];

  async detect(image: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
    const { input, decoding } = this.model.manifest;
    const minScore = options.minScore ?? decoding.minScore;
    const { outputs, transform } = await this.runImage(image, input, decoding.outputs);
    const kept = nms(this.decode(outputs, minScore), {
      iouThreshold: decoding.nmsIou,
      minScore,
      maxResults: options.maxDetections ?? decoding.maxDetections,
    });
    return kept.map((c) => ({
      box: clampBox(boxToSource(c.box, transform), image.width, image.height),
      score: c.score,
      classId: 0,
      className: 'face',
    }));
  }
}
