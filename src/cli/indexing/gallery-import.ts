import type { Runtime } from '../../bootstrap.js';
import { AppError } from '../../core/app-error.js';
import type { PortableEntry } from '../../gallery/gallery-types.js';
import { embedderOf } from '../../pipeline/pipeline-types.js';
import { Progress } from '../shared/progress.js';
import { openGalleryFile } from './gallery-file.js';
import { findGallery } from './offline-target.js';

export interface ImportSummary {
  gallery: string;
  pack: string;
  created: boolean;
  imported: number;
  skippedDuplicates: number;
  total: number;
}

/** Rows per transaction: bounds memory, and a rerun after an interruption resumes by skipping duplicates. */
const CHUNK = 1000;

/**
 * Loads an exported gallery file into the data folder without re-embedding. The file's embedder
 * must be the one of the pack it is imported into, and of the gallery when it exists.
 */
export async function importGalleryFile(
  runtime: Runtime,
  file: string,
  options: { gallery?: string; pack?: string; replace: boolean; signal: AbortSignal },
): Promise<ImportSummary> {
  const { header, entries } = await openGalleryFile(file);
  const gallery = options.gallery ?? header.gallery;
  const pack = runtime.pipeline.pack(options.pack ?? header.pack);
  const binding = embedderOf(pack);
  if (binding.embedderId !== header.embedder.embedderId || binding.dimension !== header.embedder.dimension || binding.metric !== header.embedder.metric) {
    throw new AppError(
      'EMBEDDER_MISMATCH',
      `${file} holds ${header.embedder.dimension}-D vectors of '${header.embedder.embedderId}', but pack '${pack.name}' embeds with '${binding.embedderId}' (${binding.dimension}-D); re-index the images instead`,
    );
  }
  const { galleries } = runtime;
  let existing = findGallery(runtime, gallery);
  if (existing && options.replace) {
    galleries.deleteGallery(gallery);
    existing = null;
  }
  if (existing) galleries.assertEmbedder(gallery, binding);
  else galleries.createGallery({ name: gallery, pack: pack.name, embedder: binding, settings: header.settings });

  const summary: ImportSummary = { gallery, pack: pack.name, created: !existing, imported: 0, skippedDuplicates: 0, total: 0 };
  const progress = new Progress(header.entryCount, { title: `import ${gallery}` });
  const flush = (chunk: PortableEntry[]): void => {
    const result = galleries.importEntries(gallery, chunk);
    summary.imported += result.imported;
    summary.skippedDuplicates += result.skippedDuplicates;
    progress.tick(`imported ${summary.imported}, duplicates ${summary.skippedDuplicates}`, chunk.length);
  };
  try {
    let chunk: PortableEntry[] = [];
    for await (const entry of entries) {
      if (options.signal.aborted) break;
      summary.total++;
      chunk.push(entry);
      if (chunk.length >= CHUNK) {
        flush(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) flush(chunk);
  } finally {
    progress.stop();
  }
  return summary;
}
