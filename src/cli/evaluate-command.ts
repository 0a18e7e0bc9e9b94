import { dirname, resolve } from 'node:path';
import { renderBadCaseReport } from './evaluation/bad-case-report.js';
import { runQueries } from './evaluation/evaluation-run.js';
import { metricsText, summarise, sweepRows } from './evaluation/evaluation-summary.js';
import type { Objective } from './evaluation/metrics.js';
import { HttpQueryEngine, OfflineQueryEngine, SERVICE_MAX_DEPTH, type QueryEngine } from './evaluation/query-engine.js';
import { ApiClient } from './shared/api-client.js';
import { CliError, defaultReportPath, EXIT, interruptSignal, isMain, newProgram, parseGalleryName, parsePositiveInt, runMain, userPath, writeFileAtomic } from './shared/cli-main.js';
import { readImageList, scanLabelFolders } from './shared/image-sources.js';
import { cliConfig, openOffline } from './shared/offline-runtime.js';
import { Progress } from './shared/progress.js';

interface EvaluateOptions {
  gallery: string;
  list?: string;
  root?: string;
  dir?: string;
  unknownFolder: string;
  delimiter: string;
  split?: boolean;
  threshold?: number;
  objective: Objective;
  depth: number;
  galleryRoot?: string;
  url?: string;
  apiKey?: string;
  dataDir?: string;
  readAhead: number;
  report?: string;
  html?: string;
}

function parseThreshold(value: string): number {
  const t = Number(value);
  if (!Number.isFinite(t) || t < -1 || t > 1) throw new CliError(`--threshold must be a number from -1 to 1, got "${value}"`, EXIT.usage);
  return t;
}

function parseObjective(value: string): Objective {
  if (value !== 'accuracy' && value !== 'f1') throw new CliError(`--objective is accuracy or f1, got "${value}"`, EXIT.usage);
  return value;
}

function parseArgs(argv: string[]): EvaluateOptions {
  const program = newProgram('evaluate', 'Measure a gallery on labelled queries: recall@k, mAP, unknown rejection, threshold sweep, bad-case report.')
    .requiredOption('--gallery <name>', 'gallery to evaluate', parseGalleryName)
    .option('--list <file>', 'queries: one "path<TAB>label" per line; no label = not enrolled (unknown)')
    .option('--root <dir>', 'folder the list paths are relative to (default: the list file\'s folder)')
    .option('--dir <dir>', 'queries: one sub-folder per label')
    .option('--unknown-folder <name>', 'with --dir, the sub-folder of items that are not enrolled', '_unknown')
    .option('--delimiter <text>', 'separator between path and label in the list', '\t')
    .option('--split', 'leave-one-out: each image is queried against the gallery without its own entries')
    .option('--threshold <t>', 'decision threshold (default: the gallery\'s)', parseThreshold)
    .option('--objective <name>', 'what the suggested threshold maximises: accuracy or f1', parseObjective, 'accuracy')
    .option('--depth <n>', 'neighbours retrieved per query (mAP@depth)', parsePositiveInt('--depth', 10_000), 100)
    .option('--gallery-root <dir>', 'folder the gallery was indexed from, for neighbour thumbnails (default: the query folder)')
    .option('--url <url>', 'query a running service at this address instead of the data folder')
    .option('--api-key <key>', 'x-api-key for --url (default SPOTTER_API_KEY)')
    .option('--data-dir <dir>', 'data folder (default SPOTTER_DATA_DIR)')
    .option('--read-ahead <n>', 'queries in flight', parsePositiveInt('--read-ahead', 64), 4)
    .option('--report <file>', 'JSON report (default reports/evaluate-<gallery>-<time>.json)')
    .option('--html <file>', 'bad-case report (default: the JSON report\'s name with .html)');
  program.parse(argv, { from: 'user' });
  const options = program.opts<EvaluateOptions>();
  for (const key of ['list', 'root', 'dir', 'galleryRoot', 'dataDir', 'report', 'html'] as const) if (options[key] !== undefined) options[key] = userPath(options[key]);
  if ((options.list === undefined) === (options.dir === undefined)) throw new CliError('give exactly one of --list FILE or --dir DIR', EXIT.usage);
  if (options.url && options.depth > SERVICE_MAX_DEPTH) {
    throw new CliError(`--depth is at most ${SERVICE_MAX_DEPTH} with --url (the service answers at most ${SERVICE_MAX_DEPTH} neighbours), got ${options.depth}`, EXIT.usage);
  }
  return options;
}

export async function evaluateMain(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  const startedAt = new Date();
  const queryRoot = resolve(options.list ? (options.root ?? dirname(options.list)) : options.dir!);
  const set = options.list
    ? await readImageList(options.list, queryRoot, { delimiter: options.delimiter, requireLabel: false })
    : await scanLabelFolders(options.dir!, { unknownFolder: options.unknownFolder });
  for (const p of set.problems) process.stderr.write(`skipped ${p.source}: ${p.reason}\n`);
  if (set.items.length === 0) throw new CliError('no query images found');

  let engine: QueryEngine;
  const dataOptions = options.dataDir ? { dataDir: options.dataDir } : {};
  const config = cliConfig(dataOptions);
  if (options.url) {
    engine = new HttpQueryEngine(new ApiClient(options.url, options.apiKey ?? (process.env.SPOTTER_API_KEY || undefined)), options.url);
  } else {
    engine = new OfflineQueryEngine(await openOffline({ ...dataOptions, minQueue: options.readAhead + 1, mustExist: true }), resolve(config.dataDir));
  }
  const interrupt = interruptSignal(() => process.stderr.write('\nstopping after the queries in flight (Ctrl-C again to quit at once)\n'));
  try {
    const gallery = await engine.load(options.gallery);
    const threshold = options.threshold ?? gallery.threshold;
    const progress = new Progress(set.items.length, { title: `evaluate ${gallery.name}` });
    let wrong = 0;
    const started = performance.now();
    const { records, ranked } = await runQueries({
      engine,
      gallery,
      items: set.items,
      depth: options.depth,
      leaveOneOut: options.split ?? false,
      threshold,
      readAhead: options.readAhead,
      maxImageBytes: config.maxImageBytes,
      signal: interrupt.signal,
      onQuery: (r) => {
        if (!r.correct) wrong++;
        progress.tick(`wrong ${wrong}`);
      },
    }).finally(() => progress.stop());
    const seconds = (performance.now() - started) / 1000;

    const metrics = summarise(records, ranked, { threshold, thresholdSource: options.threshold === undefined ? 'gallery' : 'option', depth: options.depth, objective: options.objective });
    const rows = sweepRows(ranked, metrics);
    const reportPath = resolve(options.report ?? defaultReportPath('evaluate', gallery.name, 'json', startedAt));
    const htmlPath = resolve(options.html ?? reportPath.replace(/\.json$/i, '') + '.html');
    const report = {
      command: 'evaluate',
      gallery: { name: gallery.name, pack: gallery.pack, entries: gallery.entries.size, threshold: gallery.threshold },
      mode: engine.mode,
      target: engine.where,
      input: options.list ? { list: resolve(options.list), root: queryRoot } : { dir: queryRoot },
      leaveOneOut: options.split ?? false,
      interrupted: interrupt.signal.aborted,
      startedAt: startedAt.toISOString(),
      seconds: Math.round(seconds * 1000) / 1000,
      metrics,
      queries: records.map(({ path: _path, ...r }) => r),
    };
    await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
    const html = await renderBadCaseReport({
      gallery,
      metrics,
      sweepRows: rows,
      records,
      galleryRoot: resolve(options.galleryRoot ?? queryRoot),
      generatedAt: startedAt.toISOString(),
    });
    await writeFileAtomic(htmlPath, html);
    const wrongCount = records.filter((r) => !r.correct && (r.status === 'ok' || r.status === 'noSubject')).length;
    process.stdout.write(
      `${interrupt.signal.aborted ? 'Interrupted: partial results. ' : ''}Evaluated gallery "${gallery.name}" (pack ${gallery.pack}, ${gallery.entries.size} entries)` +
        `${options.split ? ' by leave-one-out' : ''} in ${seconds.toFixed(1)} s.\n${metricsText(metrics, rows)}\n` +
        `  report (JSON)         ${reportPath}\n  bad cases (HTML)      ${htmlPath} (${wrongCount} wrong)\n`,
    );
    return interrupt.signal.aborted ? EXIT.interrupted : EXIT.ok;
  } finally {
    interrupt.dispose();
    await engine.close();
  }
}

if (isMain(import.meta.url)) runMain(() => evaluateMain(process.argv.slice(2)));
