import { AppError } from '../../core/app-error.js';
import { clampBox, nms } from '../../core/geometry.js';
import type { DetectOptions, Detection, Detector, RgbImage } from '../../core/types.js';
import { boxToSource } from '../../imaging/tensor.js';
import type { DetectorManifest, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { FloatTensor, SessionOptions } from '../../inference/onnx-session.js';
import { OnnxModel } from '../onnx-model.js';
import { decodeCenternet, type CenternetCandidate } from './centernet-decode.js';

/** Peaks kept before suppression, as in the graph's own decode tail (TopK 100). */
const MAX_CANDIDATES = 100;

/**
 * CenterNet detector (decoder 'centernet'): outputs `heatmap` [1, C, H, W] (sigmoid scores) and
 * `wh` [1, 4, H, W] (distances to the box sides in input pixels). With `classAgnostic` in the
 * manifest every subject is "foreground": one score map of the best class per cell and class-
 * blind suppression; the COCO class name is still reported, as a hint.
 */
export class CenternetDetector extends OnnxModel<DetectorManifest> implements Detector {
  static readonly decoder = 'centernet';
  protected readonly role = 'detector';

  constructor(model: LoadedModelManifest<DetectorManifest>, sessionOptions: SessionOptions = {}) {
    super(model, sessionOptions);
    if (model.manifest.decoding.outputs.length !== 2) {
      throw new AppError('MODEL_INVALID', `manifest ${model.manifest.id}: decoder centernet needs two outputs (heatmap, wh)`);
    }
  }

  async detect(image: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
    const { input, decoding } = this.model.manifest;
    const minScore = options.minScore ?? decoding.minScore;
    const { outputs, transform } = await this.runImage(image, input, decoding.outputs);
    const [heatmap, wh] = outputs as [FloatTensor, FloatTensor];
    const classes = decoding.classes;
    if (classes && heatmap.dims[1] !== classes.length) {
      throw new AppError('MODEL_INVALID', `detector ${this.id}: heatmap has ${heatmap.dims[1]} classes, the manifest names ${classes.length}`);
    }
    const classAgnostic = decoding.classAgnostic ?? false;
    const candidates = decodeCenternet(heatmap, wh, input.width / (heatmap.dims[3] ?? 1), {
      minScore,
      maxCandidates: MAX_CANDIDATES,
      classAgnostic,
    });
    const kept = classAgnostic ? this.suppress(candidates, options) : this.suppressPerClass(candidates, options);
    return kept.map((c) => {
      const detection: Detection = { box: clampBox(boxToSource(c.box, transform), image.width, image.height), score: c.score, classId: c.classId };
      const name = classes?.[c.classId];
      if (name !== undefined) detection.className = name;
      return detection;
    });
  }

  private suppress(candidates: CenternetCandidate[], options: DetectOptions): CenternetCandidate[] {
    const { nmsIou, maxDetections } = this.model.manifest.decoding;
    return nms(candidates, { iouThreshold: nmsIou, maxResults: options.maxDetections ?? maxDetections });
  }

  private suppressPerClass(candidates: CenternetCandidate[], options: DetectOptions): CenternetCandidate[] {
    const byClass = new Map<number, CenternetCandidate[]>();
    for (const c of candidates) byClass.set(c.classId, [...(byClass.get(c.classId) ?? []), c]);
    const kept = [...byClass.values()].flatMap((group) => this.suppress(group, {}));
    return nms(kept, { iouThreshold: 1, maxResults: options.maxDetections ?? this.model.manifest.decoding.maxDetections });
  }
}
