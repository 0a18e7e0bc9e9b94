import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { GalleryStore } from '../gallery/gallery-store.js';
import type { InferenceLimiter } from '../pipeline/inference-limiter.js';
import type { RecognitionPipeline } from '../pipeline/recognition-pipeline.js';

export interface Readiness {
  ready: boolean;
  packs: { name: string; detector: string; embedder: string; dimension: number }[];
  galleries: number;
  /** Why the service is not ready although it has started, e.g. a gallery database it cannot read. */
  problem?: string;
}

/** Everything the HTTP layer is given; bootstrap builds it. */
export interface AppDeps {
  config: Config;
  pipeline: RecognitionPipeline;
  galleries: GalleryStore;
  limiter: InferenceLimiter;
  logger: Logger;
  readiness(): Readiness;
}
