import { AppError } from '../../core/app-error.js';
import { boxArea, clampBox, nms } from '../../core/geometry.js';
import type { DetectOptions, Detection, Detector, RgbImage } from '../../core/types.js';
import { boxToSource } from '../../imaging/tensor.js';
import type { DetectorManifest, ExtraInput, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { OnnxSession, SessionOptions } from '../../inference/onnx-session.js';
import { OnnxModel } from '../onnx-model.js';
import type { DecoderFamily, Shape } from './decoder-types.js';
import { presentExtras, scaleFactorOf } from './extra-inputs.js';

/**
 * A detector driven entirely by its manifest and a decoder family: preprocess as the manifest
 * says, feed the image and any extra inputs, decode the named outputs, class-agnostic NMS, map
 * boxes back to the source image. Output shapes are checked against the family when the model
 * is opened (declared shapes) and on every run (actual shapes).
 */
export class OnnxDetector extends OnnxModel<DetectorManifest> implements Detector {
  protected readonly role = 'detector';
  private extras: ExtraInput[] = [];

  constructor(
    model: LoadedModelManifest<DetectorManifest>,
    private readonly family: DecoderFamily,
    sessionOptions: SessionOptions = {},
  ) {
    super(model, sessionOptions);
    const { decoding } = model.manifest;
    if (decoding.outputs.length !== family.outputs.length) {
      throw new AppError(
        'MODEL_INVALID',
        `manifest ${model.manifest.id}: decoder ${decoding.decoder} reads ${family.outputs.length} output(s) (${family.outputs.join(', ')}: ${family.signature}), the manifest lists ${decoding.outputs.length}`,
      );
    }
  }

  protected override opened(session: OnnxSession): void {
    this.checkShapes(this.model.manifest.decoding.outputs.map((name) => session.outputShape(name)), 'declares');
    this.extras = presentExtras(this.model.manifest.input, session.inputNames);
  }

  private checkShapes(shapes: (Shape | undefined)[], verb: string): void {
    const { manifest } = this.model;
    const problem = this.family.checkShapes(shapes, manifest);
    if (problem) {
      throw new AppError(
        'MODEL_INVALID',
        `manifest ${manifest.id}: the model ${verb} outputs that decoder ${manifest.decoding.decoder} cannot read: ${problem} (decoder expects ${this.family.signature})`,
      );
    }
  }

  async detect(image: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
    const { input, decoding } = this.model.manifest;
    const minScore = options.minScore ?? decoding.minScore;
    const { outputs: ordered, transform } = await this.runImage(image, input, decoding.outputs, this.extras);
    this.checkShapes(ordered.map((o) => o.dims), 'gave');
    const fedScale = this.extras.some((e) => e.value === 'scale-factor');
    const candidates = this.family.decode(ordered, {
      manifest: this.model.manifest,
      inputWidth: input.width,
      inputHeight: input.height,
      scaleFactor: fedScale ? scaleFactorOf(transform) : [1, 1],
      minScore,
    });
    const kept = nms(candidates, { iouThreshold: decoding.nmsIou, minScore: -Infinity, maxResults: options.maxDetections ?? decoding.maxDetections });
    const detections: Detection[] = [];
    for (const c of kept) {
      const box = clampBox(boxToSource(c.box, transform), image.width, image.height);
      if (boxArea(box) <= 0) continue;
      const className = c.classId === undefined ? undefined : decoding.classes?.[c.classId];
      detections.push({ box, score: c.score, ...(c.classId === undefined ? {} : { classId: c.classId }), ...(className ? { className } : {}) });
    }
    return detections;
  }
}
