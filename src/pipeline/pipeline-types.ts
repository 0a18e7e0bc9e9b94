import type { Box, Metric, Pack } from '../core/types.js';
import type { Match } from './decision.js';
import type { RecognitionOverrides } from './recognition-options.js';

/**
 * A gallery as a request addresses it: by name, and, when known, by the id it had when the
 * request began, so that a gallery deleted and made again under the same name while the request
 * ran is not written to or searched in its place (GALLERY_NOT_FOUND instead).
 */
export type GalleryKey = string | { name: string; id?: number };

/** What the cascade needs of a gallery index; the gallery layer provides it. */
export interface VectorIndex {
  search(gallery: GalleryKey, vector: Float32Array, k: number): Match[];
}

/** What enrolment needs of the durable store. */
export interface EntrySink<E extends { id: string }> {
  findDuplicate(gallery: GalleryKey, label: string, imageSha256: string): E | null;
  addEntry(
    gallery: GalleryKey,
    input: {
      label: string;
      metadata?: Record<string, unknown> | null;
      box: Box;
      imageSha256: string;
      vector: Float32Array;
      /** Written with the entry, in one transaction (see verification.ts). */
      localFeatures?: LocalFeatures;
      /**
       * The embedder that made `vector`, checked against the gallery's as the entry is stored:
       * the gallery may have been deleted and made again for another pack while it was embedded.
       */
      embedder?: EmbedderBinding;
    },
  ): E;
}

/** A subject's serialised local features and the verifier (with its settings) that wrote them. */
export interface LocalFeatures {
  verifier: string;
  data: Uint8Array;
}

/** Which embedder made a gallery's vectors, as the store records it. */
export interface EmbedderBinding {
  embedderId: string;
  dimension: number;
  metric: Metric;
}

/** The embedder binding of a pack's vectors. */
export const embedderOf = (pack: Pack): EmbedderBinding => ({
  embedderId: pack.embedder.id,
  dimension: pack.embedder.dimension,
  metric: pack.embedder.metric,
});

export interface GalleryRef {
  name: string;
  /** The gallery's id in the store when the request began (see GalleryKey). */
  id?: number;
  pack: string;
  /** The embedder the gallery's vectors came from; checked against the pack's. */
  embedder?: { embedderId: string; dimension: number };
  settings?: RecognitionOverrides;
}

export interface DetectedObject {
  box: Box;
  score: number;
  className?: string;
}

export interface RecognizedObject extends DetectedObject {
  label: string | null;
  similarity: number | null;
  matches: Match[];
  /** Set when geometric verification found this item in the image (see verification.ts). */
  verified?: { inliers: number };
}

export interface ImageResult<T> {
  width: number;
  height: number;
  objects: T[];
  timings: Record<string, number>;
}
