import { basename } from 'node:path';
import type { Box } from '../../core/types.js';
import { sha256Hex } from '../../imaging/decode.js';
import { mapAhead } from '../../pipeline/batch-ahead.js';
import { classifyFailure } from '../indexing/index-report.js';
import { untilAborted } from '../indexing/index-target.js';
import { readImageFile } from '../shared/image-file.js';
import type { ImageItem } from '../shared/image-sources.js';
import { averagePrecision, distinctLabels, predict, type RankedQuery } from './metrics.js';
import type { GalleryView, QueryEngine } from './query-engine.js';

export interface NeighbourRecord {
  entryId: string;
  label: string;
  similarity: number;
  source?: string;
}

/** One query as the report shows it. */
export interface QueryRecord {
  source: string;
  path: string;
  /** The label the list gives (null: not enrolled). */
  label: string | null;
  /** The right answer: the label, or null ("unknown") when the gallery holds no entry of it. */
  expected: string | null;
  status: 'ok' | 'noSubject' | 'unreadable' | 'failed';
  code?: string;
  reason?: string;
  width?: number;
  height?: number;
  /** The objects recognition reported; the first is the one whose neighbours answer the query. */
  boxes?: { box: Box; score: number }[];
  /** The first five neighbours (all of them are used for the metrics). */
  neighbours: NeighbourRecord[];
  /** Rank (1-based) of the first distinct label equal to `expected`. */
  labelRank: number | null;
  averagePrecision: number | null;
  predicted: string | null;
  correct: boolean;
}

export interface EvaluationInput {
  engine: QueryEngine;
  gallery: GalleryView;
  items: ImageItem[];
  /** Neighbours retrieved per query (the "@" of mAP). */
  depth: number;
  /** Leave-one-out: a query never sees gallery entries made from its own image bytes. */
  leaveOneOut: boolean;
  threshold: number;
  readAhead: number;
  /** Files over this many bytes are refused (IMAGE_TOO_LARGE) before they are read. */
  maxImageBytes: number;
  signal: AbortSignal;
  onQuery?: (record: QueryRecord) => void;
}

export interface EvaluationRun {
  records: QueryRecord[];
  /** Ranked lists of the queries that count (every query except unreadable or failed ones). */
  ranked: RankedQuery[];
}

const SHOWN_NEIGHBOURS = 5;

export async function runQueries(input: EvaluationInput): Promise<EvaluationRun> {
  const { engine, gallery, depth, leaveOneOut } = input;
  const byLabel = new Map<string, number>();
  const bySha = new Map<string, number>();
  const byLabelSha = new Map<string, number>();
  for (const e of gallery.entries.values()) {
    byLabel.set(e.label, (byLabel.get(e.label) ?? 0) + 1);
    bySha.set(e.imageSha256, (bySha.get(e.imageSha256) ?? 0) + 1);
    byLabelSha.set(`${e.label}\u0000${e.imageSha256}`, (byLabelSha.get(`${e.label}\u0000${e.imageSha256}`) ?? 0) + 1);
  }

  const evaluate = async (item: ImageItem): Promise<{ record: QueryRecord; ranked?: RankedQuery }> => {
    const label = item.label === null ? null : item.label.normalize('NFC');
    const base = { source: item.source, path: item.path, label, neighbours: [], labelRank: null, averagePrecision: null, predicted: null, correct: false };
    let bytes: Buffer;
    try {
      bytes = await readImageFile(item.path, input.maxImageBytes);
    } catch (error) {
      const { code, reason } = classifyFailure(error);
      return { record: { ...base, expected: label, status: 'unreadable', code, reason } };
    }
    const sha = sha256Hex(bytes);
    const own = leaveOneOut ? (bySha.get(sha) ?? 0) : 0;
    const relevantCount = label === null ? 0 : (byLabel.get(label) ?? 0) - (leaveOneOut ? (byLabelSha.get(`${label}\u0000${sha}`) ?? 0) : 0);
    const expected = label !== null && relevantCount > 0 ? label : null;
    let outcome;
    try {
      outcome = await engine.query(bytes, basename(item.path), Math.min(depth + own, engine.maxDepth));
    } catch (error) {
      const { status, code, reason } = classifyFailure(error);
      return { record: { ...base, expected, status: status === 'unreadable' ? 'unreadable' : 'failed', code, reason } };
    }
    // Leave-one-out hides the query's own entries; then the object with the nearest neighbour answers.
    const objects = outcome.objects.map((o) => ({
      ...o,
      neighbours: o.neighbours.filter((n) => !leaveOneOut || gallery.entries.get(n.entryId)?.imageSha256 !== sha).slice(0, depth),
    }));
    // A verified object answers (the service reports it first); otherwise the nearest neighbour's.
    const best = objects.find((o) => o.verified && o.neighbours.length > 0)
      ?? [...objects].sort((a, b) => (b.neighbours[0]?.similarity ?? -Infinity) - (a.neighbours[0]?.similarity ?? -Infinity) || b.score - a.score)[0];
    const neighbours: NeighbourRecord[] = (best?.neighbours ?? []).map((n) => {
      const source = gallery.entries.get(n.entryId)?.source;
      return { ...n, ...(source ? { source } : {}) };
    });
    const ranked: RankedQuery = { expected, neighbours, relevantCount, ...(best?.verified ? { verified: true } : {}) };
    const predicted = predict(ranked, input.threshold);
    const rank = expected === null ? -1 : distinctLabels(neighbours).indexOf(expected);
    const record: QueryRecord = {
      ...base,
      expected,
      status: outcome.objects.length === 0 ? 'noSubject' : 'ok',
      width: outcome.width,
      height: outcome.height,
      // The answering object first: the report draws it apart from the others.
      boxes: best ? [best, ...objects.filter((o) => o !== best)].map(({ box, score }) => ({ box, score })) : [],
      neighbours: neighbours.slice(0, SHOWN_NEIGHBOURS),
      labelRank: rank >= 0 ? rank + 1 : null,
      averagePrecision: expected === null ? null : averagePrecision(ranked),
      predicted,
      correct: predicted === expected,
    };
    return { record, ranked };
  };

  const done: { index: number; record: QueryRecord; ranked?: RankedQuery }[] = [];
  const indexed = untilAborted(input.items.map((item, index) => ({ item, index })), input.signal);
  const work = async ({ item, index }: { item: ImageItem; index: number }) => ({ index, ...(await evaluate(item)) });
  for await (const result of mapAhead(indexed, input.readAhead, work)) {
    done.push(result);
    input.onQuery?.(result.record);
  }
  // Completion order varies with timing; the report lists queries in input order.
  done.sort((a, b) => a.index - b.index);
  return { records: done.map((d) => d.record), ranked: done.flatMap((d) => (d.ranked ? [d.ranked] : [])) };
}
