export interface Match {
  entryId: string;
  label: string;
  similarity: number;
  /** The entry's metadata as enrolled, so a client needs no second request per match. */
  metadata: Record<string, unknown> | null;
}

export interface Decision {
  label: string | null;
  similarity: number | null;
}

/**
 * Top-1 decision: the best match's label when it passes the threshold, else unknown (null).
 * With `vote`, the matches that pass the threshold vote with their similarity, and the winning
 * label reports its best similarity; one strong match still beats several weak look-alikes only
 * when its weight is larger, which is the point of voting.
 */
export function decide(matches: readonly Match[], threshold: number, vote: boolean): Decision {
  const best = matches[0];
  if (!best) return { label: null, similarity: null };
  if (!vote) return best.similarity >= threshold ? { label: best.label, similarity: best.similarity } : { label: null, similarity: best.similarity };
  const weights = new Map<string, { weight: number; best: number }>();
  for (const m of matches) {
    if (m.similarity < threshold) continue;
    const w = weights.get(m.label) ?? { weight: 0, best: -Infinity };
    w.weight += m.similarity;
    w.best = Math.max(w.best, m.similarity);
    weights.set(m.label, w);
  }
  let winner: { label: string; weight: number; best: number } | null = null;
  for (const [label, w] of weights) {
    if (!winner || w.weight > winner.weight || (w.weight === winner.weight && w.best > winner.best)) winner = { label, ...w };
  }
  return winner ? { label: winner.label, similarity: winner.best } : { label: null, similarity: best.similarity };
}
