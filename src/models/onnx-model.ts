import { AppError } from '../core/app-error.js';
import { BufferPool } from '../core/buffer-pool.js';
import type { RgbImage } from '../core/types.js';
import { toTensor, type InputTransform } from '../imaging/tensor.js';
import { openLoadedModel } from '../inference/model-loader.js';
import type { ExtraInput, LoadedModelManifest, ModelInput, ModelManifest } from '../inference/model-manifest.js';
import type { FloatTensor, OnnxSession, SessionOptions } from '../inference/onnx-session.js';
import { extraFeeds } from './decoders/extra-inputs.js';

/**
 * The session side of every model class (detectors, embedders): opens the manifest's ONNX file,
 * lets the subclass check the open session against the manifest (a failed check closes it
 * again), and refuses to run before `init` or after `dispose`.
 */
export abstract class OnnxModel<M extends ModelManifest> {
  private current: OnnxSession | undefined;
  /** Input tensor memory, back from the session's worker after each run and used again. */
  private readonly tensorBuffers = new BufferPool();

  constructor(
    protected readonly model: LoadedModelManifest<M>,
    private readonly sessionOptions: SessionOptions = {},
  ) {}

  get id(): string {
    return this.model.manifest.id;
  }

  /** The onnxruntime session, for warm-up and timing by the owner (e.g. the probe). */
  get onnxSession(): OnnxSession | undefined {
    return this.current;
  }

  /** 'detector' or 'embedder', for messages. */
  protected abstract readonly role: string;

  /** Checks a just-opened session against the manifest; throwing refuses the model. */
  protected opened(session: OnnxSession): void {
    void session;
  }

  async init(): Promise<void> {
    if (this.current) return;
    const session = (await openLoadedModel(this.model, this.sessionOptions)).session;
    try {
      this.opened(session);
    } catch (error) {
      await session.dispose();
      throw error;
    }
    this.current = session;
  }

  async dispose(): Promise<void> {
    const session = this.current;
    this.current = undefined;
    await session?.dispose();
  }

  /** The open session, or NOT_READY. */
  protected session(): OnnxSession {
    if (!this.current) throw new AppError('NOT_READY', `${this.role} ${this.id} is not initialised`);
    return this.current;
  }

  /**
   * Images through the model in one batch: preprocessed as `input` says (with the `extras` the
   * model takes besides the images), run for the named outputs only, and those returned in order
   * with each image's transform back to its pixels. The tensors are this call's own: they are
   * handed to the session's worker instead of being copied, and come back with the outputs to
   * be filled again by the next call.
   */
  protected async runImages(
    images: readonly RgbImage[],
    input: ModelInput,
    outputNames: readonly string[],
    extras: readonly ExtraInput[] = [],
  ): Promise<{ outputs: FloatTensor[]; transforms: InputTransform[] }> {
    const session = this.session();
    const tensor = await toTensor(images, input, (bytes) => this.tensorBuffers.take(bytes));
    const feeds = { [input.name]: { data: tensor.data, dims: tensor.dims }, ...extraFeeds(input, tensor.transforms, extras) };
    const outputs = await session.run(feeds, outputNames, { transferInputs: true, reuseInputs: (buffers) => this.tensorBuffers.give(buffers) });
    return { outputs: this.outputsNamed(outputs, outputNames), transforms: tensor.transforms };
  }

  /** runImages for one image. */
  protected async runImage(
    image: RgbImage,
    input: ModelInput,
    outputNames: readonly string[],
    extras: readonly ExtraInput[] = [],
  ): Promise<{ outputs: FloatTensor[]; transform: InputTransform }> {
    const { outputs, transforms } = await this.runImages([image], input, outputNames, extras);
    return { outputs, transform: transforms[0]! };
  }

  /** The named outputs of a run, in order; a missing one means the model is not what the manifest says. */
  protected outputsNamed(outputs: Record<string, FloatTensor>, names: readonly string[]): FloatTensor[] {
    return names.map((name) => {
      const out = outputs[name];
      if (!out) throw new AppError('MODEL_INVALID', `${this.role} ${this.id}: model gave no output "${name}"`);
      return out;
    });
  }
}
