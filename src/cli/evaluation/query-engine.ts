import type { Runtime } from '../../bootstrap.js';
import { AppError } from '../../core/app-error.js';
import type { Box } from '../../core/types.js';
import { resolveOptions } from '../../pipeline/recognition-options.js';
import { pipelineGallery } from '../indexing/offline-target.js';
import type { ApiClient } from '../shared/api-client.js';
import { CliError } from '../shared/cli-main.js';

export interface EntryInfo {
  id: string;
  label: string;
  imageSha256: string;
  box: Box;
  /** The image path the entry was indexed from (metadata.source), when known. */
  source?: string;
}

export interface GalleryView {
  name: string;
  pack: string;
  /** The gallery's effective threshold (pack default < gallery setting). */
  threshold: number;
  entries: Map<string, EntryInfo>;
}

export interface QueryObject {
  box: Box;
  score: number;
  /** Gallery neighbours of this object, most similar first. */
  neighbours: { entryId: string; label: string; similarity: number }[];
  /** Geometric verification confirmed the first neighbour (the service labels it whatever its similarity). */
  verified: boolean;
}

export interface QueryOutcome {
  width: number;
  height: number;
  /** The objects recognition reports for the image, each with its neighbours. */
  objects: QueryObject[];
}

/** How evaluation asks "what does the gallery hold near this image": data folder or service. */
export interface QueryEngine {
  readonly mode: 'offline' | 'url';
  readonly where: string;
  /** The largest k one query can ask for. */
  readonly maxDepth: number;
  load(gallery: string): Promise<GalleryView>;
  query(bytes: Buffer, filename: string, k: number): Promise<QueryOutcome>;
  close(): Promise<void>;
}

const sourceOf = (metadata: Record<string, unknown> | null): string | undefined =>
  typeof metadata?.source === 'string' ? metadata.source : undefined;

/** The server's own pipeline and store on the data folder: `recognize`, as the service runs it. */
export class OfflineQueryEngine implements QueryEngine {
  readonly mode = 'offline';
  readonly maxDepth = 10_000;
  private ref: ReturnType<typeof pipelineGallery> | undefined;
  private inFlight = 0;
  /** Queries waiting for another one to finish (and give back its share of the pixel budget). */
  private waiting: (() => void)[] = [];

  constructor(
    private readonly runtime: Runtime,
    readonly where: string,
  ) {}

  async load(gallery: string): Promise<GalleryView> {
    const { galleries, pipeline } = this.runtime;
    const ref = pipelineGallery(galleries.getGalleryRef(gallery));
    const pack = pipeline.packFor(ref);
    const entries = new Map<string, EntryInfo>();
    let cursor: string | undefined;
    do {
      const page = galleries.listEntries(gallery, { limit: 10_000, ...(cursor ? { cursor } : {}) });
      for (const e of page.entries) entries.set(e.id, { id: e.id, label: e.label, imageSha256: e.imageSha256, box: e.box, source: sourceOf(e.metadata) });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    this.ref = ref;
    return { name: gallery, pack: pack.name, threshold: resolveOptions(pack.defaults, ref.settings).threshold, entries };
  }

  /**
   * The decoded pixels of the queries in flight share a budget (SPOTTER_MAX_PIXELS_IN_FLIGHT);
   * a query over it is refused with OVERLOADED, as the service answers 503. Where the HTTP client
   * retries, this waits for another query to finish and tries again: a query is never dropped
   * (a lone one is always let through, so waiting ends).
   */
  async query(bytes: Buffer, _filename: string, k: number): Promise<QueryOutcome> {
    for (let aloneRetries = 0; ; ) {
      this.inFlight++;
      let others: number;
      try {
        const result = await this.runtime.pipeline.recognize(bytes, this.ref!, { topK: k });
        return { width: result.width, height: result.height, objects: result.objects.map(({ box, score, matches, verified }) => ({ box, score, neighbours: matches, verified: verified !== undefined })) };
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'OVERLOADED')) throw error;
        others = this.inFlight - 1;
        if (others === 0 && ++aloneRetries > 1) throw error;
      } finally {
        this.inFlight--;
        for (const wake of this.waiting.splice(0)) wake();
      }
      // Those that held the pixels may all have finished meanwhile: then try again at once.
      if (others > 0) await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  async close(): Promise<void> {
    await this.runtime.dispose();
  }
}

/** The service's topK limit: with --url, the largest --depth. */
export const SERVICE_MAX_DEPTH = 100;

/** A running service's recognize endpoint; its topK limit bounds the depth. */
export class HttpQueryEngine implements QueryEngine {
  readonly mode = 'url';
  readonly maxDepth = SERVICE_MAX_DEPTH;
  private name = '';

  constructor(
    private readonly client: ApiClient,
    readonly where: string,
  ) {}

  async load(gallery: string): Promise<GalleryView> {
    const info = await this.client.getGallery(gallery);
    if (!info) throw new CliError(`no gallery named "${gallery}" at ${this.where}`);
    if (!info.effective) throw new CliError(`gallery "${gallery}" at ${this.where} uses pack "${info.pack}", which the service does not load (SPOTTER_PACKS)`);
    this.name = gallery;
    const entries = new Map<string, EntryInfo>();
    for await (const e of this.client.entries(gallery)) entries.set(e.id, { id: e.id, label: e.label, imageSha256: e.imageSha256, box: e.box, source: sourceOf(e.metadata) });
    return { name: gallery, pack: info.pack, threshold: info.effective.threshold, entries };
  }

  async query(bytes: Buffer, filename: string, k: number): Promise<QueryOutcome> {
    const result = await this.client.recognize(this.name, bytes, filename, Math.min(k, this.maxDepth));
    return { width: result.width, height: result.height, objects: result.objects.map(({ box, score, matches, verified }) => ({ box, score, neighbours: matches, verified: verified !== undefined })) };
  }

  async close(): Promise<void> {}
}
