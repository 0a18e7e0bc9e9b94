import { join } from 'node:path';
import type { Box, RgbImage } from '../../core/types.js';
import { cropImage } from '../../imaging/crop.js';
import { loadPackManifest, NO_DETECTOR } from '../../inference/model-manifest.js';
import type { InputTensor } from '../../inference/onnx-session.js';
import { modelFeeds, type Photo } from './bench-inputs.js';
import type { BenchOptions } from './bench-types.js';
import { openRawModel, serviceSessionOptions } from './raw-models-bench.js';

/**
 * A pack's detector and embedder, opened in this process with the service's thread
 * settings, to time the raw model runs next to a service running in another process.
 */
export interface ServiceModels {
  runDetector(): Promise<void>;
  runEmbedder(batch: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function openServiceModels(options: BenchOptions, packName: string, photo: Photo, subject: Box | undefined): Promise<ServiceModels> {
  const { pack, dir } = await loadPackManifest(options.config.modelsDir, packName);
  const sessionOptions = serviceSessionOptions(options);
  const opened: Awaited<ReturnType<typeof openRawModel>>[] = [];
  const dispose = async () => {
    for (const m of opened) await m.session.dispose();
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
    const batches = new Map<number, Record<string, InputTensor>>();
    return {
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
