import type { Detection, Detector, RgbImage } from '../../core/types.js';

/**
 * The detector of a pack without one (pack.json `"detector": "none"`): the whole image is the
 * one subject, so the embedder sees every image as it comes (whole-image retrieval, e.g. with
 * DINOv2 or CLIP).
 */
export class WholeImageDetector implements Detector {
  readonly id = 'whole-image';
  readonly onnxSession = undefined;

  async init(): Promise<void> {}

  async dispose(): Promise<void> {}

  async detect(image: RgbImage): Promise<Detection[]> {
    return [{ box: [0, 0, image.width, image.height], score: 1 }];
  }
}
