import { clampBox, iou, roundBox } from '../core/geometry.js';
import type { Box, RgbImage } from '../core/types.js';
import { toGrey, type GreyImage } from '../imaging/grey.js';
import type { Match } from './decision.js';
import type { GalleryKey, LocalFeatures, RecognizedObject } from './pipeline-types.js';

/**
 * Optional last stage of the cascade: geometric verification. Pooled CNN features confuse items
 * that look alike overall (two grey boxes, two citrus fruits) and are weak in clutter; matching
 * local features between the query and each top candidate, and asking them to agree on one
 * homography, recognises a planar product seen again even when its embedding ranked it 4th.
 * A candidate with enough inliers wins: it is moved to the top and labelled even below the
 * similarity threshold, and its box is where the homography puts it in the query.
 */

export interface GeometricMatch {
  /** Matches consistent with one homography (0 when none was found). */
  inliers: number;
  /** The candidate image's corners mapped into the query (grey pixels), when a homography was found. */
  corners?: [number, number][];
}

/** Local features and their matching; the implementation lives outside the pipeline. */
export interface LocalFeatureVerifier {
  readonly id: string;
  /**
   * Shortest side of a grey image the verifier can find features in (default 1). A subject whose
   * grey image is thinner is enrolled without features, and such a query is not checked.
   */
  readonly minSide?: number;
  /** Serialised local features of a grey image (what the store keeps per entry). */
  extract(image: GreyImage): Promise<Uint8Array>;
  match(query: Uint8Array, candidate: Uint8Array): Promise<GeometricMatch>;
}

/**
 * Local features of enrolled entries, by gallery, entry id and the verifier that wrote them (the
 * gallery store keeps them beside their entries; they are written with the entry, see enrol).
 */
export interface LocalFeatureStore {
  localFeatures(gallery: GalleryKey, entryId: string, verifier: string): Uint8Array | undefined;
}

export interface VerificationStage {
  verifier: LocalFeatureVerifier;
  store: LocalFeatureStore;
  /**
   * Told when verification itself fails (e.g. the verifier's thread died): recognition then
   * answers by embedding alone rather than failing the request.
   */
  onError?: (error: unknown) => void;
  /** Homography inliers a candidate needs to count as found (default 15). */
  minInliers?: number;
  /** Candidates checked per query, best similarity first (default 5). */
  candidates?: number;
  /** Longer side of the grey images that features come from (default 640). */
  maxSide?: number;
}

const DEFAULTS = { minInliers: 15, candidates: 5, maxSide: 640 };

/** Whether the verifier can find features in a grey image of this size. */
const featureful = (stage: VerificationStage, grey: GreyImage): boolean => Math.min(grey.width, grey.height) >= (stage.verifier.minSide ?? 1);

/**
 * Features of an enrolled subject (its crop), taken before the entry is stored: they are written
 * in the entry's own transaction, so an acknowledged entry always has them and a failure stores
 * nothing. The exception is a crop too small or too thin for the verifier (a 16384x16 strip is
 * 640x1 in grey): there are none to take, so its entry is stored without features and matched
 * by embedding alone, as an entry enrolled with `verify` off is.
 */
export async function subjectFeatures(stage: VerificationStage, crop: RgbImage): Promise<LocalFeatures | undefined> {
  const grey = await toGrey(crop, stage.maxSide ?? DEFAULTS.maxSide);
  return featureful(stage, grey) ? { verifier: stage.verifier.id, data: await stage.verifier.extract(grey) } : undefined;
}

/**
 * A homography from a handful of chance matches tends to fold or collapse the candidate; a real
 * view maps its rectangle to a convex quadrilateral of sensible size.
 */
export function plausibleQuad(corners: readonly [number, number][] | undefined, width: number, height: number): boolean {
  if (!corners || corners.length !== 4 || !corners.flat().every(Number.isFinite)) return false;
  let sign = 0;
  let area = 0;
  for (let i = 0; i < 4; i++) {
    const [ax, ay] = corners[i]!;
    const [bx, by] = corners[(i + 1) % 4]!;
    const [cx, cy] = corners[(i + 2) % 4]!;
    const cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx);
    if (cross === 0 || (sign !== 0 && Math.sign(cross) !== sign)) return false;
    sign = Math.sign(cross);
    area += ax * by - bx * ay;
  }
  const share = Math.abs(area) / 2 / (width * height);
  return share >= 0.005 && share <= 16;
}

interface Candidate extends Match {
  /** The searched box whose neighbours included this entry. */
  from: RecognizedObject;
}

/** Entries worth checking: the best-similarity neighbours of every searched box, each once. */
function candidatesOf(decided: readonly RecognizedObject[], gallery: GalleryKey, stage: VerificationStage): (Candidate & { features: Uint8Array })[] {
  const best = new Map<string, Candidate>();
  for (const object of decided) {
    for (const m of object.matches) {
      const seen = best.get(m.entryId);
      if (!seen || m.similarity > seen.similarity) best.set(m.entryId, { ...m, from: object });
    }
  }
  const out: (Candidate & { features: Uint8Array })[] = [];
  for (const c of [...best.values()].sort((a, b) => b.similarity - a.similarity)) {
    if (out.length >= (stage.candidates ?? DEFAULTS.candidates)) break;
    const features = stage.store.localFeatures(gallery, c.entryId, stage.verifier.id);
    if (features) out.push({ ...c, features });
  }
  return out;
}

/**
 * Checks the top candidates against the query image and, when one is found geometrically,
 * reports it first (labelled, boxed where it was found) followed by the other reported objects
 * that do not overlap it. Without a verified candidate the objects are returned unchanged.
 */
export async function verifyObjects(
  stage: VerificationStage,
  gallery: GalleryKey,
  image: RgbImage,
  decided: readonly RecognizedObject[],
  selected: RecognizedObject[],
): Promise<RecognizedObject[]> {
  const candidates = candidatesOf(decided, gallery, stage);
  if (candidates.length === 0) return selected;
  const grey = await toGrey(image, stage.maxSide ?? DEFAULTS.maxSide);
  // A query with no features to find can confirm no candidate.
  if (!featureful(stage, grey)) return selected;
  const query = await stage.verifier.extract(grey);
  // All candidates are asked at once: a verifier with more than one thread matches them side by side.
  const results = await Promise.all(candidates.map((candidate) => stage.verifier.match(query, candidate.features)));
  const checked: { candidate: Candidate; inliers: number; box: Box }[] = [];
  for (const [i, match] of results.entries()) {
    if (match.inliers < (stage.minInliers ?? DEFAULTS.minInliers) || !plausibleQuad(match.corners, grey.width, grey.height)) continue;
    const xs = match.corners!.map(([x]) => x * grey.scale);
    const ys = match.corners!.map(([, y]) => y * grey.scale);
    const box = clampBox([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], image.width, image.height);
    checked.push({ candidate: candidates[i]!, inliers: match.inliers, box });
  }
  if (checked.length === 0) return selected;
  checked.sort((a, b) => b.inliers - a.inliers || b.candidate.similarity - a.candidate.similarity);
  const { candidate: winner, inliers, box } = checked[0]!;
  const verifiedIds = new Set(checked.map((c) => c.candidate.entryId));
  const strip = ({ entryId, label, similarity, metadata }: Match): Match => ({ entryId, label, similarity, metadata });
  const matches = [...checked.map((c) => strip(c.candidate)), ...winner.from.matches.filter((m) => !verifiedIds.has(m.entryId))];
  const found: RecognizedObject = {
    box: roundBox(box),
    score: winner.from.score,
    ...(winner.from.className === undefined ? {} : { className: winner.from.className }),
    label: winner.label,
    similarity: winner.similarity,
    matches: matches.slice(0, Math.max(winner.from.matches.length, 1)),
    verified: { inliers },
  };
  const others = selected.filter((o) => o.label !== null && o.label !== winner.label && iou(o.box, found.box) <= 0.5);
  return [found, ...others];
}
