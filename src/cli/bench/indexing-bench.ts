import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPhotos, referencePhoto, type Photo } from './bench-inputs.js';
import { openBenchRuntime } from './bench-runtime.js';
import { interleave, ratio, summarize } from './bench-stats.js';
import { formatMs, formatNumber, formatRatio } from './bench-table.js';
import { mainPack, target, type BenchOptions, type SectionResult } from './bench-types.js';
import { openServiceModels } from './service-models.js';

const BATCH = 16;

interface IndexCommandReport {
  seconds: number;
  imagesPerSecond: number;
  processed: number;
  counts: Record<string, number>;
}

/** One label folder per copy of the photo: distinct labels, so no copy is refused as a duplicate. */
async function imageFolder(dir: string, photo: Photo, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const folder = join(dir, `person-${String(i).padStart(5, '0')}`);
    await mkdir(folder, { recursive: true });
    await copyFile(photo.path, join(folder, photo.file));
  }
}

async function runIndexCommand(root: string, args: string[]): Promise<void> {
  const child = spawn(process.execPath, [join(root, 'dist', 'cli', 'index-command.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`index command exited with ${code}: ${output.slice(-2000)}`);
}

/** Section 6: `npm run index` (offline, batched) against the raw models it has to run. */
export async function runIndexingBench(options: BenchOptions): Promise<SectionResult> {
  const base = { id: 'indexing' as const, title: '6. Batch indexing (npm run index, offline)', tables: [], notes: [], targets: [], data: {} };
  if (!existsSync(join(options.root, 'dist', 'cli', 'index-command.js'))) return { ...base, skipped: 'not available: dist/cli/index-command.js does not exist (build first)' };
  const photo = referencePhoto(await readPhotos(options.photosDir));
  const count = options.quick ? 24 : 240;
  const temp = await mkdtemp(join(tmpdir(), 'spotter-bench-indexing-'));
  try {
    await imageFolder(join(temp, 'images'), photo, count);
    // The subject box, found the way the service finds it.
    const packName = mainPack(options);
    const bench = await openBenchRuntime(options.config, photo, packName);
    const detected = await bench.runtime.pipeline.detect(photo.bytes, bench.packName);
    await bench.dispose();
    const models = await openServiceModels(options, packName, photo, detected.objects[0]?.box);
    const rawLoop = { warmup: 1, iterations: options.quick ? 4 : 20, maxMs: options.quick ? 2_500 : 15_000 };
    const detector: number[] = [];
    const embedder: number[] = [];
    const detectorsSideBySide: number[] = [];
    let report: IndexCommandReport;
    try {
      const sideBySide = models.runSideBySide;
      const measureRaw = async () => {
        const s = await interleave(
          {
            detector: () => models.runDetector(),
            embedder: () => models.runEmbedder(BATCH),
            ...(sideBySide ? { detectorsSideBySide: () => sideBySide('detector') } : {}),
          } as Record<string, () => Promise<void>>,
          rawLoop,
        );
        detector.push(...s.detector!);
        embedder.push(...s.embedder!);
        detectorsSideBySide.push(...(s.detectorsSideBySide ?? []));
      };
      await measureRaw();
      const reportFile = join(temp, 'report.json');
      await runIndexCommand(options.root, [
        '--gallery', 'bench', '--pack', packName, '--dir', join(temp, 'images'), '--data-dir', join(temp, 'data'),
        '--batch-size', String(BATCH), '--report', reportFile,
      ]);
      report = JSON.parse(await readFile(reportFile, 'utf8')) as IndexCommandReport;
      await measureRaw();
    } finally {
      await models.dispose();
    }
    const detectorMs = summarize(detector).median;
    const embedderMs = summarize(embedder).median / BATCH;
    // The index command detects images side by side on the service's narrow copies too: per
    // image that costs the copies' time together over their number, when that is less.
    const copies = models.sideBySide.copies;
    const sideBySideMs = detectorsSideBySide.length > 0 ? summarize(detectorsSideBySide).median / copies : undefined;
    const ceiling = 1000 / (Math.min(detectorMs, sideBySideMs ?? Number.POSITIVE_INFINITY) + embedderMs);
    const embedderCeiling = 1000 / embedderMs;
    const achieved = report.imagesPerSecond;
    return {
      ...base,
      tables: [{
        caption: `pack ${packName}: ${count} copies of ${photo.file} in ${count} label folders, --batch-size ${BATCH}; raw models timed here with the service's threads before and after`,
        table: {
          headers: ['images', 'enrolled', 'seconds', 'images/s', 'raw detector ms', `side by side ms/image (${copies} copies)`, `raw embedder ms/crop (batch ${BATCH})`, 'ceiling images/s', 'images/s / ceiling'],
          rows: [[
            count, report.counts.enrolled ?? 0, report.seconds.toFixed(1), formatNumber(achieved, 2), formatMs(detectorMs), formatMs(sideBySideMs), formatMs(embedderMs),
            formatNumber(ceiling, 2), formatRatio(ratio(achieved, ceiling)),
          ]],
        },
      }],
      notes: [
        `the ceiling is the raw detector${sideBySideMs === undefined ? '' : ` (one after another with all threads, or the service's ${copies} narrow copies at once divided by ${copies}, whichever is faster)`} + the raw embedder per crop: every image must be detected before its face is embedded; the embedder alone would allow ${formatNumber(embedderCeiling)} crops/s`,
        'images/s is the index command\'s own figure (from the first image to the last, models already loaded)',
      ],
      targets: [target('batch indexing / raw models ceiling', ratio(achieved, ceiling), 'min', 0.85)],
      data: { count, batch: BATCH, report, detectorMs, sideBySideMsPerImage: sideBySideMs, embedderMsPerCrop: embedderMs, ceiling, embedderCeiling, ratio: ratio(achieved, ceiling) },
    };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
