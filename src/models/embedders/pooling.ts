import type { EmbedderManifest } from '../../inference/model-manifest.js';
import type { FloatTensor } from '../../inference/onnx-session.js';

export type Pooling = EmbedderManifest['embedding']['pooling'];
type Shape = readonly (number | string)[];

/** The output shape each pooling reads, with D the embedding dimension. */
export const POOLING_SHAPES: Readonly<Record<Pooling, string>> = {
  vector: '[N, D]',
  cls: '[N, tokens, D]',
  'mean-tokens': '[N, tokens, D]',
  'spatial-mean': '[N, D, H, W]',
};

const RANKS: Readonly<Record<Pooling, number>> = { vector: 2, cls: 3, 'mean-tokens': 3, 'spatial-mean': 4 };
/** Where D sits in the shape. */
const FEATURE_AXIS: Readonly<Record<Pooling, number>> = { vector: 1, cls: 2, 'mean-tokens': 2, 'spatial-mean': 1 };

/**
 * What is wrong with an output shape for this pooling and dimension, or undefined. Symbolic
 * dimensions pass; `batch`, when given, must match the first dimension.
 */
export function poolingProblem(shape: Shape, pooling: Pooling, dimension: number, skipTokens = 0, batch?: number): string | undefined {
  const expected = POOLING_SHAPES[pooling].replace('D', String(dimension));
  const bad = () => `has shape [${shape.join(', ')}], pooling '${pooling}' needs ${expected}`;
  if (shape.length !== RANKS[pooling]) return bad();
  const d = shape[FEATURE_AXIS[pooling]];
  if (typeof d === 'number' && d > 0 && d !== dimension) return bad();
  if (batch !== undefined && typeof shape[0] === 'number' && shape[0] !== batch) return bad();
  const tokens = shape[1];
  if (pooling === 'mean-tokens' && typeof tokens === 'number' && tokens > 0 && tokens <= skipTokens) {
    return `has ${tokens} tokens, all of them skipped (skipTokens ${skipTokens})`;
  }
  return undefined;
}

/** One raw (unnormalised) vector per batch item from the model output. */
export function pool(out: FloatTensor, pooling: Pooling, dimension: number, skipTokens = 0): Float32Array[] {
  const [n, a = 1, b = 1, c = 1] = out.dims as [number, number?, number?, number?];
  const vectors: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    if (pooling === 'vector') {
      vectors.push(out.data.slice(i * dimension, (i + 1) * dimension));
    } else if (pooling === 'cls') {
      const base = i * a * b;
      vectors.push(out.data.slice(base, base + dimension));
    } else if (pooling === 'mean-tokens') {
      const v = new Float32Array(dimension);
      const base = i * a * b;
      for (let t = skipTokens; t < a; t++) for (let k = 0; k < dimension; k++) v[k]! += out.data[base + t * b + k]!;
      for (let k = 0; k < dimension; k++) v[k]! /= a - skipTokens;
      vectors.push(v);
    } else {
      const v = new Float32Array(dimension);
      const plane = b * c;
      for (let k = 0; k < dimension; k++) {
        const base = (i * a + k) * plane;
        let sum = 0;
        for (let p = 0; p < plane; p++) sum += out.data[base + p]!;
        v[k] = sum / plane;
      }
      vectors.push(v);
    }
  }
  return vectors;
}
