import { AppError } from '../../core/app-error.js';
import type { Embedder, RgbImage } from '../../core/types.js';
import { toTensor } from '../../imaging/tensor.js';
import { openLoadedModel } from '../../inference/model-loader.js';
import type { EmbedderManifest, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { OnnxSession, SessionOptions } from '../../inference/onnx-session.js';

/**
 * Scales a vector to unit length (a new array). This is the one place embeddings are
 * normalised; only `FaceEmbedder.embed` calls it. A zero vector stays zero.
 */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

/**
 * face-api's 128-D face descriptor (dlib-style ResNet). Each crop is zero-padded to a centred
 * square, resized to 150x150 (tf-bilinear, as face-api) and normalised
 * (pixel - [122.782, 117.001, 104.298]) / 255; all crops go through one batched run.
 *
 * Thresholds: face-api compares raw descriptors with Euclidean distance, 0.6 being its usual
 * "same person" limit. For unit vectors d^2 = 2 - 2 cos; the raw descriptors here have norms of
 * about 1.3 - 1.46 (1.39 - 1.46 on faces, measured in models/face/README.md). With both norms equal
 * to n, raw distance 0.6 is unit distance 0.6 / n, i.e. cos = 1 - (0.6 / n)^2 / 2: 0.908 at
 * n = 1.4, 0.914 at n = 1.45. The face pack's default cosine threshold, 0.91, comes from that.
 */
export class FaceEmbedder implements Embedder {
  static readonly kind = 'embedder';
  readonly metric = 'cosine' as const;
  private session: OnnxSession | undefined;

  constructor(
    private readonly model: LoadedModelManifest<EmbedderManifest>,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  get id(): string {
    return this.model.manifest.id;
  }

  get dimension(): number {
    return this.model.manifest.embedding.dimension;
  }

  get onnxSession(): OnnxSession | undefined {
    return this.session;
  }

  async init(): Promise<void> {
    if (this.session) return;
    this.session = (await openLoadedModel(this.model, this.sessionOptions)).session;
  }

  async dispose(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.dispose();
  }

  /** Raw (unnormalised) descriptors, one per crop, from a single batched run. */
  async embedRaw(crops: readonly RgbImage[]): Promise<Float32Array[]> {
    if (!this.session) throw new AppError('NOT_READY', `embedder ${this.id} is not initialised`);
    if (crops.length === 0) return [];
    const { input, embedding } = this.model.manifest;
    const tensor = await toTensor(crops, input);
    const outputs = await this.session.run({ [input.name]: { data: tensor.data, dims: tensor.dims } });
    const out = outputs[embedding.output];
    if (!out || out.dims.length !== 2 || out.dims[0] !== crops.length || out.dims[1] !== this.dimension) {
      throw new AppError(
        'MODEL_INVALID',
        `embedder ${this.id}: output "${embedding.output}" has shape [${out?.dims.join(', ') ?? ''}], expected [${crops.length}, ${this.dimension}]`,
      );
    }
    return crops.map((_, i) => out.data.slice(i * this.dimension, (i + 1) * this.dimension));
  }

  async embed(crops: RgbImage[]): Promise<Float32Array[]> {
    return (await this.embedRaw(crops)).map(l2Normalize);
  }
}
