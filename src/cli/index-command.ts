import { dirname, resolve } from 'node:path';
import { ApiClient } from './shared/api-client.js';
import { CliError, defaultReportPath, EXIT, interruptSignal, isMain, newProgram, parseGalleryName, parsePositiveInt, runMain, userPath, writeFileAtomic } from './shared/cli-main.js';
import { readImageList, scanLabelFolders, type ImageSet } from './shared/image-sources.js';
import { cliConfig, openOffline } from './shared/offline-runtime.js';
import { Progress } from './shared/progress.js';
import { importGalleryFile, type ImportSummary } from './indexing/gallery-import.js';
import { HttpTarget } from './indexing/http-target.js';
import { IndexTally, plural, summaryText, type IndexReport } from './indexing/index-report.js';
import type { IndexTarget, LabelledItem } from './indexing/index-target.js';
import { findGallery, OfflineTarget } from './indexing/offline-target.js';

export interface IndexOptions {
  gallery?: string;
  pack?: string;
  list?: string;
  root?: string;
  dir?: string;
  import?: string;
  delimiter: string;
  replace?: boolean;
  url?: string;
  apiKey?: string;
  dataDir?: string;
  batchSize: number;
  readAhead: number;
  concurrency: number;
  report?: string;
}

function parseArgs(argv: string[]): IndexOptions {
  const program = newProgram('index', 'Enrol a folder or a PP-ShiTu list of images into a gallery, or import an exported gallery file.')
    .option('--gallery <name>', 'gallery to fill (created when missing)', parseGalleryName)
    .option('--pack <pack>', 'model pack of a new gallery (default SPOTTER_DEFAULT_PACK)')
    .option('--list <file>', 'list file: one "relative/path<TAB>label" per line')
    .option('--root <dir>', 'folder the list paths are relative to (default: the list file\'s folder)')
    .option('--dir <dir>', 'folder with one sub-folder per label')
    .option('--import <file>', 'gallery file written by `npm run export` (no re-embedding)')
    .option('--delimiter <text>', 'separator between path and label in the list', '\t')
    .option('--replace', 'delete the gallery first and rebuild it from scratch')
    .option('--url <url>', 'enrol through a running service at this address instead of the data folder')
    .option('--api-key <key>', 'x-api-key for --url (default SPOTTER_API_KEY)')
    .option('--data-dir <dir>', 'data folder (default SPOTTER_DATA_DIR)')
    .option('--batch-size <n>', 'crops per embedder run (offline)', parsePositiveInt('--batch-size', 256), 16)
    .option('--read-ahead <n>', 'images read and decoded ahead of the models (offline)', parsePositiveInt('--read-ahead', 64), 4)
    .option('--concurrency <n>', 'requests in flight (--url)', parsePositiveInt('--concurrency', 64), 2)
    .option('--report <file>', 'JSON report path (default reports/index-<gallery>-<time>.json, with --import reports/import-<gallery>-<time>.json)');
  program.parse(argv, { from: 'user' });
  const options = program.opts<IndexOptions>();
  for (const key of ['list', 'root', 'dir', 'import', 'dataDir', 'report'] as const) if (options[key] !== undefined) options[key] = userPath(options[key]);
  const sources = [options.list, options.dir, options.import].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new CliError('give exactly one of --list FILE, --dir DIR or --import FILE', EXIT.usage);
  if (!options.gallery && !options.import) throw new CliError('--gallery NAME is required', EXIT.usage);
  if (options.import && options.url) throw new CliError('--import works on the data folder only (stop the service and run without --url)', EXIT.usage);
  if (options.delimiter === '') throw new CliError('--delimiter must not be empty', EXIT.usage);
  return options;
}

export async function indexMain(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  const interrupt = interruptSignal(() => process.stderr.write('\nstopping after the images in flight (Ctrl-C again to quit at once)\n'));
  try {
    return options.import ? await runImport(options, options.import, interrupt.signal) : await runIndex(options, options.gallery!, interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}

async function readSource(options: IndexOptions): Promise<{ set: ImageSet; input: Record<string, string> }> {
  if (options.list) {
    const root = resolve(options.root ?? dirname(options.list));
    return { set: await readImageList(options.list, root, { delimiter: options.delimiter, requireLabel: true }), input: { list: resolve(options.list), root } };
  }
  return { set: await scanLabelFolders(options.dir!), input: { dir: resolve(options.dir!) } };
}

async function openTarget(options: IndexOptions): Promise<IndexTarget> {
  if (options.url) {
    const apiKey = options.apiKey ?? process.env.SPOTTER_API_KEY;
    return new HttpTarget(new ApiClient(options.url, apiKey || undefined), options.url, options.concurrency, cliConfig().maxImageBytes);
  }
  const runtime = await openOffline({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), ...(options.pack ? { pack: options.pack } : {}), minQueue: options.readAhead + 1 });
  return new OfflineTarget(runtime, { batchSize: options.batchSize, readAhead: options.readAhead });
}

async function runIndex(options: IndexOptions, gallery: string, signal: AbortSignal): Promise<number> {
  const startedAt = new Date();
  const { set, input } = await readSource(options);
  const reportPath = resolve(options.report ?? defaultReportPath('index', gallery, 'json', startedAt));
  const target = await openTarget(options);
  const tally = new IndexTally();
  set.problems.forEach((p) => tally.addProblem(p));
  let pack = options.pack ?? '';
  let fatal: unknown;
  const started = performance.now();
  const progress = new Progress(set.items.length, { title: `index ${gallery}` });
  try {
    pack = (await target.prepare(gallery, options.pack, options.replace ?? false)).pack;
    for await (const result of target.enrol(gallery, set.items as LabelledItem[], signal)) {
      tally.add(result);
      progress.tick(tally.line());
    }
  } catch (error) {
    fatal = error;
  } finally {
    progress.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const galleryAfter = await target.counts(gallery).catch(() => null);
  await target.close();
  // List lines and files that name no usable image are counted (other failures) with the rest.
  const processed = tally.processed;
  const imagesDone = processed - set.problems.length;
  const report: IndexReport = {
    command: 'index',
    gallery,
    pack,
    mode: target.mode,
    target: target.where,
    input,
    replace: options.replace ?? false,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: round(seconds, 3),
    imagesPerSecond: round(seconds > 0 ? imagesDone / seconds : 0, 2),
    total: set.items.length + set.problems.length,
    processed,
    interrupted: signal.aborted || fatal !== undefined,
    counts: tally.counts,
    galleryAfter,
    failures: tally.failures,
    duplicates: tally.duplicates,
  };
  await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  if (fatal !== undefined) {
    process.stderr.write(`report of the ${plural(imagesDone, 'image', 'images')} done before the error: ${reportPath}\n`);
    throw fatal;
  }
  process.stdout.write(summaryText(report, reportPath));
  return signal.aborted ? EXIT.interrupted : EXIT.ok;
}

async function runImport(options: IndexOptions, file: string, signal: AbortSignal): Promise<number> {
  const started = performance.now();
  const runtime = await openOffline(options.dataDir ? { dataDir: options.dataDir } : {});
  try {
    const summary = await importGalleryFile(runtime, file, {
      ...(options.gallery ? { gallery: options.gallery } : {}),
      ...(options.pack ? { pack: options.pack } : {}),
      replace: options.replace ?? false,
      signal,
    });
    const info = findGallery(runtime, summary.gallery) ? runtime.galleries.getGallery(summary.gallery) : null;
    const galleryAfter = info ? { entries: info.entryCount, labels: info.labelCount } : null;
    const seconds = (performance.now() - started) / 1000;
    const report = { command: 'index', mode: 'import', file: resolve(file), ...summary, interrupted: signal.aborted, seconds: round(seconds, 3), galleryAfter };
    const reportPath = resolve(options.report ?? defaultReportPath('import', summary.gallery, 'json'));
    await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `${importHeadline(summary, file, signal.aborted)}\n` +
        `  duplicates skipped   ${summary.skippedDuplicates}\n` +
        `  gallery now          ${galleryAfter ? `${plural(galleryAfter.entries, 'entry', 'entries')}, ${plural(galleryAfter.labels, 'label', 'labels')}` : 'not created'}\n` +
        `  time                 ${seconds.toFixed(1)} s\n` +
        `  report               ${reportPath}\n`,
    );
    return signal.aborted ? EXIT.interrupted : EXIT.ok;
  } finally {
    await runtime.dispose();
  }
}

function importHeadline(summary: ImportSummary, file: string, interrupted: boolean): string {
  const done = `${plural(summary.imported, 'entry', 'entries')} into gallery "${summary.gallery}" (pack ${summary.pack}) from ${file}, no re-embedding.`;
  if (!interrupted) return `Imported ${done}`;
  if (!summary.created && !summary.replaced && summary.imported + summary.skippedDuplicates === 0) return `Interrupted while checking ${file}; the gallery was not changed.`;
  // A rerun with --replace would delete what this run imported; without it, it skips those rows.
  return `Interrupted: imported ${done} Run the same command${summary.replaced ? ' without --replace' : ''} again to continue.`;
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

if (isMain(import.meta.url)) runMain(() => indexMain(process.argv.slice(2)));
