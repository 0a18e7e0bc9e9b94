import type { Box, Metric } from '../core/types.js';

/** The embedder a gallery's vectors came from; vectors of another embedder are not comparable. */
export interface EmbedderBinding {
  embedderId: string;
  dimension: number;
  metric: Metric;
}

/** What a request needs to know of a gallery; cheap to read (no counting). */
/**
 * A gallery as a request addresses it: by name, and, when known, by the id it had when the
 * request began. With the id, a gallery deleted and made again under the same name meanwhile is
 * not written to or searched in its place: the request gets GALLERY_NOT_FOUND.
 */
export type GalleryKey = string | { name: string; id?: number };

export interface GalleryRef {
  /** Never reused: a gallery made again under the same name gets a new one. */
  id: number;
  name: string;
  pack: string;
  embedder: EmbedderBinding;
  /** Per-gallery overrides (threshold, topK, ...), stored opaquely; the caller validates them. */
  settings: Record<string, unknown>;
  createdAt: string;
}

export interface GalleryInfo extends GalleryRef {
  entryCount: number;
  labelCount: number;
  /** Entries enrolled with local features, which geometric verification can check. */
  localFeatureCount: number;
}

export interface CreateGalleryInput {
  name: string;
  pack: string;
  embedder: EmbedderBinding;
  settings?: Record<string, unknown>;
}

/** One enrolled crop. The vector is left out; `getEntryVector` reads it when needed. */
export interface Entry {
  id: string;
  label: string;
  metadata: Record<string, unknown> | null;
  box: Box;
  imageSha256: string;
  createdAt: string;
}

export interface AddEntryInput {
  label: string;
  metadata?: Record<string, unknown> | null;
  box: Box;
  imageSha256: string;
  /** Unit length; similarity is the inner product. */
  vector: Float32Array;
  /** Local features for geometric verification, stored in the entry's transaction. */
  localFeatures?: LocalFeatures;
  /** The embedder that made `vector`; when given, an entry for a gallery bound to another is refused. */
  embedder?: EmbedderBinding;
}

/** A serialised local-feature record and the extractor (with its settings) that wrote it. */
export interface LocalFeatures {
  verifier: string;
  data: Uint8Array;
}

export interface EntryPatch {
  label?: string;
  metadata?: Record<string, unknown> | null;
}

export interface ListEntriesOptions {
  label?: string;
  limit: number;
  cursor?: string;
}

export interface EntryPage {
  entries: Entry[];
  nextCursor: string | null;
}

export interface LabelCount {
  label: string;
  count: number;
}

export interface SearchHit {
  entryId: string;
  label: string;
  /** Inner product of unit vectors (= cosine), higher is closer. */
  similarity: number;
  metadata: Record<string, unknown> | null;
}

/** One entry as it travels in a batch export or import, vector included. */
export interface PortableEntry {
  label: string;
  metadata: Record<string, unknown> | null;
  box: Box;
  imageSha256: string;
  createdAt: string;
  vector: Float32Array;
  localFeatures?: LocalFeatures;
}

export interface ImportResult {
  imported: number;
  skippedDuplicates: number;
}

export interface ConsistencyReport {
  storeCount: number;
  indexCount: number;
  consistent: boolean;
}

export interface HnswParams {
  m: number;
  efConstruction: number;
  /** Search breadth; each search uses max(ef, k). */
  ef: number;
}

export interface GalleryLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

export interface GalleryStoreOptions {
  dataDir: string;
  /** Snapshot a gallery's index after this many index changes since its last snapshot. */
  snapshotEveryChanges?: number;
  /** Snapshot galleries with pending changes at this interval; 0 turns the timer off. */
  snapshotIntervalMs?: number;
  /** Initial HNSW capacity of a new or rebuilt index; it doubles when full. */
  initialCapacity?: number;
  /** Rebuild (compact) the index on snapshot when this fraction of its points is deleted. */
  compactDeletedFraction?: number;
  /** Longest stretch (ms) a background compaction holds the event loop before yielding. */
  compactionSliceMs?: number;
  hnsw?: Partial<HnswParams>;
  logger?: GalleryLogger;
}
