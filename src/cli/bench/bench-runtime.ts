import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrap, type Runtime } from '../../bootstrap.js';
import type { Config } from '../../config/config.js';
import type { RgbImage } from '../../core/types.js';
import { cropImage } from '../../imaging/crop.js';
import type { DirectSession } from '../../inference/direct-session.js';
import { loadPackManifest, NO_DETECTOR, type ModelManifest } from '../../inference/model-manifest.js';
import { embedderOf, type GalleryRef } from '../../pipeline/pipeline-types.js';
import type { RecognitionOverrides } from '../../pipeline/recognition-options.js';
import type { Photo } from './bench-inputs.js';
import { openRawModel } from './raw-models-bench.js';

/** The service wired by `bootstrap` on a throw-away data folder, with one gallery to search. */
export interface BenchRuntime {
  runtime: Runtime;
  packName: string;
  gallery: GalleryRef;
  /** The pack's models again, on this thread without the worker, to time them alone. */
  detector: { manifest: ModelManifest; session: DirectSession } | undefined;
  embedder: { manifest: ModelManifest; session: DirectSession };
  dispose(): Promise<void>;
}

/** The configuration the service would use here, on a temporary data folder, quiet. */
export function benchConfig(base: Config, dataDir: string): Config {
  return Object.freeze({ ...base, dataDir, logLevel: 'warn' as const });
}

export async function openBenchRuntime(base: Config, reference: Photo, packName = base.defaultPack): Promise<BenchRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), 'spotter-bench-'));
  let runtime: Runtime | undefined;
  try {
    runtime = await bootstrap(benchConfig(base, dataDir));
    const pack = runtime.pipeline.pack(packName);
    const info = runtime.galleries.createGallery({ name: 'bench', pack: packName, embedder: embedderOf(pack), settings: {} });
    const gallery: GalleryRef = { name: info.name, pack: info.pack, embedder: info.embedder, settings: info.settings as RecognitionOverrides };
    await runtime.pipeline.enrol(reference.bytes, gallery, { label: 'reference' }, runtime.galleries);

    const { pack: manifest, dir } = await loadPackManifest(base.modelsDir, packName);
    const sessionOptions = { intraOpThreads: base.intraOpThreads, interOpThreads: base.interOpThreads };
    const detector = manifest.detector !== NO_DETECTOR ? await openRawModel(join(dir, manifest.detector), sessionOptions) : undefined;
    const embedder = await openRawModel(join(dir, manifest.embedder), sessionOptions);
    const opened = runtime;
    return {
      runtime: opened, packName, gallery, detector, embedder,
      async dispose() {
        await detector?.session.dispose();
        await embedder.session.dispose();
        await opened.dispose();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await runtime?.dispose();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** The crops the pipeline would embed for an image: its detected subjects. */
export async function subjectCrops(bench: BenchRuntime, photo: Photo): Promise<RgbImage[]> {
  const result = await bench.runtime.pipeline.detect(photo.bytes, bench.packName);
  return Promise.all(result.objects.map((o) => cropImage(photo.image, o.box)));
}
