import type { QueryRecord } from './evaluation-run.js';
import {
  meanAveragePrecision, operatingPoint, recallAtK, suggestThreshold, thresholdSweep, topSimilarities,
  type Objective, type OperatingPoint, type RankedQuery, type SuggestedThreshold,
} from './metrics.js';

export interface EvaluationMetrics {
  queries: {
    total: number;
    /** Counted in the metrics: every query except unreadable or failed ones. */
    evaluated: number;
    known: number;
    unknown: number;
    noSubject: number;
    unreadable: number;
    failed: number;
    /** Labelled queries whose label has no entry in the gallery: evaluated as unknown. */
    labelNotInGallery: number;
  };
  recallAt1: number | null;
  recallAt5: number | null;
  mAP: number | null;
  depth: number;
  threshold: number;
  thresholdSource: 'gallery' | 'option';
  /** Accuracy, precision, recall, F1 and unknown rejection at `threshold`. */
  atThreshold: OperatingPoint;
  unknownRejectionRate: number | null;
  suggested: SuggestedThreshold | null;
  sweep: OperatingPoint[];
}

export function summarise(
  records: QueryRecord[],
  ranked: RankedQuery[],
  options: { threshold: number; thresholdSource: 'gallery' | 'option'; depth: number; objective: Objective },
): EvaluationMetrics {
  const count = (status: QueryRecord['status']) => records.filter((r) => r.status === status).length;
  const atThreshold = operatingPoint(ranked, options.threshold);
  return {
    queries: {
      total: records.length,
      evaluated: ranked.length,
      known: ranked.filter((q) => q.expected !== null).length,
      unknown: ranked.filter((q) => q.expected === null).length,
      noSubject: count('noSubject'),
      unreadable: count('unreadable'),
      failed: count('failed'),
      labelNotInGallery: records.filter((r) => r.label !== null && r.expected === null && (r.status === 'ok' || r.status === 'noSubject')).length,
    },
    recallAt1: recallAtK(ranked, 1),
    recallAt5: recallAtK(ranked, 5),
    mAP: meanAveragePrecision(ranked),
    depth: options.depth,
    threshold: options.threshold,
    thresholdSource: options.thresholdSource,
    atThreshold,
    unknownRejectionRate: atThreshold.unknownRejectionRate,
    suggested: suggestThreshold(ranked, options.objective),
    sweep: thresholdSweep(ranked),
  };
}

const f3 = (v: number | null): string => (v === null ? '-' : v.toFixed(3));

/** About a dozen evenly spaced rows of the sweep, plus the current and the suggested threshold. */
export function sweepRows(ranked: RankedQuery[], metrics: EvaluationMetrics): OperatingPoint[] {
  const s = topSimilarities(ranked);
  if (s.length === 0) return [];
  const lo = Math.floor(s[0]! * 100) / 100;
  const hi = Math.ceil(s[s.length - 1]! * 100) / 100;
  const steps = 10;
  const thresholds = new Set<number>();
  for (let i = 0; i <= steps; i++) thresholds.add(Math.round((lo + ((hi - lo) * i) / steps) * 1e4) / 1e4);
  thresholds.add(metrics.threshold);
  if (metrics.suggested) thresholds.add(metrics.suggested.threshold);
  return [...thresholds].sort((a, b) => a - b).map((t) => operatingPoint(ranked, t));
}

export function metricsText(metrics: EvaluationMetrics, rows: OperatingPoint[]): string {
  const q = metrics.queries;
  const at = metrics.atThreshold;
  // Unreadable and failed queries are in no number below, so they are not in this count either.
  const leftOut = q.unreadable + q.failed > 0 ? `; left out: ${q.unreadable} unreadable, ${q.failed} failed` : '';
  const lines = [`  queries               ${q.evaluated} (${q.known} known, ${q.unknown} unknown; ${q.noSubject} without a subject)${leftOut}`];
  if (q.labelNotInGallery > 0) lines.push(`  note                  ${q.labelNotInGallery} labelled queries have no (other) entry of their label in the gallery; they count as unknown`);
  lines.push(
    `  recall@1              ${f3(metrics.recallAt1)}`,
    `  recall@5              ${f3(metrics.recallAt5)}`,
    `  mAP@${String(metrics.depth).padEnd(18)}${f3(metrics.mAP)}`,
    `  threshold             ${metrics.threshold.toFixed(4)} (${metrics.thresholdSource === 'gallery' ? 'the gallery\'s' : '--threshold'})`,
    `  accuracy              ${f3(at.accuracy)}`,
    `  precision / recall    ${f3(at.precision)} / ${f3(at.recall)}  (F1 ${f3(at.f1)})`,
    `  unknown rejection     ${f3(metrics.unknownRejectionRate)}`,
  );
  const s = metrics.suggested;
  if (s) {
    lines.push(
      `  suggested threshold   ${s.threshold.toFixed(4)} (best ${s.objective}: accuracy ${f3(s.point.accuracy)}, F1 ${f3(s.point.f1)}, unknown rejection ${f3(s.point.unknownRejectionRate)}; same for any value in (${s.interval[0].toFixed(4)}, ${s.interval[1].toFixed(4)}])`,
    );
  }
  if (rows.length > 0) {
    lines.push('Threshold sweep (a query gets the nearest label when its similarity >= threshold):');
    lines.push('  threshold  accuracy  precision  recall  F1     unknown rejected');
    for (const r of rows) {
      const mark = r.threshold === metrics.threshold ? '  <- current' : s && r.threshold === s.threshold ? '  <- suggested' : '';
      lines.push(`  ${r.threshold.toFixed(4).padEnd(9)}  ${f3(r.accuracy).padEnd(8)}  ${f3(r.precision).padEnd(9)}  ${f3(r.recall).padEnd(6)}  ${f3(r.f1).padEnd(5)}  ${f3(r.unknownRejectionRate)}${mark}`);
    }
  }
  return lines.join('\n');
}
