import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../../config/config.js';
import { describeMachine, loadAverage, machineInfo, threadSettings } from './bench-machine.js';
import { markdownReport, sectionText, targetTable, type BenchReport } from './bench-report.js';
import { formatTable } from './bench-table.js';
import { SECTION_IDS, type BenchOptions, type SectionId, type SectionResult } from './bench-types.js';
import { runCascadeBench } from './cascade-bench.js';
import { runHttpBench } from './http-bench.js';
import { runIndexBench } from './index-bench.js';
import { runIndexingBench } from './indexing-bench.js';
import { runPeerBench } from './peer-bench.js';
import { runRawModelsBench } from './raw-models-bench.js';

/** src/cli/bench and dist/cli/bench both sit three levels below the checkout. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const RUNNERS: Record<SectionId, (options: BenchOptions) => Promise<SectionResult>> = {
  raw: runRawModelsBench,
  cascade: runCascadeBench,
  http: runHttpBench,
  index: runIndexBench,
  peer: runPeerBench,
  indexing: runIndexingBench,
};

export interface BenchArgs {
  quick: boolean;
  only: SectionId[];
  out: string;
  markdown?: string;
  photos: string;
  indexSizes?: number[];
  indexDims?: number[];
  indexLarge: boolean;
}

const numberList = (flag: string) => (value: string): number[] => {
  const list = value.split(',').map((v) => Number(v.trim().replace(/_/g, '')));
  if (list.length === 0 || !list.every((n) => Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`${flag} takes positive integers separated by commas`);
  return list;
};

function sectionList(value: string): SectionId[] {
  const list = value.split(',').map((v) => v.trim()).filter(Boolean);
  const unknown = list.filter((v) => !(SECTION_IDS as readonly string[]).includes(v));
  if (list.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`sections are ${SECTION_IDS.join(', ')}`);
  return list as SectionId[];
}

export function parseBenchArgs(argv: string[], now = new Date()): BenchArgs {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const program = new Command('bench')
    .description('Benchmarks: raw models, the cascade, the HTTP service, the index, the face-api peer, batch indexing. Prints tables and writes JSON.')
    .option('--quick', 'short runs and a small index (under about 2 minutes)', false)
    .option('--only <sections>', `comma-separated subset of ${SECTION_IDS.join(',')}`, sectionList, [...SECTION_IDS])
    .option('--out <file>', 'JSON results file', join('bench-results', `bench-${stamp}.json`))
    .option('--markdown <file>', 'also write the report as Markdown')
    .option('--photos <dir>', 'folder of photos', join(ROOT, 'test', 'fixtures', 'photos'))
    .option('--index-sizes <list>', 'index entry counts (default 100000,1000000; quick 10000)', numberList('--index-sizes'))
    .option('--index-dims <list>', 'index vector dimensions (default 128,512)', numberList('--index-dims'))
    .option('--index-large', 'include 1M x 512-D in the default index sizes (about 30 minutes on 2 cores)', false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: 'user' });
  return program.opts<BenchArgs>();
}

function indexPlan(args: BenchArgs): { sizes: number[]; dims: number[] } {
  const sizes = args.indexSizes ?? (args.quick ? [10_000] : [100_000, 1_000_000]);
  const dims = args.indexDims ?? [128, 512];
  return { sizes, dims };
}

async function runSection(id: SectionId, options: BenchOptions): Promise<SectionResult> {
  const start = loadAverage();
  const started = performance.now();
  let result: SectionResult;
  try {
    result = await RUNNERS[id](options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    result = { id, title: `${SECTION_IDS.indexOf(id) + 1}. ${id}`, tables: [], notes: [], targets: [], data: {}, skipped: `failed: ${message}` };
  }
  return { ...result, loadAverage: { start, end: loadAverage() }, seconds: (performance.now() - started) / 1000 };
}

export async function runBench(argv: string[], config: Config, log: (line: string) => void = console.log): Promise<BenchReport> {
  const args = parseBenchArgs(argv);
  const startedAt = new Date().toISOString();
  const machine = machineInfo(ROOT);
  const threads = threadSettings(config);
  const plan = indexPlan(args);
  const options: BenchOptions = {
    quick: args.quick,
    root: ROOT,
    photosDir: resolve(args.photos),
    config,
    indexSizes: plan.sizes,
    indexDimensions: plan.dims,
    // Sizes given by hand are run as given.
    indexLarge: args.indexLarge || args.indexSizes !== undefined,
    log,
  };
  for (const line of describeMachine(machine, threads)) log(line);
  log(`mode: ${args.quick ? 'quick' : 'full'}; sections: ${args.only.join(', ')}`);
  const sections: SectionResult[] = [];
  for (const id of SECTION_IDS.filter((s) => args.only.includes(s))) {
    log(`\nrunning ${id} ...`);
    const section = await runSection(id, options);
    sections.push(section);
    log(`\n${sectionText(section)}`);
  }
  const targets = sections.flatMap((s) => s.targets);
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    mode: args.quick ? 'quick' : 'full',
    argv,
    machine,
    threads,
    loadAverageAtEnd: loadAverage(),
    sections,
    targets,
  };
  if (targets.length > 0) log(`\n== Targets\n${formatTable(targetTable(targets))}`);
  await mkdir(dirname(resolve(args.out)), { recursive: true });
  await writeFile(resolve(args.out), `${JSON.stringify(report, null, 2)}\n`);
  log(`\nresults: ${resolve(args.out)}`);
  if (args.markdown) {
    await mkdir(dirname(resolve(args.markdown)), { recursive: true });
    await writeFile(resolve(args.markdown), markdownReport(report));
    log(`markdown: ${resolve(args.markdown)}`);
  }
  return report;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  let config: Config | undefined;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exitCode = 2;
  }
  if (config) {
    runBench(process.argv.slice(2), config)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        const code = (error as { code?: string }).code;
        if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
        console.error(error instanceof Error ? error.message : error);
        process.exit(code?.startsWith('commander.') ? 2 : 1);
      });
  }
}
