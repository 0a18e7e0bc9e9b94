import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFolderFixture, buildListFixture, type FolderFixture, type ListFixture } from '../fixtures/cli/cli-fixtures.js';
import { cliEnv, runCli } from '../fixtures/cli/run-cli.js';

interface Point {
  threshold: number;
  accuracy: number;
  precision: number | null;
  recall: number | null;
  f1: number;
  unknownRejectionRate: number | null;
}

interface EvaluateReport {
  leaveOneOut: boolean;
  metrics: {
    queries: Record<string, number>;
    recallAt1: number | null;
    recallAt5: number | null;
    mAP: number | null;
    threshold: number;
    thresholdSource: string;
    atThreshold: Point;
    unknownRejectionRate: number | null;
    suggested: { objective: string; threshold: number; interval: [number, number]; point: Point } | null;
    sweep: Point[];
  };
  queries: { source: string; expected: string | null; status: string; predicted: string | null; correct: boolean; neighbours: { label: string; similarity: number }[]; averagePrecision: number | null }[];
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/**
 * `npm run evaluate` as a process. The gallery holds three views of Eileen Collins; the queries
 * are four other views of her, one photo of her without the face, three photos of a cat (not
 * enrolled) and two photos with no face. Hand-computed from that design:
 * - known queries 5, unknown 5; recall@1 = recall@5 = 4/5 (the face-less one finds nothing);
 * - mAP = (1 + 1 + 1 + 1 + 0) / 5 = 0.8 (every gallery entry is Eileen, so a found face has AP 1);
 * - the cat's face is found but is unlike hers (similarity < 0.88), hers are > 0.95: at 0.87 two
 *   cat photos (0.872, 0.873) are accepted as her, one (0.868) is rejected; the two face-less
 *   photos are rejected. So at 0.87: accepted 6, correct 4, accuracy (4 + 3) / 10 = 0.7,
 *   precision 4/6, recall 4/5, unknown rejection 3/5;
 * - best accuracy 0.9 for any threshold between the highest cat and the lowest Eileen similarity.
 */
describe('evaluate CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'spotter-cli-eval-'));
  const env = cliEnv(join(tmp, 'data'));
  let list: ListFixture;
  let folder: FolderFixture;

  beforeAll(async () => {
    list = await buildListFixture(join(tmp, 'list'));
    folder = await buildFolderFixture(join(tmp, 'faces'));
    const indexed = await runCli('index-command.js', ['--gallery', 'people', '--pack', 'face', '--list', list.galleryList, '--report', join(tmp, 'index.json')], env);
    expect(indexed.code, indexed.stderr).toBe(0);
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('measures a query list against hand-computed values and writes a self-contained bad-case report', async () => {
    const report = join(tmp, 'eval.json');
    const html = join(tmp, 'bad-cases.html');
    const run = await runCli(
      'evaluate-command.js',
      ['--gallery', 'people', '--list', list.queryList, '--gallery-root', join(list.root, 'gallery'), '--threshold', '0.87', '--report', report, '--html', html],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/recall@1\s+0\.800/);
    expect(run.stdout).toMatch(/mAP@100\s+0\.800/);
    expect(run.stdout).toMatch(/suggested threshold\s+0\.9\d+/);

    const { metrics, queries } = readJson<EvaluateReport>(report);
    const sim = (source: string) => queries.find((q) => q.source === source)!.neighbours[0]?.similarity;
    // The premises of the hand computation.
    for (const q of ['chelsea-orig.jpg', 'chelsea-small.jpg']) expect(sim(q)).toBeGreaterThan(0.87);
    expect(sim('chelsea-bright.jpg')).toBeLessThan(0.87);
    for (const q of ['chelsea-orig.jpg', 'chelsea-small.jpg', 'chelsea-bright.jpg']) expect(sim(q)).toBeLessThan(0.88);
    for (const q of ['eileen-crop.jpg', 'eileen-small.jpg', 'eileen-gray.jpg', 'eileen-blur.jpg']) expect(sim(q)).toBeGreaterThan(0.95);
    for (const q of ['eileen-body.jpg', 'rocket.jpg', 'fruits.jpg']) expect(queries.find((r) => r.source === q)!.status).toBe('noSubject');

    expect(metrics.queries).toMatchObject({ total: 10, evaluated: 10, known: 5, unknown: 5, noSubject: 3, unreadable: 0, failed: 0 });
    expect(metrics.recallAt1).toBeCloseTo(0.8, 10);
    expect(metrics.recallAt5).toBeCloseTo(0.8, 10);
    expect(metrics.mAP).toBeCloseTo(0.8, 10);
    expect(metrics.thresholdSource).toBe('option');
    expect(metrics.atThreshold).toMatchObject({ threshold: 0.87, accepted: 6, correctlyLabelled: 4 });
    expect(metrics.atThreshold.accuracy).toBeCloseTo(0.7, 10);
    expect(metrics.atThreshold.precision).toBeCloseTo(4 / 6, 10);
    expect(metrics.atThreshold.recall).toBeCloseTo(0.8, 10);
    expect(metrics.atThreshold.f1).toBeCloseTo((2 * (4 / 6) * 0.8) / (4 / 6 + 0.8), 10);
    expect(metrics.unknownRejectionRate).toBeCloseTo(0.6, 10);

    const highestCat = Math.max(sim('chelsea-orig.jpg')!, sim('chelsea-small.jpg')!, sim('chelsea-bright.jpg')!);
    const lowestEileen = Math.min(...['eileen-crop.jpg', 'eileen-small.jpg', 'eileen-gray.jpg', 'eileen-blur.jpg'].map((q) => sim(q)!));
    expect(metrics.suggested!.interval).toEqual([highestCat, lowestEileen]);
    expect(metrics.suggested!.threshold).toBeCloseTo((highestCat + lowestEileen) / 2, 4);
    expect(metrics.suggested!.point).toMatchObject({ accuracy: 0.9, precision: 1, recall: 0.8, unknownRejectionRate: 1 });
    // The sweep has one point per distinct top-1 similarity (7 queries found a face).
    expect(metrics.sweep).toHaveLength(7);

    const wrong = queries.filter((q) => !q.correct).map((q) => q.source).sort();
    expect(wrong).toEqual(['chelsea-orig.jpg', 'chelsea-small.jpg', 'eileen-body.jpg']);

    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('3 wrong queries');
    for (const q of wrong) expect(page).toContain(q);
    expect(page.match(/<div class="case">/g)).toHaveLength(3);
    // Query thumbnails with the detected box, and the gallery neighbours as thumbnails.
    expect(page.match(/<rect /g)!.length).toBeGreaterThanOrEqual(2);
    expect(page.match(/<div class="nbr[^"]*"[^>]*><img src="data:image\/jpeg;base64,/g)!.length).toBe(6);
    // Self-contained: no external resources, no script.
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(page).not.toContain('<script');
  });

  it('--split evaluates a labelled folder by leave-one-out', async () => {
    const indexed = await runCli('index-command.js', ['--gallery', 'faces', '--pack', 'face', '--dir', folder.dir, '--report', join(tmp, 'index-faces.json')], env);
    expect(indexed.code, indexed.stderr).toBe(0);
    const report = join(tmp, 'split.json');
    const run = await runCli('evaluate-command.js', ['--gallery', 'faces', '--dir', folder.dir, '--split', '--report', report], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('by leave-one-out');
    const { metrics, queries, leaveOneOut } = readJson<EvaluateReport>(report);
    expect(leaveOneOut).toBe(true);
    expect(metrics.queries).toMatchObject({ total: folder.enrollable + 1, evaluated: folder.enrollable, known: folder.enrollable, unreadable: 1 });
    // Without itself, every view still finds its own identity first: the other identity is far.
    expect(metrics.recallAt1).toBe(1);
    expect(metrics.mAP).toBe(1);
    expect(metrics.thresholdSource).toBe('gallery');
    expect(metrics.threshold).toBe(0.91);
    for (const q of queries.filter((r) => r.status === 'ok')) {
      // The query's own entry (similarity 1) is never among its neighbours.
      expect(q.neighbours[0]!.similarity).toBeLessThan(0.999);
      expect(q.averagePrecision).toBe(1);
    }
  });

  it('refuses a query file over SPOTTER_MAX_IMAGE_BYTES before reading it', async () => {
    const queries = join(list.root, 'queries');
    copyFileSync(join(queries, 'eileen-crop.jpg'), join(queries, 'copy.jpg'));
    // 2.2 GB, sparse: read whole, it would fail with ERR_FS_FILE_TOO_LARGE after filling memory.
    writeFileSync(join(queries, 'huge.jpg'), '');
    truncateSync(join(queries, 'huge.jpg'), 2.2e9);
    writeFileSync(join(queries, 'large.txt'), 'copy.jpg\tEileen Collins\nhuge.jpg\tEileen Collins\n');
    const report = join(tmp, 'large.json');
    const run = await runCli('evaluate-command.js', ['--gallery', 'people', '--list', join(queries, 'large.txt'), '--report', report], env);
    expect(run.code, run.stderr).toBe(0);
    const { queries: records } = readJson<EvaluateReport & { queries: { code?: string; reason?: string }[] }>(report);
    expect(records.map((q) => [q.source, q.status])).toEqual([['copy.jpg', 'ok'], ['huge.jpg', 'unreadable']]);
    expect(records[1]).toMatchObject({ code: 'IMAGE_TOO_LARGE', reason: expect.stringContaining('the file is 2200000000 bytes') });
    // The headline counts what the numbers count; the unreadable query is named as left out.
    expect(run.stdout).toMatch(/queries {15}1 \(1 known, 0 unknown; 0 without a subject\); left out: 1 unreadable, 0 failed\n/);
  });

  it('refuses --depth over 100 with --url (the service answers at most 100 neighbours) with exit 2', async () => {
    // Refused while the arguments are read: the address is never contacted.
    const run = await runCli('evaluate-command.js', ['--gallery', 'people', '--list', list.queryList, '--url', 'http://127.0.0.1:9', '--depth', '500'], env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('error: --depth is at most 100 with --url');
  });

  it('offline, a query over the decoded-pixel budget waits for its turn instead of being dropped', async () => {
    // 300 000 pixels in flight hold one 512 x 512 photo at a time; 8 queries are read ahead.
    const tight = cliEnv(join(tmp, 'data'), { SPOTTER_MAX_PIXELS_IN_FLIGHT: '300000' });
    const report = join(tmp, 'tight.json');
    const run = await runCli('evaluate-command.js', ['--gallery', 'people', '--list', list.queryList, '--read-ahead', '8', '--threshold', '0.87', '--report', report], tight);
    expect(run.code, run.stderr).toBe(0);
    const { metrics } = readJson<EvaluateReport>(report);
    expect(metrics.queries).toMatchObject({ total: 10, evaluated: 10, known: 5, unknown: 5, noSubject: 3, unreadable: 0, failed: 0 });
    expect(metrics.atThreshold).toMatchObject({ accepted: 6, correctlyLabelled: 4 });
  });
});
