/**
 * Retrieval and open-set recognition metrics over ranked gallery neighbours. Pure functions;
 * docs/cli.md defines each one in words, and the unit tests check them against hand-computed
 * values.
 */

export interface Neighbour {
  label: string;
  similarity: number;
}

export interface RankedQuery {
  /** The true label; null when the item is not in the gallery, so the right answer is "unknown". */
  expected: string | null;
  /** Gallery neighbours of the query's subject, most similar first; empty when no subject was found. */
  neighbours: Neighbour[];
  /** How many gallery entries carry `expected` (the query's own entries left out): AP's denominator. */
  relevantCount: number;
  /**
   * The first neighbour was confirmed by geometric verification: the service labels it whatever
   * its similarity, so every threshold does too.
   */
  verified?: boolean;
}

/** Labels in rank order, each once: recall@k counts labels, not entries. */
export function distinctLabels(neighbours: Neighbour[]): string[] {
  return [...new Set(neighbours.map((n) => n.label))];
}

/** Share of known queries whose label is among the first k distinct labels; null without known queries. */
export function recallAtK(queries: RankedQuery[], k: number): number | null {
  const known = queries.filter((q) => q.expected !== null);
  if (known.length === 0) return null;
  return known.filter((q) => distinctLabels(q.neighbours).slice(0, k).includes(q.expected!)).length / known.length;
}

/**
 * AP = (1 / R) * sum over ranks i holding a relevant entry of precision@i, with R the relevant
 * entries in the gallery: relevant entries not retrieved (past the search depth) count as misses.
 */
export function averagePrecision(query: RankedQuery): number {
  if (query.expected === null || query.relevantCount <= 0) return 0;
  let hits = 0;
  let sum = 0;
  query.neighbours.forEach((n, i) => {
    if (n.label === query.expected) {
      hits++;
      sum += hits / (i + 1);
    }
  });
  return sum / query.relevantCount;
}

/** Mean AP over known queries; null without known queries. */
export function meanAveragePrecision(queries: RankedQuery[]): number | null {
  const known = queries.filter((q) => q.expected !== null);
  if (known.length === 0) return null;
  return known.reduce((sum, q) => sum + averagePrecision(q), 0) / known.length;
}

/**
 * The top-1 rule: the nearest label when its similarity reaches the threshold (or it was
 * verified), else unknown (null).
 */
export function predict(query: RankedQuery, threshold: number): string | null {
  const top = query.neighbours[0];
  return top !== undefined && (query.verified === true || top.similarity >= threshold) ? top.label : null;
}

export interface OperatingPoint {
  threshold: number;
  /** Queries given a label. */
  accepted: number;
  /** Accepted queries whose label is the true one. */
  correctlyLabelled: number;
  /** (correctly labelled known queries + rejected unknown queries) / all queries. */
  accuracy: number;
  /** correctly labelled / accepted; null when nothing is accepted. */
  precision: number | null;
  /** correctly labelled / known queries; null without known queries. */
  recall: number | null;
  /** Harmonic mean of precision and recall; 0 when either is 0 or undefined. */
  f1: number;
  /** Unknown queries rejected / unknown queries; null without unknown queries. */
  unknownRejectionRate: number | null;
}

export function operatingPoint(queries: RankedQuery[], threshold: number): OperatingPoint {
  let accepted = 0;
  let correct = 0;
  let known = 0;
  let unknown = 0;
  let rejectedUnknown = 0;
  for (const q of queries) {
    const predicted = predict(q, threshold);
    if (q.expected === null) {
      unknown++;
      if (predicted === null) rejectedUnknown++;
    } else {
      known++;
    }
    if (predicted !== null) {
      accepted++;
      if (predicted === q.expected) correct++;
    }
  }
  const precision = accepted > 0 ? correct / accepted : null;
  const recall = known > 0 ? correct / known : null;
  const f1 = precision && recall ? (2 * precision * recall) / (precision + recall) : 0;
  return {
    threshold,
    accepted,
    correctlyLabelled: correct,
    accuracy: queries.length > 0 ? (correct + rejectedUnknown) / queries.length : 0,
    precision,
    recall,
    f1,
    unknownRejectionRate: unknown > 0 ? rejectedUnknown / unknown : null,
  };
}

/** The distinct top-1 similarities, ascending: the only thresholds where a decision changes. */
export function topSimilarities(queries: RankedQuery[]): number[] {
  const values = queries.map((q) => q.neighbours[0]?.similarity).filter((s): s is number => s !== undefined);
  return [...new Set(values)].sort((a, b) => a - b);
}

/** The exact trade-off curve: one operating point at each distinct top-1 similarity. */
export function thresholdSweep(queries: RankedQuery[]): OperatingPoint[] {
  return topSimilarities(queries).map((t) => operatingPoint(queries, t));
}

export type Objective = 'accuracy' | 'f1';

export interface SuggestedThreshold {
  objective: Objective;
  threshold: number;
  /** Every threshold in (lower, upper] gives the same decisions, hence the same numbers. */
  interval: [number, number];
  point: OperatingPoint;
}

/** Width given to the two outer intervals, which are unbounded. */
export const OUTER_INTERVAL = 0.05;

/** Thresholds are cosine similarities: the gallery settings and --threshold take [-1, 1]. */
const MIN_THRESHOLD = -1;
const MAX_THRESHOLD = 1;

/**
 * With s1 < ... < sm the distinct top-1 similarities, every threshold in (s(i-1), s(i)] makes the
 * same decisions, and so does every threshold above sm. The suggestion is the middle of the
 * interval with the best objective (the widest one on a tie, then the lowest), which leaves the
 * most room on both sides. The outer intervals count as OUTER_INTERVAL wide, and no interval
 * reaches past 1, the highest threshold a gallery takes: "reject all" is (sm, 1], and is no
 * choice at all when sm is 1 (an exact match is accepted at every threshold).
 */
export function suggestThreshold(queries: RankedQuery[], objective: Objective = 'accuracy'): SuggestedThreshold | null {
  const s = topSimilarities(queries);
  if (s.length === 0) return null;
  let best: { value: number; width: number; interval: [number, number] } | undefined;
  for (let i = 0; i <= s.length; i++) {
    const lower = i === 0 ? Math.max(MIN_THRESHOLD, s[0]! - OUTER_INTERVAL) : s[i - 1]!;
    const upper = i === s.length ? Math.min(MAX_THRESHOLD, s[s.length - 1]! + OUTER_INTERVAL) : s[i]!;
    if (i === s.length && upper <= lower) continue;
    const point = operatingPoint(queries, i === s.length ? Number.POSITIVE_INFINITY : s[i]!);
    const value = objective === 'f1' ? point.f1 : point.accuracy;
    const width = upper - lower;
    if (!best || value > best.value + 1e-12 || (Math.abs(value - best.value) <= 1e-12 && width > best.width + 1e-12)) {
      best = { value, width, interval: [lower, upper] };
    }
  }
  const [lower, upper] = best!.interval;
  const middle = (lower + upper) / 2;
  const rounded = Math.round(middle * 1e4) / 1e4;
  const threshold = rounded > lower && rounded <= upper ? rounded : middle;
  return { objective, threshold, interval: [lower, upper], point: operatingPoint(queries, threshold) };
}
