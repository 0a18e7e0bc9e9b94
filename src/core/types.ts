/** Shared types. This module imports nothing of ours. */

/** Box in image pixels: [x1, y1, x2, y2], x2/y2 exclusive-ish continuous coordinates. */
export type Box = [number, number, number, number];

/** A decoded image: 8-bit RGB, interleaved, row-major, EXIF orientation already applied. */
export interface RgbImage {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export interface Detection {
  box: Box;
  score: number;
  /** Index into the detector's class list, when it has one. */
  classId?: number;
  className?: string;
}

export interface DetectOptions {
  minScore?: number;
  maxDetections?: number;
}

export interface Detector {
  readonly id: string;
  init(): Promise<void>;
  dispose(): Promise<void>;
  /** Boxes in `image` pixel coordinates, clamped to the image, best score first. */
  detect(image: RgbImage, options?: DetectOptions): Promise<Detection[]>;
}

export type Metric = 'cosine';

export interface Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly metric: Metric;
  init(): Promise<void>;
  dispose(): Promise<void>;
  /** One L2-normalised vector per crop, computed in one batched run. */
  embed(crops: RgbImage[]): Promise<Float32Array[]>;
}

/** Per-pack defaults of the cascade; galleries and requests may override them. */
export interface PackDefaults {
  /** Minimum cosine similarity for a match to give its label. */
  threshold: number;
  topK: number;
  maxObjects: number;
  /** Minimum detector score for a box to become an object. */
  minScore: number;
  /** Use the whole image as one box when nothing is detected (never for faces). */
  wholeImageFallback: boolean;
  /**
   * How subjects are chosen. 'detections' (default): the detected boxes are the objects.
   * 'proposals': the best detected boxes that pass `minScore` and `proposalMinArea`, plus the
   * whole image, are all embedded and searched; the best-matching ones are kept after NMS.
   */
  subjects?: SubjectStrategy;
  /** 'proposals': most detected boxes searched besides the whole image. */
  proposals?: number;
  /** 'proposals': smallest box searched, as a fraction of the image area. */
  proposalMinArea?: number;
  /** Re-rank the top matches by local-feature matching with a geometric check, when available. */
  verify?: boolean;
}

export type SubjectStrategy = 'detections' | 'proposals';

/** A detector and an embedder that belong together, with their defaults. */
export interface Pack {
  readonly name: string;
  readonly detector: Detector;
  readonly embedder: Embedder;
  readonly defaults: PackDefaults;
}
