import type { Box, RgbImage } from '../core/types.js';
import { sha256Hex } from '../imaging/decode.js';
import { mapAhead } from './batch-ahead.js';
import { embedderOf, type EntrySink, type GalleryRef, type LocalFeatures } from './pipeline-types.js';
import type { RecognitionPipeline } from './recognition-pipeline.js';

/** One image to enrol. `load` is called inside the read-ahead window, not up front. */
export interface EnrolJob {
  /** Reads the image bytes; a rejection becomes this job's failure. */
  load(): Promise<Buffer>;
  label: string;
  metadata?: Record<string, unknown> | null;
}

export type EnrolOutcome<E> =
  | { status: 'enrolled'; entry: E; score: number }
  | { status: 'duplicate'; entryId: string }
  | { status: 'failed'; error: unknown };

export interface BatchEnrolmentOptions {
  /** Crops per embedder run. */
  batchSize: number;
  /** Images read, decoded and searched for a subject ahead of the embedder. */
  readAhead: number;
  /** A batch is embedded early once its crops hold this many bytes: whole-image crops can be large. */
  maxBatchBytes?: number;
}

interface Located<J> {
  job: J;
  imageSha256: string;
  crop: RgbImage;
  box: Box;
  score: number;
  localFeatures?: LocalFeatures;
}

type Prepared<J, E> = { job: J; located: Located<J> } | { job: J; outcome: EnrolOutcome<E> };

const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;

/**
 * Enrols many images the way `RecognitionPipeline.enrol` enrols one (same duplicate check, same
 * subject rule, same store), but with the embedder run on batches of crops while the next
 * images are read and decoded. Yields one outcome per job, in completion order; one bad image
 * gives a `failed` outcome and never stops the others.
 */
export async function* enrolBatched<J extends EnrolJob, E extends { id: string }>(
  pipeline: RecognitionPipeline,
  gallery: GalleryRef,
  jobs: AsyncIterable<J> | Iterable<J>,
  sink: EntrySink<E>,
  options: BatchEnrolmentOptions,
): AsyncGenerator<{ job: J; outcome: EnrolOutcome<E> }> {
  const pack = pipeline.packFor(gallery);
  const maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;

  const prepare = async (job: J): Promise<Prepared<J, E>> => {
    try {
      const bytes = await job.load();
      const imageSha256 = sha256Hex(bytes);
      // Checked before any model runs, so a rerun over enrolled images costs a read and a hash.
      const existing = sink.findDuplicate(gallery, job.label, imageSha256);
      if (existing) return { job, outcome: { status: 'duplicate', entryId: existing.id } };
      const located = await pipeline.enrolmentCrop(bytes, gallery);
      return { job, located: { job, imageSha256, ...located } };
    } catch (error) {
      return { job, outcome: { status: 'failed', error } };
    }
  };

  const store = (item: Located<J>, vector: Float32Array): EnrolOutcome<E> => {
    const { job, imageSha256, box, score, localFeatures } = item;
    let entry: E;
    try {
      entry = sink.addEntry(gallery, {
        label: job.label, metadata: job.metadata ?? null, box, imageSha256, vector, embedder: embedderOf(pack), ...(localFeatures ? { localFeatures } : {}),
      });
    } catch (error) {
      // The same image twice in one run: the second is refused by the store's unique crop key.
      const existing = isDuplicate(error) ? sink.findDuplicate(gallery, job.label, imageSha256) : null;
      return existing ? { status: 'duplicate', entryId: existing.id } : { status: 'failed', error };
    }
    return { status: 'enrolled', entry, score };
  };

  async function* embedAndStore(batch: Located<J>[]): AsyncGenerator<{ job: J; outcome: EnrolOutcome<E> }> {
    let vectors: Float32Array[] | undefined;
    try {
      vectors = await pipeline.embedCrops(pack, batch.map((b) => b.crop));
    } catch (error) {
      // One crop the embedder refuses must not fail its batch-mates: retry them one at a time.
      if (batch.length === 1) {
        yield { job: batch[0]!.job, outcome: { status: 'failed', error } };
        return;
      }
      for (const item of batch) yield* embedAndStore([item]);
      return;
    }
    for (const [i, item] of batch.entries()) yield { job: item.job, outcome: store(item, vectors[i]!) };
  }

  let batch: Located<J>[] = [];
  let batchBytes = 0;
  for await (const prepared of mapAhead(jobs, options.readAhead, prepare)) {
    if ('outcome' in prepared) {
      yield { job: prepared.job, outcome: prepared.outcome };
      continue;
    }
    batch.push(prepared.located);
    batchBytes += prepared.located.crop.data.length;
    if (batch.length >= options.batchSize || batchBytes >= maxBatchBytes) {
      const full = batch;
      batch = [];
      batchBytes = 0;
      yield* embedAndStore(full);
    }
  }
  if (batch.length > 0) yield* embedAndStore(batch);
}

const isDuplicate = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 'DUPLICATE_ENTRY';
