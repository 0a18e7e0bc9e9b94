import { pino, type Logger } from 'pino';
import type { Config } from './config/config.js';
import { allowHeapGrowth } from './core/heap-growth.js';
import type { Pack } from './core/types.js';
import { GalleryStore } from './gallery/gallery-store.js';
import type { AppDeps, Readiness } from './http/app-deps.js';
import { loadPack } from './models/pack-loader.js';
import { InferenceLimiter } from './pipeline/inference-limiter.js';
import { RecognitionPipeline } from './pipeline/recognition-pipeline.js';
import { OrbVerifier } from './verification/orb-verifier.js';

export interface Runtime extends AppDeps {
  packs: ReadonlyMap<string, Pack>;
  /** Loads what would otherwise load on first use (the verifier's OpenCV runtime); never throws. */
  warmUp(): Promise<void>;
  /** From now on readiness answers not ready (the process is about to stop); requests are still served. */
  stopping(): void;
  dispose(): Promise<void>;
}

/**
 * The one place that wires concrete parts together: packs (models), the gallery store, the
 * inference limiter, the verifier and the pipeline. `dispose` releases them in reverse order.
 * The verifier starts on first use (or `warmUp`): most runtimes, e.g. batch tools on face
 * galleries, never verify and need not pay for loading OpenCV.
 */
export async function bootstrap(config: Config, options: { logger?: Logger } = {}): Promise<Runtime> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  allowHeapGrowth();
  const disposers: (() => Promise<void>)[] = [];
  let ready = false;
  let stopping = false;
  try {
    const packs = new Map<string, Pack>();
    for (const name of config.packs) {
      const started = performance.now();
      const pack = await loadPack(config.modelsDir, name, {
        intraOpThreads: config.intraOpThreads,
        interOpThreads: config.interOpThreads,
        sideBySide: config.inferenceConcurrency,
      });
      disposers.push(async () => {
        await pack.detector.dispose();
        await pack.embedder.dispose();
      });
      packs.set(name, pack);
      logger.info({ pack: name, detector: pack.detector.id, embedder: pack.embedder.id, ms: Math.round(performance.now() - started) }, 'pack loaded');
    }
    const galleries = new GalleryStore({
      dataDir: config.dataDir,
      snapshotEveryChanges: config.snapshotEveryChanges,
      snapshotIntervalMs: config.snapshotIntervalMs,
      hnsw: { m: config.hnswM, efConstruction: config.hnswEfConstruction, ef: config.hnswEf },
      logger: logger.child({ component: 'gallery' }),
    });
    await galleries.init();
    disposers.push(() => galleries.dispose());
    const verifier = config.verifier === 'orb' ? new OrbVerifier({ threads: config.verifierThreads }) : undefined;
    if (verifier) disposers.push(() => verifier.dispose());
    const limiter = new InferenceLimiter(config.inferenceConcurrency, config.queueSize, 1, config.maxPixelsInFlight);
    const pipeline = new RecognitionPipeline({
      packs,
      index: galleries,
      limiter,
      limits: { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, maxDimension: config.maxImageSide },
      // The gallery store keeps each entry's local features beside it (deleted with it).
      ...(verifier ? { verification: { verifier, store: galleries, onError: (err: unknown) => logger.warn({ err }, 'verification failed; answered by embedding alone') } } : {}),
    });
    ready = true;
    // Readiness reads the gallery database, so a database damaged after start makes the service
    // not ready (503, with the reason) rather than failing the probe itself with a 500.
    const readiness = (): Readiness => {
      const packList = [...packs.values()].map((p) => ({ name: p.name, detector: p.detector.id, embedder: p.embedder.id, dimension: p.embedder.dimension }));
      if (!ready) return { ready, packs: packList, galleries: 0 };
      if (stopping) return { ready: false, packs: packList, galleries: 0, problem: 'the service is stopping' };
      try {
        return { ready, packs: packList, galleries: galleries.listGalleries().length };
      } catch (err) {
        logger.error({ err }, 'readiness: the gallery database cannot be read');
        return { ready: false, packs: packList, galleries: 0, problem: `the gallery database cannot be read: ${err instanceof Error ? err.message : String(err)}` };
      }
    };
    return {
      config, logger, packs, galleries, limiter, pipeline, readiness,
      async warmUp() {
        if (!verifier) return;
        const started = performance.now();
        try {
          await verifier.init();
          logger.info({ verifier: verifier.id, ms: Math.round(performance.now() - started) }, 'verifier loaded');
        } catch (err) {
          logger.warn({ err }, 'verifier failed to load; verified requests will retry it');
        }
      },
      stopping() {
        stopping = true;
      },
      async dispose() {
        ready = false;
        for (const dispose of disposers.reverse()) await dispose();
      },
    };
  } catch (err) {
    for (const dispose of disposers.reverse()) await dispose().catch(() => undefined);
    throw err;
  }
}
