import type { Box } from '../core/types.js';
import type { Match } from './decision.js';
import type { RecognitionOverrides } from './recognition-options.js';

/** What the cascade needs of a gallery index; the gallery layer provides it. */
export interface VectorIndex {
  search(gallery: string, vector: Float32Array, k: number): Match[];
}

/** What enrolment needs of the durable store. */
export interface EntrySink<E extends { id: string }> {
  findDuplicate(gallery: string, label: string, imageSha256: string): E | null;
  addEntry(
    gallery: string,
    input: {
      label: string;
      metadata?: Record<string, unknown> | null;
      box: Box;
      imageSha256: string;
      vector: Float32Array;
      /** Written with the entry, in one transaction (see verification.ts). */
      localFeatures?: LocalFeatures;
    },
  ): E;
}

/** A subject's serialised local features and the verifier (with its settings) that wrote them. */
export interface LocalFeatures {
  verifier: string;
  data: Uint8Array;
}

export interface GalleryRef {
  name: string;
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
