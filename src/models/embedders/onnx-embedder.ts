import { AppError } from '../../core/app-error.js';
import type { Embedder, RgbImage } from '../../core/types.js';
import type { EmbedderManifest, ExtraInput } from '../../inference/model-manifest.js';
import type { FloatTensor, OnnxSession } from '../../inference/onnx-session.js';
import { OnnxModel } from '../onnx-model.js';
import { presentExtras } from '../decoders/extra-inputs.js';
import { l2Normalize } from './l2-normalize.js';
import { pool, poolingProblem } from './pooling.js';

/**
 * Any image encoder whose pre- and post-processing fits the manifest: CNNs giving a vector or a
 * feature map, ViTs giving tokens (CLS or mean pooling), e.g. PP-ShiTuV2's PPLCNetV2 (`x` ->
 * [N, 512]), DINOv2 (`last_hidden_state`, CLS) or CLIP's vision tower (`image_embeds`). All
 * crops go through one batched run; vectors are L2-normalised.
 */
export class OnnxEmbedder extends OnnxModel<EmbedderManifest> implements Embedder {
  readonly metric = 'cosine' as const;
  protected readonly role = 'embedder';
  private extras: ExtraInput[] = [];
  /** The model's batch is fixed at 1: crops go through one run each. */
  private oneAtATime = false;

  get dimension(): number {
    return this.model.manifest.embedding.dimension;
  }

  protected override opened(session: OnnxSession): void {
    const { embedding } = this.model.manifest;
    const declared = session.outputShape(embedding.output);
    const problem = declared && poolingProblem(declared, embedding.pooling, embedding.dimension, embedding.skipTokens);
    if (problem) throw new AppError('MODEL_INVALID', `manifest ${this.id}: output "${embedding.output}" ${problem}`);
    this.extras = presentExtras(this.model.manifest.input, session.inputNames);
    this.oneAtATime = session.inputShape(this.model.manifest.input.name)?.[0] === 1;
  }

  /** Raw (unnormalised) vectors, one per crop, from a single batched run (one run per crop for a batch-1 model). */
  async embedRaw(crops: readonly RgbImage[]): Promise<Float32Array[]> {
    this.session(); // NOT_READY before init, even for no crops
    if (crops.length === 0) return [];
    if (this.oneAtATime && crops.length > 1) {
      const vectors: Float32Array[] = [];
      for (const crop of crops) vectors.push(...(await this.embedRaw([crop])));
      return vectors;
    }
    const { input, embedding } = this.model.manifest;
    const [out] = (await this.runImages(crops, input, [embedding.output], this.extras)).outputs as [FloatTensor];
    const problem = poolingProblem(out.dims, embedding.pooling, this.dimension, embedding.skipTokens, crops.length);
    if (problem) throw new AppError('MODEL_INVALID', `embedder ${this.id}: output "${embedding.output}" ${problem}`);
    return pool(out, embedding.pooling, this.dimension, embedding.skipTokens);
  }

  async embed(crops: RgbImage[]): Promise<Float32Array[]> {
    return (await this.embedRaw(crops)).map(l2Normalize);
  }
}
