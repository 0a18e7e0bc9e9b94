import { describe, expect, it } from 'vitest';
import type { Detection } from '../../../src/core/types.js';
import type { RecognizedObject } from '../../../src/pipeline/pipeline-types.js';
import { resolveOptions } from '../../../src/pipeline/recognition-options.js';
import { enrolmentSubject, proposeSubjects, selectObjects } from '../../../src/pipeline/subject-proposals.js';
import { plausibleQuad } from '../../../src/pipeline/verification.js';

const size = { width: 100, height: 100 };
const base = { threshold: 0.7, topK: 5, maxObjects: 5, minScore: 0.1, wholeImageFallback: true };
const proposals = resolveOptions({ ...base, subjects: 'proposals', proposals: 2, proposalMinArea: 0.04 });
const detections = resolveOptions({ ...base, wholeImageFallback: false });

const det = (box: [number, number, number, number], score: number): Detection => ({ box, score });
const obj = (box: [number, number, number, number], label: string | null, similarity: number, score = 0.5): RecognizedObject => ({
  box,
  score,
  label,
  similarity,
  matches: label ? [{ entryId: label, label, similarity, metadata: null }] : [],
});

describe('proposeSubjects', () => {
  const found = [det([0, 0, 10, 10], 0.6), det([10, 10, 60, 60], 0.5), det([0, 0, 98, 99], 0.4), det([50, 50, 90, 90], 0.3), det([5, 5, 40, 40], 0.05)];

  it("'proposals': the best boxes that pass score and area, then the whole image", () => {
    // [0,0,10,10] is 1% of the image; [0,0,98,99] is the whole image again; the last scores too low.
    expect(proposeSubjects(found, size, proposals).map((d) => d.box)).toEqual([
      [10, 10, 60, 60],
      [50, 50, 90, 90],
      [0, 0, 100, 100],
    ]);
    expect(proposeSubjects([], size, proposals).map((d) => d.box)).toEqual([[0, 0, 100, 100]]);
    expect(proposeSubjects(found, size, { ...proposals, proposals: 0 })).toHaveLength(1);
  });

  it("'detections': the detector's boxes, the whole image only as a permitted fallback", () => {
    expect(proposeSubjects(found, size, detections)).toHaveLength(5);
    expect(proposeSubjects([], size, detections)).toEqual([]);
    expect(proposeSubjects([], size, { ...detections, wholeImageFallback: true })).toEqual([{ box: [0, 0, 100, 100], score: 1 }]);
  });

  it('enrols the whole image under proposals, the best detection otherwise', () => {
    expect(enrolmentSubject(found, size, proposals)?.box).toEqual([0, 0, 100, 100]);
    expect(enrolmentSubject(found, size, detections)?.box).toEqual([0, 0, 10, 10]);
  });
});

describe('selectObjects', () => {
  it("'proposals': labelled boxes by similarity; the same label inside another is one object", () => {
    const objects = [obj([0, 0, 100, 100], 'tea', 0.8, 1), obj([10, 10, 40, 40], 'tea', 0.9), obj([60, 60, 90, 90], 'cup', 0.75), obj([50, 0, 70, 20], null, 0.5)];
    expect(selectObjects(objects, proposals).map((o) => [o.label, o.similarity])).toEqual([
      ['tea', 0.9],
      ['cup', 0.75],
    ]);
  });

  it("'proposals': when nothing is labelled, the best-matching box is reported as unknown", () => {
    const objects = [obj([0, 0, 100, 100], null, 0.6, 1), obj([10, 10, 40, 40], null, 0.65)];
    expect(selectObjects(objects, proposals)).toEqual([objects[1]]);
    expect(selectObjects([], proposals)).toEqual([]);
  });

  it("'detections': every box, recognised first, overlapping ones merged", () => {
    const objects = [obj([0, 0, 50, 50], null, 0.5, 0.9), obj([1, 1, 50, 50], 'ann', 0.95, 0.8), obj([60, 60, 90, 90], null, 0.3)];
    expect(selectObjects(objects, detections).map((o) => o.label)).toEqual(['ann', null]);
  });
});

describe('plausibleQuad', () => {
  it('accepts a convex quadrilateral of sensible size and refuses folded, tiny or missing ones', () => {
    expect(plausibleQuad([[10, 10], [60, 12], [58, 70], [8, 65]], 100, 100)).toBe(true);
    expect(plausibleQuad([[10, 10], [58, 70], [60, 12], [8, 65]], 100, 100)).toBe(false);
    expect(plausibleQuad([[10, 10], [12, 10], [12, 12], [10, 12]], 100, 100)).toBe(false);
    expect(plausibleQuad(undefined, 100, 100)).toBe(false);
  });
});
