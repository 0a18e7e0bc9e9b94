import { AppError } from '../core/app-error.js';
import { roundBox } from '../core/geometry.js';
import type { Box, Detection, Pack, RgbImage } from '../core/types.js';
import { cropImage } from '../imaging/crop.js';
import { decodeImage, DEFAULT_DECODE_LIMITS, sha256Hex, type DecodedImage, type DecodeLimits } from '../imaging/decode.js';
import { decide } from './decision.js';
import type { InferenceLimiter, ReservePixels } from './inference-limiter.js';
import { embedderOf, type DetectedObject, type EntrySink, type GalleryRef, type ImageResult, type LocalFeatures, type RecognizedObject, type VectorIndex } from './pipeline-types.js';
import { resolveOptions, type RecognitionOptions, type RecognitionOverrides } from './recognition-options.js';
import { StageTimer } from './stage-timer.js';
import { enrolmentSubject, proposeSubjects, selectObjects } from './subject-proposals.js';
import { subjectFeatures, verifyObjects, type VerificationStage } from './verification.js';

export interface PipelineDeps {
  packs: ReadonlyMap<string, Pack>;
  index: VectorIndex;
  limits: DecodeLimits;
  limiter: InferenceLimiter;
  /** Local-feature verification, for packs and galleries with `verify` on. */
  verification?: VerificationStage;
}

export interface EnrolInput {
  label: string;
  metadata?: Record<string, unknown> | null;
  box?: Box;
}

/** The cascade: decode -> detect -> (fallback box) -> crop -> embed -> search -> decide. */
export class RecognitionPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /** The pack of this name if it is loaded (SPOTTER_PACKS). */
  loadedPack(name: string): Pack | undefined {
    return this.deps.packs.get(name);
  }

  pack(name: string): Pack {
    const pack = this.deps.packs.get(name);
    if (!pack) throw new AppError('PACK_NOT_FOUND', `no model pack named '${name}' is loaded (loaded: ${[...this.deps.packs.keys()].join(', ')})`);
    return pack;
  }

  /** The gallery's pack, refusing a gallery whose vectors came from another embedder. */
  packFor(gallery: GalleryRef): Pack {
    const pack = this.pack(gallery.pack);
    const bound = gallery.embedder;
    if (bound && (bound.embedderId !== pack.embedder.id || bound.dimension !== pack.embedder.dimension)) {
      throw new AppError(
        'EMBEDDER_MISMATCH',
        `gallery '${gallery.name}' holds ${bound.dimension}-D vectors of '${bound.embedderId}', but pack '${pack.name}' embeds with '${pack.embedder.id}' (${pack.embedder.dimension}-D)`,
      );
    }
    return pack;
  }

  /** Decodes an admitted request's image, its pixels held in the limiter's budget until the request ends. */
  private decodeAdmitted(bytes: Buffer, reserve: ReservePixels, timer: StageTimer): Promise<DecodedImage> {
    return timer.time('decode', () => decodeImage(bytes, this.deps.limits, (width, height) => reserve(width * height)));
  }

  async recognize(bytes: Buffer, gallery: GalleryRef, request?: RecognitionOverrides, signal?: AbortSignal): Promise<ImageResult<RecognizedObject>> {
    const pack = this.packFor(gallery);
    const options = resolveOptions(pack.defaults, gallery.settings, request);
    const timer = new StageTimer();
    return this.deps.limiter.admit(async (reserve) => {
      // 1. Decode (before the models' turn, so that decoding the next image overlaps inference;
      // admission bounds how many decoded images can wait).
      const image = await this.decodeAdmitted(bytes, reserve, timer);
      const { decided, selected } = await this.deps.limiter.run(async () => {
        // 2. Detect, 3. choose the boxes to search (detections, or proposals plus the whole image).
        const detections = await this.subjects(pack, image, options, timer);
        // 4. Crop and 5. embed every subject in one batched run.
        const vectors = await this.embedBoxes(pack, image, detections, timer);
        // 6. Search the gallery for each vector.
        const matches = timer.timeSync('search', () => vectors.map((v) => this.deps.index.search(gallery, v, options.topK)));
        // 7. Decide per box, 8. keep the best-matching boxes (NMS) as the reported objects.
        const decided = detections.map((d, i): RecognizedObject => {
          const m = matches[i] ?? [];
          return { ...toObject(d), ...decide(m, options.threshold, options.vote), matches: m };
        });
        return { decided, selected: selectObjects(decided, options) };
      }, signal);
      // 9. Optionally verify the top candidates by local features and a homography, and re-rank.
      // The verifier has a thread of its own: the models are free for the next request meanwhile.
      const stage = this.deps.verification;
      const objects = !options.verify || !stage ? selected : await timer.time('verify', async () => {
        try {
          return await verifyObjects(stage, gallery, image, decided, selected);
        } catch (error) {
          stage.onError?.(error);
          return selected;
        }
      });
      return { width: image.width, height: image.height, objects, timings: timer.result() };
    }, signal);
  }

  /**
   * The detector's own boxes (score and count gated), never the whole image that a recognition
   * may search besides them: a synthetic box would pass for the most confident detection.
   */
  async detect(bytes: Buffer, packName: string, request?: RecognitionOverrides, signal?: AbortSignal): Promise<ImageResult<DetectedObject>> {
    const pack = this.pack(packName);
    const options = resolveOptions(pack.defaults, request);
    const timer = new StageTimer();
    return this.deps.limiter.admit(async (reserve) => {
      const image = await this.decodeAdmitted(bytes, reserve, timer);
      const detections = await this.deps.limiter.run(() => this.detectBoxes(pack, image, { ...options, subjects: 'detections' }, timer), signal);
      return { width: image.width, height: image.height, objects: detections.map(toObject), timings: timer.result() };
    }, signal);
  }

  async embed(bytes: Buffer, packName: string, request?: RecognitionOverrides, signal?: AbortSignal): Promise<ImageResult<DetectedObject & { vector: number[] }>> {
    const pack = this.pack(packName);
    const options = resolveOptions(pack.defaults, request);
    const timer = new StageTimer();
    return this.deps.limiter.admit(async (reserve) => {
      const image = await this.decodeAdmitted(bytes, reserve, timer);
      const objects = await this.deps.limiter.run(async () => {
        const detections = await this.subjects(pack, image, options, timer);
        const vectors = await this.embedBoxes(pack, image, detections, timer);
        return detections.map((d, i) => ({ ...toObject(d), vector: Array.from(vectors[i] ?? []) }));
      }, signal);
      return { width: image.width, height: image.height, objects, timings: timer.result() };
    }, signal);
  }

  /**
   * Enrols one subject of an image: the given box, else the most confident detection, else (for
   * packs that allow it) the whole image. The same bytes under the same label are refused
   * before any model runs.
   */
  async enrol<E extends { id: string }>(
    bytes: Buffer,
    gallery: GalleryRef,
    input: EnrolInput,
    sink: EntrySink<E>,
    signal?: AbortSignal,
  ): Promise<{ entry: E; score: number; timings: Record<string, number> }> {
    const pack = this.packFor(gallery);
    const options = resolveOptions(pack.defaults, gallery.settings);
    const timer = new StageTimer();
    const imageSha256 = sha256Hex(bytes);
    // Without a box, the same bytes under the same label are one subject whatever box the
    // detector picks: refused before any model runs, and again just before the (synchronous)
    // write, where no other enrolment can come between the check and the insert.
    const refuseDuplicate = () => {
      const existing = input.box ? null : sink.findDuplicate(gallery, input.label, imageSha256);
      if (existing) throw new AppError('DUPLICATE_ENTRY', `these image bytes are already enrolled under this label as entry ${existing.id}`);
    };
    refuseDuplicate();
    const stage = options.verify ? this.deps.verification : undefined;
    const { subject, vector, features } = await this.deps.limiter.admit(async (reserve) => {
      const image = await this.decodeAdmitted(bytes, reserve, timer);
      const { subject, crop, vector } = await this.deps.limiter.run(async () => {
        const subject = input.box ? givenBox(input.box, image, this.deps.limits) : await this.bestSubject(pack, image, options, timer);
        const [crop] = await this.cropBoxes(image, [subject], timer);
        const [vector] = await timer.time('embed', () => pack.embedder.embed([crop!]));
        return { subject, crop: crop!, vector: vector! };
      }, signal);
      // The local features come from the crop that was embedded.
      const features = stage ? await timer.time('features', () => subjectFeatures(stage, crop)) : undefined;
      return { subject, vector, features };
    }, signal);
    const entry = timer.timeSync('store', () => {
      refuseDuplicate();
      return sink.addEntry(gallery, {
        label: input.label, metadata: input.metadata ?? null, box: roundBox(subject.box), imageSha256, vector,
        embedder: embedderOf(pack),
        ...(features ? { localFeatures: features } : {}),
      });
    });
    return { entry, score: roundScore(subject.score), timings: timer.result() };
  }

  /**
   * Steps 1-4 of `enrol` (decode, find the subject, crop) without embedding or storing, for
   * batched enrolment that embeds the subjects of many images in one run (batch-enrolment.ts).
   * `localFeatures` (when the gallery verifies) must be stored with the entry, as `enrol` does.
   */
  async enrolmentCrop(
    bytes: Buffer,
    gallery: GalleryRef,
    box?: Box,
  ): Promise<{ crop: RgbImage; box: Box; score: number; localFeatures?: LocalFeatures }> {
    const pack = this.packFor(gallery);
    const options = resolveOptions(pack.defaults, gallery.settings);
    const timer = new StageTimer();
    const image = await decodeImage(bytes, this.deps.limits);
    const stage = options.verify ? this.deps.verification : undefined;
    const subject = await this.deps.limiter.run(async () => (box ? givenBox(box, image, this.deps.limits) : this.bestSubject(pack, image, options, timer)));
    const crop = await cropImage(image, subject.box);
    const features = stage ? await subjectFeatures(stage, crop) : undefined;
    return { crop, box: roundBox(subject.box), score: roundScore(subject.score), ...(features ? { localFeatures: features } : {}) };
  }

  /** Step 5 for the crops of many images: one batched embedder run, under the inference limiter. */
  async embedCrops(pack: Pack, crops: RgbImage[]): Promise<Float32Array[]> {
    return crops.length === 0 ? [] : this.deps.limiter.run(() => pack.embedder.embed(crops));
  }

  private async subjects(pack: Pack, image: RgbImage, options: RecognitionOptions, timer: StageTimer): Promise<Detection[]> {
    const found = await this.detectBoxes(pack, image, options, timer);
    return proposeSubjects(found, image, options);
  }

  private detectBoxes(pack: Pack, image: RgbImage, options: RecognitionOptions, timer: StageTimer): Promise<Detection[]> {
    const proposing = options.subjects === 'proposals';
    // Proposals are gated by area after detection, so more boxes are asked for than are kept.
    const maxDetections = proposing ? Math.max(options.maxObjects, 4 * (options.proposals ?? 0), 20) : options.maxObjects;
    return timer.time('detect', () => pack.detector.detect(image, { minScore: options.minScore, maxDetections }));
  }

  private async bestSubject(pack: Pack, image: RgbImage, options: RecognitionOptions, timer: StageTimer): Promise<Detection> {
    const found = options.subjects === 'proposals' ? [] : await this.detectBoxes(pack, image, { ...options, maxObjects: 1 }, timer);
    const best = enrolmentSubject(found, image, options);
    if (!best) {
      throw new AppError('NO_SUBJECT_FOUND', `the ${pack.name} detector found no subject (minimum score ${options.minScore}); pass a box to enrol a region by hand`);
    }
    return best;
  }

  private async embedBoxes(pack: Pack, image: RgbImage, detections: Detection[], timer: StageTimer): Promise<Float32Array[]> {
    if (detections.length === 0) return [];
    const crops = await this.cropBoxes(image, detections, timer);
    return timer.time('embed', () => pack.embedder.embed(crops));
  }

  private cropBoxes(image: RgbImage, detections: Detection[], timer: StageTimer): Promise<RgbImage[]> {
    return timer.time('crop', () => Promise.all(detections.map((d) => cropImage(image, d.box))));
  }
}

/**
 * A caller's box: inside the image, and no smaller than a whole image may be (the decoder's
 * shortest side), since its crop is scaled up for the models just as such an image would be.
 */
function givenBox(box: Box, image: RgbImage, limits: DecodeLimits): Detection {
  const [x1, y1, x2, y2] = box;
  if (!(x1 >= 0 && y1 >= 0 && x2 <= image.width && y2 <= image.height && x2 > x1 && y2 > y1)) {
    throw new AppError('INVALID_BOX', `box [${box.join(', ')}] is not inside the ${image.width}x${image.height} image with x1 < x2 and y1 < y2`);
  }
  const minDimension = limits.minDimension ?? DEFAULT_DECODE_LIMITS.minDimension;
  if (Math.min(x2 - x1, y2 - y1) < minDimension) {
    const [, , width, height] = roundBox([0, 0, x2 - x1, y2 - y1]);
    throw new AppError('IMAGE_TOO_SMALL', `box [${box.join(', ')}] is ${width}x${height}, a side is shorter than ${minDimension}`);
  }
  return { box, score: 1 };
}

/** Detector scores as every answer gives them: four decimals. */
const roundScore = (score: number): number => Math.round(score * 1e4) / 1e4;

function toObject(d: Detection): DetectedObject {
  const object: DetectedObject = { box: roundBox(d.box), score: roundScore(d.score) };
  if (d.className !== undefined) object.className = d.className;
  return object;
}
