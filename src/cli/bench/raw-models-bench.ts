import { join } from 'node:path';
import { DirectSession } from '../../inference/direct-session.js';
import { loadModelManifest, loadPackManifest, NO_DETECTOR, type ModelManifest } from '../../inference/model-manifest.js';
import type { InputTensor, SessionOptions } from '../../inference/onnx-session.js';
import { listPacks } from '../../models/pack-loader.js';
import { modelFeeds } from '../../models/model-feeds.js';
import { centreCrop, readPhotos, referencePhoto, type Photo } from './bench-inputs.js';
import { summarize, timeLoop, type Summary } from './bench-stats.js';
import { formatMs, formatNumber } from './bench-table.js';
import type { BenchOptions, SectionResult } from './bench-types.js';

export const EMBEDDER_BATCHES = [1, 4, 16] as const;

export interface RawModelFigure {
  pack: string;
  role: 'detector' | 'embedder';
  model: string;
  batch: number;
  summary: Summary;
  /** Median per image (per crop for embedders). */
  perItemMs: number;
}

/** Session options as the service derives them from its configuration. */
export function serviceSessionOptions(options: BenchOptions): SessionOptions {
  return { intraOpThreads: options.config.intraOpThreads, interOpThreads: options.config.interOpThreads };
}

/** Repetitions for a run of about `ms` milliseconds: enough samples for a p90, bounded in time. */
function loopFor(options: BenchOptions, batch: number) {
  const iterations = options.quick ? Math.max(6, Math.round(24 / batch)) : Math.max(20, Math.round(120 / batch));
  return { warmup: options.quick ? 2 : 5, iterations, maxMs: options.quick ? 2_500 : 20_000 };
}

interface RawModel {
  manifest: ModelManifest;
  modelPath: string;
  session: DirectSession;
}

/** A model's manifest and an onnxruntime session on this thread (no worker), to time the model alone. */
export async function openRawModel(manifestPath: string, options: SessionOptions): Promise<RawModel> {
  const { manifest, modelPath } = await loadModelManifest(manifestPath);
  return { manifest, modelPath, session: await DirectSession.create(modelPath, options) };
}

async function timeModel(model: RawModel, feeds: Record<string, InputTensor>, options: BenchOptions, batch: number): Promise<Summary> {
  return summarize(await timeLoop(() => model.session.run(feeds), loopFor(options, batch)));
}

function manifestFiles(pack: { detector: string; alternativeDetectors?: string[] | undefined; embedder: string }) {
  const detectors = [pack.detector, ...(pack.alternativeDetectors ?? [])].filter((f) => f !== NO_DETECTOR);
  return { detectors, embedder: pack.embedder };
}

async function benchPack(packName: string, photo: Photo, options: BenchOptions, notes: string[]): Promise<RawModelFigure[]> {
  const { pack, dir } = await loadPackManifest(options.config.modelsDir, packName);
  const files = manifestFiles(pack);
  const figures: RawModelFigure[] = [];
  const open = async (file: string): Promise<RawModel | undefined> => {
    try {
      return await openRawModel(join(dir, file), serviceSessionOptions(options));
    } catch (error) {
      notes.push(`${packName}/${file}: not measured (${error instanceof Error ? error.message : String(error)})`);
      return undefined;
    }
  };
  for (const file of files.detectors) {
    const model = await open(file);
    if (!model) continue;
    try {
      const summary = await timeModel(model, await modelFeeds(model.manifest, [photo.image]), options, 1);
      figures.push({ pack: packName, role: 'detector', model: model.manifest.id, batch: 1, summary, perItemMs: summary.median });
      options.log(`  ${packName} detector ${model.manifest.id}: ${formatMs(summary.median)} ms`);
    } finally {
      await model.session.dispose();
    }
  }
  const embedder = await open(files.embedder);
  if (embedder) {
    try {
      const crop = await centreCrop(photo.image);
      for (const batch of EMBEDDER_BATCHES) {
        const feeds = await modelFeeds(embedder.manifest, Array.from({ length: batch }, () => crop));
        const summary = await timeModel(embedder, feeds, options, batch);
        figures.push({ pack: packName, role: 'embedder', model: embedder.manifest.id, batch, summary, perItemMs: summary.median / batch });
        options.log(`  ${packName} embedder ${embedder.manifest.id} batch ${batch}: ${formatMs(summary.median)} ms`);
      }
    } finally {
      await embedder.session.dispose();
    }
  }
  return figures;
}

/** Section 1: onnxruntime `run` alone for every built-in model, with the service's threads. */
export async function runRawModelsBench(options: BenchOptions): Promise<SectionResult> {
  const photo = referencePhoto(await readPhotos(options.photosDir));
  const installed = new Set(await listPacks(options.config.modelsDir));
  const notes = [`input: ${photo.file} (${photo.image.width}x${photo.image.height}) preprocessed once; embedder crops are its centre half, repeated to the batch size`];
  const figures: RawModelFigure[] = [];
  for (const packName of options.config.packs) {
    if (!installed.has(packName)) {
      notes.push(`pack ${packName}: not installed under ${options.config.modelsDir}`);
      continue;
    }
    figures.push(...(await benchPack(packName, photo, options, notes)));
  }
  const ceilings = options.config.packs.flatMap((packName) => {
    const detector = figures.find((f) => f.pack === packName && f.role === 'detector');
    const embedder = figures.find((f) => f.pack === packName && f.role === 'embedder' && f.batch === 1);
    if (!detector || !embedder) return [];
    const ms = detector.summary.median + embedder.summary.median;
    return [{ pack: packName, detector: detector.model, embedder: embedder.model, msPerImage: ms, imagesPerSecond: 1000 / ms }];
  });
  for (const c of ceilings) {
    notes.push(`${c.pack} ceiling (default detector + embedder at batch 1, one subject per image): ${formatMs(c.msPerImage)} ms = ${formatNumber(c.imagesPerSecond)} images/s`);
  }
  return {
    id: 'raw',
    title: '1. Raw models (onnxruntime session.run alone, on the calling thread)',
    tables: [{
      table: {
        headers: ['pack', 'role', 'model', 'batch', 'median ms', 'p90 ms', 'p99 ms', 'per item ms', 'items/s'],
        rows: figures.map((f) => [
          f.pack, f.role, f.model, f.batch, formatMs(f.summary.median), formatMs(f.summary.p90), formatMs(f.summary.p99),
          formatMs(f.perItemMs), formatNumber(1000 / f.perItemMs),
        ]),
      },
    }],
    notes,
    targets: [],
    data: { photo: photo.file, figures, ceilings },
  };
}
