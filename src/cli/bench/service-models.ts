import { join } from 'node:path';
import type { Box, RgbImage } from '../../core/types.js';
import { cropImage } from '../../imaging/crop.js';
import { loadPackManifest, NO_DETECTOR } from '../../inference/model-manifest.js';
import { narrowThreads, OnnxSession, type InputTensor } from '../../inference/onnx-session.js';
import { modelFeeds } from '../../models/model-feeds.js';
import type { Photo } from './bench-inputs.js';
import type { BenchOptions } from './bench-types.js';
import { openRawModel, serviceSessionOptions } from './raw-models-bench.js';

/**
 * A pack's detector and embedder, opened in this process with the service's thread
 * settings, to time the raw model runs next to a service running in another process.
 */
export interface ServiceModels {
  runDetector(): Promise<void>;
  runEmbedder(batch: number): Promise<void>;
  /**
   * The detector and the batch-1 embedder (or the detector alone) on as many copies of the
   * models as the service runs side by side (its inference concurrency), each copy with the
   * service's narrow thread count and in a worker thread of its own, all at once: the raw
   * ceiling of the service's other way of using the cores. Resolves when the last copy is done.
   * With concurrency 1 it is undefined.
   */
  runSideBySide?(parts?: 'detector and embedder' | 'detector'): Promise<void>;
  /** Copies and threads per copy of runSideBySide. */
  sideBySide: { copies: number; threads: number };
  dispose(): Promise<void>;
}

export async function openServiceModels(options: BenchOptions, packName: string, photo: Photo, subject: Box | undefined): Promise<ServiceModels> {
  const { pack, dir } = await loadPackManifest(options.config.modelsDir, packName);
  const sessionOptions = serviceSessionOptions(options);
  const copies = options.config.inferenceConcurrency;
  const threads = narrowThreads({ ...sessionOptions, sideBySide: copies });
  const opened: Awaited<ReturnType<typeof openRawModel>>[] = [];
  const narrow: OnnxSession[] = [];
  const dispose = async () => {
    for (const m of opened) await m.session.dispose();
    for (const s of narrow) await s.dispose();
  };
  try {
    let detector: { model: (typeof opened)[number]; feeds: Record<string, InputTensor> } | undefined;
    if (pack.detector !== NO_DETECTOR) {
      const model = await openRawModel(join(dir, pack.detector), sessionOptions);
      opened.push(model);
      detector = { model, feeds: await modelFeeds(model.manifest, [photo.image]) };
    }
    const embedder = await openRawModel(join(dir, pack.embedder), sessionOptions);
    opened.push(embedder);
    const crop: RgbImage = subject ? await cropImage(photo.image, subject) : photo.image;
    const embedderFeeds = await modelFeeds(embedder.manifest, [crop]);
    // Feeds by batch size, for runEmbedder; batch 1 is also what the side-by-side copies run.
    const batches = new Map<number, Record<string, InputTensor>>([[1, embedderFeeds]]);
    const pairs: { detector?: OnnxSession; embedder: OnnxSession }[] = [];
    for (let i = 0; copies > 1 && i < copies; i++) {
      const pair = {
        ...(detector ? { detector: await OnnxSession.create(detector.model.modelPath, { ...sessionOptions, intraOpThreads: threads }) } : {}),
        embedder: await OnnxSession.create(embedder.modelPath, { ...sessionOptions, intraOpThreads: threads }),
      };
      narrow.push(...[pair.detector, pair.embedder].filter((s): s is OnnxSession => s !== undefined));
      pairs.push(pair);
    }
    // Feeds are copied to each worker (0.3-0.5 ms for the 3 MB detector input, within the time).
    const runPair = async (pair: (typeof pairs)[number], parts: 'detector and embedder' | 'detector') => {
      if (pair.detector && detector) await pair.detector.run(detector.feeds);
      if (parts === 'detector and embedder') await pair.embedder.run(embedderFeeds);
    };
    return {
      sideBySide: { copies, threads },
      ...(pairs.length > 0 ? { runSideBySide: async (parts = 'detector and embedder') => void (await Promise.all(pairs.map((p) => runPair(p, parts)))) } : {}),
      async runDetector() {
        if (detector) await detector.model.session.run(detector.feeds);
      },
      async runEmbedder(batch: number) {
        let feeds = batches.get(batch);
        if (!feeds) {
          feeds = await modelFeeds(embedder.manifest, Array.from({ length: batch }, () => crop));
          batches.set(batch, feeds);
        }
        await embedder.session.run(feeds);
      },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
