import type { Runtime } from '../../bootstrap.js';
import { AppError } from '../../core/app-error.js';
import type { PortableEntry } from '../../gallery/gallery-types.js';
import { checkEntryFields, checkGalleryName, checkLocalFeatures } from '../../gallery/gallery-validation.js';
import { checkVector } from '../../gallery/vector-codec.js';
import { embedderOf } from '../../pipeline/pipeline-types.js';
import { CliError } from '../shared/cli-main.js';
import { Progress } from '../shared/progress.js';
import { openGalleryFile } from './gallery-file.js';
import { findGallery } from './offline-target.js';

export interface ImportSummary {
  gallery: string;
  pack: string;
  created: boolean;
  replaced: boolean;
  imported: number;
  skippedDuplicates: number;
  total: number;
}

/** Rows per transaction: bounds memory, and a rerun after an interruption resumes by skipping duplicates. */
const CHUNK = 1000;

/** The store's own checks of an imported row, so a bad line is found before anything is written. */
function checkRow(dimension: number): (entry: PortableEntry) => void {
  return (entry) => {
    checkEntryFields(entry.label, entry.box, entry.imageSha256, entry.metadata ?? null);
    checkVector(entry.vector, dimension, 'entry');
    if (entry.localFeatures) checkLocalFeatures(entry.localFeatures);
    if (Number.isNaN(Date.parse(entry.createdAt))) throw new AppError('BAD_REQUEST', 'createdAt is not an ISO date string.');
  };
}

/**
 * Loads an exported gallery file into the data folder without re-embedding. The file's embedder
 * must be the one of the pack it is imported into, and of the gallery when it exists.
 *
 * The whole file is read and checked first (JSON, vectors, the store's rules for every row);
 * only a file without a bad line creates, replaces or adds to the gallery, so a malformed or
 * truncated file leaves the gallery as it was.
 */
export async function importGalleryFile(
  runtime: Runtime,
  file: string,
  options: { gallery?: string; pack?: string; replace: boolean; signal: AbortSignal },
): Promise<ImportSummary> {
  const { header } = await openGalleryFile(file);
  const gallery = options.gallery ?? header.gallery;
  try {
    checkGalleryName(gallery);
  } catch (error) {
    throw new CliError(`${file} names the gallery "${gallery}": ${(error as Error).message} Pass --gallery NAME.`);
  }
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
  if (existing && !options.replace) galleries.assertEmbedder(gallery, binding);
  const summary: ImportSummary = { gallery, pack: pack.name, created: false, replaced: false, imported: 0, skippedDuplicates: 0, total: 0 };

  // 1. Check every line; nothing is changed yet.
  const check = checkRow(header.embedder.dimension);
  const checking = new Progress(header.entryCount, { title: `check ${file}`, unit: 'entries' });
  try {
    for await (const _entry of (await openGalleryFile(file, { check })).entries) {
      if (options.signal.aborted) return summary;
      summary.total++;
      checking.tick(`checked ${summary.total}`);
    }
  } finally {
    checking.stop();
  }

  // 2. Replace or create the gallery, then add the rows in transactions of CHUNK.
  if (existing && options.replace) {
    galleries.deleteGallery(gallery);
    existing = null;
    summary.replaced = true;
  }
  if (!existing) {
    galleries.createGallery({ name: gallery, pack: pack.name, embedder: binding, settings: header.settings });
    summary.created = true;
  }
  const progress = new Progress(summary.total, { title: `import ${gallery}`, unit: 'entries' });
  const flush = (chunk: PortableEntry[]): void => {
    const result = galleries.importEntries(gallery, chunk);
    summary.imported += result.imported;
    summary.skippedDuplicates += result.skippedDuplicates;
    progress.tick(`imported ${summary.imported}, duplicates ${summary.skippedDuplicates}`, chunk.length);
  };
  try {
    let chunk: PortableEntry[] = [];
    for await (const entry of (await openGalleryFile(file, { check })).entries) {
      if (options.signal.aborted) break;
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
