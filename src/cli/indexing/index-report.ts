import type { SourceProblem } from '../shared/image-sources.js';

export type ItemStatus = 'enrolled' | 'duplicate' | 'noSubject' | 'unreadable' | 'failed';

/** What became of one image. */
export interface ItemResult {
  source: string;
  label: string;
  status: ItemStatus;
  /** The service's error code (e.g. IMAGE_DECODE_FAILED), READ_FAILED or BAD_LIST_LINE. */
  code?: string;
  reason?: string;
  entryId?: string;
}

/** Codes that mean the file itself cannot be used as an image. */
const UNREADABLE = new Set([
  'READ_FAILED', 'IMAGE_EMPTY', 'IMAGE_MISSING', 'IMAGE_DECODE_FAILED', 'IMAGE_FORMAT_UNSUPPORTED', 'IMAGE_TOO_LARGE',
  'IMAGE_TOO_SMALL', 'PAYLOAD_TOO_LARGE',
]);

/** A failure's status, code and reason, whether it came from fs, the pipeline or the HTTP API. */
export function classifyFailure(error: unknown): { status: ItemStatus; code: string; reason: string } {
  const e = (error ?? {}) as { code?: unknown; syscall?: unknown; message?: unknown };
  if (typeof e.syscall === 'string') {
    return { status: 'unreadable', code: 'READ_FAILED', reason: `cannot read the file (${String(e.code ?? e.message)})` };
  }
  const code = typeof e.code === 'string' ? e.code : 'INTERNAL';
  const reason = typeof e.message === 'string' ? e.message : String(error);
  const status: ItemStatus = code === 'NO_SUBJECT_FOUND' ? 'noSubject' : UNREADABLE.has(code) ? 'unreadable' : 'failed';
  return { status, code, reason };
}

export type Counts = Record<ItemStatus, number>;

/** Running counts plus the lists the report keeps (failures and duplicates, not every success). */
export class IndexTally {
  readonly counts: Counts = { enrolled: 0, duplicate: 0, noSubject: 0, unreadable: 0, failed: 0 };
  readonly failures: ItemResult[] = [];
  readonly duplicates: { source: string; label: string; entryId?: string }[] = [];

  add(result: ItemResult): void {
    this.counts[result.status]++;
    if (result.status === 'duplicate') this.duplicates.push({ source: result.source, label: result.label, ...(result.entryId ? { entryId: result.entryId } : {}) });
    else if (result.status !== 'enrolled') this.failures.push(result);
  }

  addProblem(problem: SourceProblem): void {
    this.add({ source: problem.source, label: '', status: 'failed', code: problem.code, reason: problem.reason });
  }

  get processed(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** The short status after the progress bar. */
  line(): string {
    const c = this.counts;
    return `enrolled ${c.enrolled}, duplicates ${c.duplicate}, no subject ${c.noSubject}, unreadable ${c.unreadable}, failed ${c.failed}`;
  }
}

export interface IndexReport {
  command: 'index';
  gallery: string;
  pack: string;
  mode: 'offline' | 'url';
  target: string;
  input: Record<string, string>;
  /** The gallery was deleted and rebuilt (--replace). */
  replace: boolean;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  imagesPerSecond: number;
  /** Images, and list lines or files that name none (BAD_LIST_LINE, NO_LABEL_FOLDER, SYMLINK_LOOP). */
  total: number;
  /** Those done: the sum of `counts`. */
  processed: number;
  interrupted: boolean;
  counts: Counts;
  galleryAfter: { entries: number; labels: number } | null;
  failures: ItemResult[];
  duplicates: { source: string; label: string; entryId?: string }[];
}

const MAX_LISTED_FAILURES = 20;

/** The final summary printed on stdout. */
export function summaryText(report: IndexReport, reportPath: string): string {
  const c = report.counts;
  const rows: [string, string][] = [
    ['enrolled', String(c.enrolled)],
    ['duplicates skipped', `${c.duplicate}${c.duplicate ? ' (already enrolled)' : ''}`],
    ['no subject found', String(c.noSubject)],
    ['unreadable', String(c.unreadable)],
    ['other failures', String(c.failed)],
    ['time', `${report.seconds.toFixed(1)} s (${report.imagesPerSecond.toFixed(1)} images/s)`],
  ];
  if (report.galleryAfter) rows.push(['gallery now', `${plural(report.galleryAfter.entries, 'entry', 'entries')}, ${plural(report.galleryAfter.labels, 'label', 'labels')}`]);
  rows.push(['report', reportPath]);
  const head = report.interrupted
    ? // Rerun with --replace would delete what this run enrolled; without it, it skips those images.
      `Interrupted after ${report.processed} of ${plural(report.total, 'image', 'images')}; run the same command${report.replace ? ' without --replace' : ''} again to continue.`
    : `Indexed ${plural(report.processed, 'image', 'images')} into gallery "${report.gallery}" (pack ${report.pack}, ${report.mode === 'url' ? `via ${report.target}` : `data folder ${report.target}`}).`;
  const lines = [head, ...rows.map(([k, v]) => `  ${k.padEnd(20)}${v}`)];
  if (report.failures.length > 0) {
    lines.push('Failures:');
    for (const f of report.failures.slice(0, MAX_LISTED_FAILURES)) lines.push(`  ${f.source}  ${f.code ?? ''}  ${f.reason ?? ''}`);
    if (report.failures.length > MAX_LISTED_FAILURES) lines.push(`  ... ${report.failures.length - MAX_LISTED_FAILURES} more in the report`);
  }
  return `${lines.join('\n')}\n`;
}

export const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
