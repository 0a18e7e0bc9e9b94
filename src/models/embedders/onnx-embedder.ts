import { AppError } from '../../core/app-error.js';
import type { Embedder, RgbImage } from '../../core/types.js';
import { toTensor } from '../../imaging/tensor.js';
import { openLoadedModel } from '../../inference/model-loader.js';
import type { EmbedderManifest, ExtraInput, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { OnnxSession, SessionOptions } from '../../inference/onnx-session.js';
import { extraFeeds, presentExtras } from '../decoders/extra-inputs.js';
import { l2Normalize } from './l2-normalize.js';
import { pool, poolingProblem } from './pooling.js';

/**
 * Any image encoder whose pre- and post-processing fits the manifest: CNNs giving a vector or a
 * feature map, ViTs giving tokens (CLS or mean pooling), e.g. PP-ShiTuV2's PPLCNetV2 (`x` ->
 * [N, 512]), DINOv2 (`last_hidden_state`, CLS) or CLIP's vision tower (`image_embeds`). All
 * crops go through one batched run; vectors are L2-normalised.
 */
export class OnnxEmbedder implements Embedder {
  readonly metric = 'cosine' as const;
  private session: OnnxSession | undefined;
  private extras: ExtraInput[] = [];

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
    const session = (await openLoadedModel(this.model, this.sessionOptions)).session;
    const { embedding } = this.model.manifest;
    const declared = session.outputShape(embedding.output);
    const problem = declared && poolingProblem(declared, embedding.pooling, embedding.dimension, embedding.skipTokens);
    if (problem) {
      await session.dispose();
      throw new AppError('MODEL_INVALID', `manifest ${this.id}: output "${embedding.output}" ${problem}`);
    }
    this.extras = presentExtras(this.model.manifest.input, session.inputNames);
    this.session = session;
  }

  async dispose(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.dispose();
  }

  /** Raw (unnormalised) vectors, one per crop, from a single batched run. */
  async embedRaw(crops: readonly RgbImage[]): Promise<Float32Array[]> {
    if (!this.session) throw new AppError('NOT_READY', `embedder ${this.id} is not initialised`);
    if (crops.length === 0) return [];
    const { input, embedding } = this.model.manifest;
    const tensor = await toTensor(crops, input);
    const feeds = { [input.name]: { data: tensor.data, dims: tensor.dims }, ...extraFeeds(input, tensor.transforms, this.extras) };
    const out = (await this.session.run(feeds, [embedding.output]))[embedding.output];
    const problem = out ? poolingProblem(out.dims, embedding.pooling, this.dimension, embedding.skipTokens, crops.length) : 'is missing';
    if (problem) throw new AppError('MODEL_INVALID', `embedder ${this.id}: output "${embedding.output}" ${problem}`);
    return pool(out!, embedding.pooling, this.dimension, embedding.skipTokens);
  }

  async embed(crops: RgbImage[]): Promise<Float32Array[]> {
    return (await this.embedRaw(crops)).map(l2Normalize);
  }
}
