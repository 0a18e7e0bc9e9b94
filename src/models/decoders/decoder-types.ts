import type { Box } from '../../core/types.js';
import type { DetectorManifest } from '../../inference/model-manifest.js';
import type { FloatTensor } from '../../inference/onnx-session.js';

/** A decoded box in model-input pixels, before NMS. */
export interface Candidate {
  box: Box;
  score: number;
  classId?: number;
}

/** What a decoder needs besides the raw outputs of one run. */
export interface DecodeContext {
  manifest: DetectorManifest;
  inputWidth: number;
  inputHeight: number;
  /** The scale_factor fed to the model, [y, x]; [1, 1] when the model takes none. */
  scaleFactor: readonly [number, number];
  minScore: number;
}

/** A declared or actual tensor shape; symbolic dimensions are strings. */
export type Shape = readonly (number | string)[];

/**
 * One family of detector outputs (PicoDet, YOLO, DETR...): which outputs it reads, what their
 * shapes must be, and how they become boxes. Families are data-free: everything model-specific
 * comes from the manifest.
 */
export interface DecoderFamily {
  /** Roles of the outputs, in the order of the manifest's `decoding.outputs`. */
  readonly outputs: readonly string[];
  /** The expected signature in words, for error messages. */
  readonly signature: string;
  /** A description of what is wrong with these output shapes, or undefined when they fit. */
  checkShapes(shapes: readonly (Shape | undefined)[], manifest: DetectorManifest): string | undefined;
  decode(outputs: readonly FloatTensor[], context: DecodeContext): Candidate[];
}

const known = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;

/**
 * Compares a shape with an expectation: a number must match when the model states a number,
 * null accepts anything. Returns a problem or undefined.
 */
export function shapeProblem(role: string, shape: Shape | undefined, expected: readonly (number | null)[]): string | undefined {
  if (!shape) return undefined;
  const wanted = `[${expected.map((e) => (e === null ? '*' : e)).join(', ')}]`;
  if (shape.length !== expected.length) return `${role} has shape [${shape.join(', ')}], expected ${wanted}`;
  for (const [i, e] of expected.entries()) {
    const d = shape[i];
    if (e !== null && known(d) && d !== e) return `${role} has shape [${shape.join(', ')}], expected ${wanted}`;
  }
  return undefined;
}

/** The numeric value of a dimension, when the model states one. */
export function dimension(shape: Shape | undefined, index: number): number | undefined {
  const d = shape?.[index];
  return known(d) ? d : undefined;
}

/** (cx, cy, w, h) to (x1, y1, x2, y2). */
export function fromCentre(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/** Index and value of the largest of `count` values starting at `offset`, `stride` apart. */
export function argMax(data: Float32Array, offset: number, count: number, stride = 1): { index: number; value: number } {
  let index = 0;
  let value = -Infinity;
  for (let k = 0; k < count; k++) {
    const v = data[offset + k * stride]!;
    if (v > value) {
      value = v;
      index = k;
    }
  }
  return { index, value };
}
