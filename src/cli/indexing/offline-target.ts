import { resolve } from 'node:path';
import type { Runtime } from '../../bootstrap.js';
import { AppError } from '../../core/app-error.js';
import type { Entry, GalleryRef } from '../../gallery/gallery-types.js';
import { validLabel } from '../../http/request-input.js';
import { enrolBatched, type EnrolJob } from '../../pipeline/batch-enrolment.js';
import { embedderOf } from '../../pipeline/pipeline-types.js';
import type { RecognitionOverrides } from '../../pipeline/recognition-options.js';
import { CliError } from '../shared/cli-main.js';
import { readImageFile } from '../shared/image-file.js';
import { classifyFailure, type ItemResult } from './index-report.js';
import { entryMetadata, untilAborted, type IndexTarget, type LabelledItem } from './index-target.js';

export interface OfflineTargetOptions {
  batchSize: number;
  readAhead: number;
}

/** The gallery as the pipeline takes it (the same mapping the HTTP routes make). */
export const pipelineGallery = (g: GalleryRef) => ({ name: g.name, pack: g.pack, embedder: g.embedder, settings: g.settings as RecognitionOverrides });

/** Enrols straight into the data folder with the server's own pipeline and store. */
export class OfflineTarget implements IndexTarget {
  readonly mode = 'offline';
  readonly where: string;

  constructor(
    private readonly runtime: Runtime,
    private readonly options: OfflineTargetOptions,
  ) {
    this.where = resolve(runtime.config.dataDir);
  }

  async prepare(gallery: string, packName: string | undefined, replace: boolean): Promise<{ pack: string; created: boolean }> {
    const { galleries, pipeline, config } = this.runtime;
    let existing = findGallery(this.runtime, gallery);
    if (existing && replace) {
      galleries.deleteGallery(gallery);
      existing = null;
    }
    if (existing) {
      if (packName && existing.pack !== packName) {
        throw new CliError(`gallery "${gallery}" uses pack "${existing.pack}", not "${packName}"; pick another gallery name or pass --replace`);
      }
      pipeline.packFor(pipelineGallery(existing));
      return { pack: existing.pack, created: false };
    }
    const pack = pipeline.pack(packName ?? config.defaultPack);
    galleries.createGallery({
      name: gallery,
      pack: pack.name,
      embedder: embedderOf(pack),
    });
    return { pack: pack.name, created: true };
  }

  async *enrol(gallery: string, items: LabelledItem[], signal: AbortSignal): AsyncGenerator<ItemResult> {
    const { galleries, pipeline, config } = this.runtime;
    type Job = EnrolJob & { item: LabelledItem };
    const jobs: Job[] = [];
    // Labels get the API's rules (length, control characters, NFC), so both paths store the same text.
    for (const item of items) {
      try {
        const label = validLabel(item.label, config.maxLabelLength);
        jobs.push({ item, label, metadata: entryMetadata(item), load: () => readImageFile(item.path, config.maxImageBytes) });
      } catch (error) {
        yield { source: item.source, label: item.label, ...classifyFailure(error) };
      }
    }
    const ref = pipelineGallery(galleries.getGalleryRef(gallery));
    const outcomes = enrolBatched<Job, Entry>(pipeline, ref, untilAborted(jobs, signal), galleries, this.options);
    for await (const { job, outcome } of outcomes) {
      const base = { source: job.item.source, label: job.label };
      if (outcome.status === 'enrolled') yield { ...base, status: 'enrolled', entryId: outcome.entry.id };
      else if (outcome.status === 'duplicate') yield { ...base, status: 'duplicate', entryId: outcome.entryId };
      else yield { ...base, ...classifyFailure(outcome.error) };
    }
  }

  async counts(gallery: string): Promise<{ entries: number; labels: number }> {
    const info = this.runtime.galleries.getGallery(gallery);
    return { entries: info.entryCount, labels: info.labelCount };
  }

  async close(): Promise<void> {
    await this.runtime.dispose();
  }
}

export function findGallery(runtime: Runtime, name: string): GalleryRef | null {
  try {
    return runtime.galleries.getGalleryRef(name);
  } catch (error) {
    if (error instanceof AppError && error.code === 'GALLERY_NOT_FOUND') return null;
    throw error;
  }
}
