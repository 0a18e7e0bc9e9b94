/**
 * Seeded, clustered unit vectors that look like a recognition gallery: groups of similar
 * identities, each identity enrolled several times. Uniform random vectors would be the worst
 * case for any graph index and unlike any embedding space; this keeps the structure (tight
 * same-identity clusters, looser neighbourhoods, unrelated groups) while staying reproducible.
 */

/** mulberry32: tiny, fast and good enough for test data; the same seed gives the same stream. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller), from a uniform source. */
export function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(random(), Number.MIN_VALUE);
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

export interface ClusterShape {
  /** Entries per identity (the last identity may hold fewer). */
  perIdentity: number;
  /** Identities per group. */
  identitiesPerGroup: number;
  /** Spread of identities around their group centre (noise norm relative to 1). */
  identitySpread: number;
  /** Spread of entries (and queries) around their identity centre. */
  entrySpread: number;
}

/**
 * With these spreads, two entries of one identity have cosine about 1 / (1 + 0.6^2) = 0.74,
 * entries of sibling identities about 0.37, unrelated ones about 0: the shape of face
 * descriptors, where a person's photos sit well apart from other people.
 */
export const DEFAULT_SHAPE: Readonly<ClusterShape> = Object.freeze({
  perIdentity: 5,
  identitiesPerGroup: 100,
  identitySpread: 1,
  entrySpread: 0.6,
});

export interface SyntheticSet {
  dimension: number;
  count: number;
  /** Row-major, count x dimension, each row of unit length. */
  vectors: Float32Array;
  /** count queries x dimension: fresh samples of existing identities (not in the set). */
  queries: Float32Array;
  queryCount: number;
  shape: ClusterShape;
  seed: number;
}

function normaliseInto(out: Float32Array, offset: number, dimension: number): void {
  let sum = 0;
  for (let i = 0; i < dimension; i++) sum += out[offset + i]! * out[offset + i]!;
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  for (let i = 0; i < dimension; i++) out[offset + i]! *= scale;
}

/** centre + spread * noise (noise of norm ~1), normalised, written at `offset`. */
function sampleAround(centre: Float32Array, spread: number, normal: () => number, out: Float32Array, offset: number): void {
  const dimension = centre.length;
  const k = spread / Math.sqrt(dimension);
  for (let i = 0; i < dimension; i++) out[offset + i] = centre[i]! + k * normal();
  normaliseInto(out, offset, dimension);
}

export function syntheticSet(count: number, dimension: number, queryCount: number, seed: number, shape: ClusterShape = DEFAULT_SHAPE): SyntheticSet {
  const normal = gaussian(seededRandom(seed));
  const identities = Math.ceil(count / shape.perIdentity);
  const zero = new Float32Array(dimension);
  const identityCentres: Float32Array[] = [];
  let group = new Float32Array(dimension);
  for (let id = 0; id < identities; id++) {
    if (id % shape.identitiesPerGroup === 0) {
      group = new Float32Array(dimension);
      sampleAround(zero, 1, normal, group, 0);
    }
    const centre = new Float32Array(dimension);
    sampleAround(group, shape.identitySpread, normal, centre, 0);
    identityCentres.push(centre);
  }
  const vectors = new Float32Array(count * dimension);
  for (let i = 0; i < count; i++) sampleAround(identityCentres[Math.floor(i / shape.perIdentity)]!, shape.entrySpread, normal, vectors, i * dimension);
  const queries = new Float32Array(queryCount * dimension);
  const pick = seededRandom(seed ^ 0x5bd1e995);
  for (let q = 0; q < queryCount; q++) {
    const id = Math.floor(pick() * identities);
    sampleAround(identityCentres[id]!, shape.entrySpread, normal, queries, q * dimension);
  }
  return { dimension, count, vectors, queries, queryCount, shape: { ...shape }, seed };
}

/**
 * Exact top-k by inner product for every query. Blocked over the data so each stretch of
 * vectors is read once for all queries while it is in cache.
 */
export function exactTopK(set: Pick<SyntheticSet, 'vectors' | 'count' | 'dimension'>, queries: Float32Array, queryCount: number, k: number): Int32Array[] {
  const { vectors, count, dimension } = set;
  const bestIds = Array.from({ length: queryCount }, () => new Int32Array(k).fill(-1));
  const bestSims = Array.from({ length: queryCount }, () => new Float64Array(k).fill(-Infinity));
  const block = 256;
  for (let start = 0; start < count; start += block) {
    const end = Math.min(count, start + block);
    for (let q = 0; q < queryCount; q++) {
      const qOff = q * dimension;
      const ids = bestIds[q]!;
      const sims = bestSims[q]!;
      for (let i = start; i < end; i++) {
        const vOff = i * dimension;
        let s = 0;
        for (let d = 0; d < dimension; d++) s += queries[qOff + d]! * vectors[vOff + d]!;
        if (s <= sims[k - 1]!) continue;
        // Insertion into the short sorted list.
        let j = k - 1;
        while (j > 0 && sims[j - 1]! < s) {
          sims[j] = sims[j - 1]!;
          ids[j] = ids[j - 1]!;
          j--;
        }
        sims[j] = s;
        ids[j] = i;
      }
    }
  }
  return bestIds;
}

/** Fraction of the exact top-k found by the approximate search, averaged over queries. */
export function recallAtK(exact: readonly Int32Array[], approximate: readonly (readonly number[])[], k: number): number {
  if (exact.length === 0) return 0;
  let found = 0;
  for (const [q, truth] of exact.entries()) {
    const got = new Set(approximate[q] ?? []);
    for (let i = 0; i < k; i++) if (got.has(truth[i]!)) found++;
  }
  return found / (exact.length * k);
}
