import { AppError } from '../../core/app-error.js';
import { clampBox, nms } from '../../core/geometry.js';
import type { Box, DetectOptions, Detection, Detector, RgbImage } from '../../core/types.js';
import { toTensor, boxToSource } from '../../imaging/tensor.js';
import { openLoadedModel } from '../../inference/model-loader.js';
import type { DetectorManifest, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { FloatTensor, OnnxSession, SessionOptions } from '../../inference/onnx-session.js';

/** A decoded candidate in model-input pixels, before NMS. */
export interface Candidate {
  box: Box;
  score: number;
}

/**
 * The shared path of the face detectors: preprocess as the manifest says, run, decode (per
 * model), greedy NMS, map boxes back to the source image and clamp them to it.
 */
export abstract class FaceDetectorBase implements Detector {
  private session: OnnxSession | undefined;

  constructor(
    protected readonly model: LoadedModelManifest<DetectorManifest>,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  get id(): string {
    return this.model.manifest.id;
  }

  /** The onnxruntime session, for warm-up and timing by the owner (e.g. the probe). */
  get onnxSession(): OnnxSession | undefined {
    return this.session;
  }

  protected abstract decode(outputs: FloatTensor[], minScore: number): Candidate[];

  async init(): Promise<void> {
    if (this.session) return;
    this.session = (await openLoadedModel(this.model, this.sessionOptions)).session;
  }

  async dispose(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.dispose();
  }

  async detect(image: RgbImage, options: DetectOptions = {}): Promise<Detection[]> {
    if (!this.session) throw new AppError('NOT_READY', `detector ${this.id} is not initialised`);
    const { input, decoding } = this.model.manifest;
    const minScore = options.minScore ?? decoding.minScore;
    const tensor = await toTensor([image], input);
    // The tensor is this call's own: hand it to the session's worker instead of copying it.
    const outputs = await this.session.run({ [input.name]: { data: tensor.data, dims: tensor.dims } }, undefined, { transferInputs: true });
    const ordered = decoding.outputs.map((name) => {
      const out = outputs[name];
      if (!out) throw new AppError('MODEL_INVALID', `detector ${this.id}: model gave no output "${name}"`);
      return out;
    });
    const kept = nms(this.decode(ordered, minScore), {
      iouThreshold: decoding.nmsIou,
      minScore,
      maxResults: options.maxDetections ?? decoding.maxDetections,
    });
    const transform = tensor.transforms[0]!;
    return kept.map((c) => ({
      box: clampBox(boxToSource(c.box, transform), image.width, image.height),
      score: c.score,
      classId: 0,
      className: 'face',
    }));
  }
}
