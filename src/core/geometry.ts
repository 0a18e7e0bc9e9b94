import type { Box } from './types.js';

/** Area of a box; degenerate (inverted or empty) boxes have area 0. */
export function boxArea(box: Box): number {
  return Math.max(0, box[2] - box[0]) * Math.max(0, box[3] - box[1]);
}

/** Intersection over union of two [x1, y1, x2, y2] boxes; 0 when either box is empty. */
export function iou(a: Box, b: Box): number {
  const areaA = boxArea(a);
  const areaB = boxArea(b);
  if (areaA <= 0 || areaB <= 0) return 0;
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (areaA + areaB - inter);
}

/** Clamps a box to [0, width] x [0, height]. */
export function clampBox(box: Box, width: number, height: number): Box {
  const cx = (v: number) => Math.min(Math.max(v, 0), width);
  const cy = (v: number) => Math.min(Math.max(v, 0), height);
  return [cx(box[0]), cy(box[1]), cx(box[2]), cy(box[3])];
}

/** A box as answers give it: pixel coordinates to two decimals. */
export const roundBox = (box: Box): Box => box.map((v) => Math.round(v * 100) / 100) as Box;

export interface NmsOptions {
  /** A candidate is dropped when its IoU with a kept item is above this. */
  iouThreshold: number;
  /** Items with score <= minScore are dropped before suppression (face-api uses a strict >). */
  minScore?: number;
  maxResults?: number;
}

/**
 * Greedy class-agnostic non-maximum suppression. Returns the kept items, best score first;
 * equal scores keep their input order (the sort is stable), so results are reproducible.
 */
export function nms<T extends { box: Box; score: number }>(items: readonly T[], options: NmsOptions): T[] {
  const { iouThreshold, minScore = -Infinity, maxResults = Infinity } = options;
  const candidates = items.filter((item) => item.score > minScore).sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const candidate of candidates) {
    if (kept.length >= maxResults) break;
    if (kept.every((k) => iou(k.box, candidate.box) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}
