import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Box } from '../../../src/core/types.js';
import type { EmbedderBinding } from '../../../src/gallery/gallery-types.js';

/** The bench's seeded generator (mulberry32), so failures reproduce. */
export { seededRandom } from '../../../src/cli/bench/synthetic-vectors.js';

/** A random direction: Gaussian components (Box-Muller), then L2-normalised. */
export function unitVector(dimension: number, random: () => number): Float32Array {
  const v = new Float32Array(dimension);
  let sum = 0;
  for (let i = 0; i < dimension; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    v[i] = g;
    sum += g * g;
  }
  const norm = Math.sqrt(sum);
  for (let i = 0; i < dimension; i++) v[i] = (v[i] as number) / norm;
  return v;
}

export const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

export const sha = (n: number): string => n.toString(16).padStart(64, '0');

export const box = (n = 0): Box => [n, n, n + 10, n + 10];

export const binding = (dimension = 16, embedderId = 'test-embedder'): EmbedderBinding => ({
  embedderId,
  dimension,
  metric: 'cosine',
});

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'spotter-gallery-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
