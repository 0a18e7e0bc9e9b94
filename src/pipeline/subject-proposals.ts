import { boxArea, iou } from '../core/geometry.js';
import type { Box, Detection } from '../core/types.js';
import type { RecognizedObject } from './pipeline-types.js';
import type { RecognitionOptions } from './recognition-options.js';

/**
 * Which boxes of an image are searched, and which recognised ones are reported.
 *
 * 'detections' (faces): the detected boxes are the objects; the whole image only when nothing
 * was found and the pack allows it.
 *
 * 'proposals' (objects): a general detector is a weak judge of what the subject is, so its
 * boxes are proposals. The best few that pass the score and area gates are searched together
 * with the whole image; the ones that match best win, as PP-ShiTu keeps labelled boxes. A
 * clean product photo is then never worse off than searching the whole image alone.
 */

/** Overlap above which two reported objects are one (PP-ShiTu's 0.05 drops real neighbours). */
const FINAL_NMS_IOU = 0.5;
/** A box covering this much of another one with the same label is the same object. */
const SAME_LABEL_COVER = 0.8;
/** A proposal this close to the whole image adds nothing to it. */
const WHOLE_IMAGE_IOU = 0.9;

export const DEFAULT_PROPOSALS = 4;
export const DEFAULT_PROPOSAL_MIN_AREA = 0.04;

/** Every option with the value that applies when it is unset, as a gallery reports its `effective` settings. */
export function explicitOptions(options: RecognitionOptions): Required<RecognitionOptions> {
  return {
    ...options,
    subjects: options.subjects ?? 'detections',
    proposals: options.proposals ?? DEFAULT_PROPOSALS,
    proposalMinArea: options.proposalMinArea ?? DEFAULT_PROPOSAL_MIN_AREA,
    verify: options.verify ?? false,
  };
}

export function wholeImageBox(width: number, height: number): Detection {
  return { box: [0, 0, width, height], score: 1 };
}

/** The boxes to embed and search, from the detector's boxes (best score first). */
export function proposeSubjects(found: readonly Detection[], size: { width: number; height: number }, options: RecognitionOptions): Detection[] {
  const whole = wholeImageBox(size.width, size.height);
  if ((options.subjects ?? 'detections') === 'detections') {
    if (found.length === 0 && options.wholeImageFallback) return [whole];
    return found.slice(0, options.maxObjects);
  }
  const minArea = (options.proposalMinArea ?? DEFAULT_PROPOSAL_MIN_AREA) * boxArea(whole.box);
  const gated = found
    .filter((d) => d.score >= options.minScore && boxArea(d.box) >= minArea && iou(d.box, whole.box) < WHOLE_IMAGE_IOU)
    .slice(0, options.proposals ?? DEFAULT_PROPOSALS);
  return [...gated, whole];
}

/** The one box to enrol when none is given: under 'proposals' the whole image (see docs/objects-pack.md). */
export function enrolmentSubject(found: readonly Detection[], size: { width: number; height: number }, options: RecognitionOptions): Detection | undefined {
  if ((options.subjects ?? 'detections') === 'proposals') return wholeImageBox(size.width, size.height);
  return proposeSubjects(found, size, { ...options, maxObjects: 1 })[0];
}

/** Share of the smaller box that lies inside the larger one. */
function cover(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / Math.max(Math.min(boxArea(a), boxArea(b)), 1e-9);
}

const bySimilarity = (a: RecognizedObject, b: RecognizedObject) => (b.similarity ?? -2) - (a.similarity ?? -2) || b.score - a.score;

/** The objects to report, from every searched box with its decision. */
export function selectObjects(objects: readonly RecognizedObject[], options: RecognitionOptions): RecognizedObject[] {
  if ((options.subjects ?? 'detections') === 'detections') {
    const ranked = [...objects].sort((a, b) => Number(b.label !== null) - Number(a.label !== null) || bySimilarity(a, b));
    const kept: RecognizedObject[] = [];
    for (const o of ranked) if (kept.every((k) => iou(k.box, o.box) <= FINAL_NMS_IOU)) kept.push(o);
    return kept;
  }
  const labelled = objects.filter((o) => o.label !== null).sort(bySimilarity);
  if (labelled.length === 0) {
    // Nothing passed the threshold: report the best-matching box as unknown, so the caller sees
    // how close the gallery came.
    const best = [...objects].sort(bySimilarity)[0];
    return best ? [best] : [];
  }
  const kept: RecognizedObject[] = [];
  for (const o of labelled) {
    if (kept.length >= options.maxObjects) break;
    const duplicate = kept.some((k) => iou(k.box, o.box) > FINAL_NMS_IOU || (k.label === o.label && cover(k.box, o.box) >= SAME_LABEL_COVER));
    if (!duplicate) kept.push(o);
  }
  return kept;
}
