import { describe, expect, it } from 'vitest';
import { boxArea, clampBox, iou, nms } from '../../../src/core/geometry.js';
import type { Box } from '../../../src/core/types.js';

describe('boxArea', () => {
  it('is width x height, 0 for empty or inverted boxes', () => {
    expect(boxArea([0, 0, 4, 3])).toBe(12);
    expect(boxArea([2, 2, 2, 5])).toBe(0);
    expect(boxArea([5, 5, 1, 1])).toBe(0);
  });
});

describe('iou', () => {
  it('is 1 for identical boxes and 0 for disjoint or touching ones', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
  });

  it('is intersection over union for overlaps', () => {
    // 5x10 overlap, union 100 + 100 - 50
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    // contained box: 25 / 100
    expect(iou([0, 0, 10, 10], [2, 2, 7, 7])).toBeCloseTo(0.25, 12);
  });

  it('is 0 when a box is empty', () => {
    expect(iou([0, 0, 0, 10], [0, 0, 10, 10])).toBe(0);
  });
});

describe('clampBox', () => {
  it('clamps each coordinate to the image', () => {
    expect(clampBox([-5, -1, 120, 50], 100, 40)).toEqual([0, 0, 100, 40]);
    expect(clampBox([10, 10, 20, 20], 100, 40)).toEqual([10, 10, 20, 20]);
  });
});

describe('nms', () => {
  const item = (box: Box, score: number, tag: string) => ({ box, score, tag });

  it('keeps the best of overlapping boxes, best first, and keeps extra fields', () => {
    const items = [
      item([0, 0, 10, 10], 0.7, 'a'),
      item([1, 1, 11, 11], 0.9, 'b'),
      item([50, 50, 60, 60], 0.8, 'c'),
    ];
    expect(nms(items, { iouThreshold: 0.5 }).map((i) => i.tag)).toEqual(['b', 'c']);
  });

  it('suppresses only above the IoU threshold', () => {
    const items = [item([0, 0, 10, 10], 0.9, 'a'), item([5, 0, 15, 10], 0.8, 'b')]; // IoU 1/3
    expect(nms(items, { iouThreshold: 0.4 })).toHaveLength(2);
    expect(nms(items, { iouThreshold: 0.3 })).toHaveLength(1);
  });

  it('drops scores at or below minScore (strict) and stops at maxResults', () => {
    const items = [item([0, 0, 1, 1], 0.5, 'a'), item([5, 5, 6, 6], 0.6, 'b'), item([9, 9, 10, 10], 0.7, 'c')];
    expect(nms(items, { iouThreshold: 0.5, minScore: 0.5 }).map((i) => i.tag)).toEqual(['c', 'b']);
    expect(nms(items, { iouThreshold: 0.5, maxResults: 1 }).map((i) => i.tag)).toEqual(['c']);
  });

  it('keeps input order for equal scores and does not mutate the input', () => {
    const items = [item([0, 0, 1, 1], 0.5, 'a'), item([5, 5, 6, 6], 0.5, 'b')];
    expect(nms(items, { iouThreshold: 0.5 }).map((i) => i.tag)).toEqual(['a', 'b']);
    expect(items.map((i) => i.tag)).toEqual(['a', 'b']);
  });
});
