import { mkdtempSync, rmSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HnswParams } from '../../gallery/gallery-types.js';
import { HnswIndex } from '../../gallery/hnsw-index.js';
import { digestFile, writeFileAtomically } from '../../gallery/snapshot-file.js';
import { summarize, type Summary } from './bench-stats.js';
import { formatBytes, formatMs, formatNumber } from './bench-table.js';
import { target, type BenchOptions, type SectionResult, type TargetResult } from './bench-types.js';
import { DEFAULT_SHAPE, exactTopK, recallAtK, syntheticSet } from './synthetic-vectors.js';

const K = 10;
const RECALL_TARGET = 0.98;

export interface EfFigure {
  ef: number;
  recall: number;
  latency: Summary;
}

export interface IndexFigure {
  count: number;
  dimension: number;
  params: HnswParams;
  queries: number;
  buildSeconds: number;
  buildPerSecond: number;
  exactMsPerQuery: number;
  snapshotBytes: number;
  bytesPerEntry: number;
  rssBytesPerEntry: number;
  saveMs: number;
  loadMs: { checksum: number; read: number; total: number };
  loadedRecall: number;
  efs: EfFigure[];
  /** At the service's configured ef. */
  configured: EfFigure;
  /** The smallest ef of the sweep with recall@10 >= 0.98, if any. */
  smallestMeetingTarget: EfFigure | undefined;
}

function searchAll(index: HnswIndex, queries: Float32Array, count: number, dimension: number, ef: number): { ids: number[][]; latency: Summary } {
  const ids: number[][] = [];
  const times: number[] = [];
  for (let q = 0; q < count; q++) {
    const vector = queries.subarray(q * dimension, (q + 1) * dimension);
    const t0 = performance.now();
    const hits = index.search(vector, K, ef);
    times.push(performance.now() - t0);
    ids.push(hits.map((h) => h.label));
  }
  return { ids, latency: summarize(times) };
}

function efSweep(configured: number, quick: boolean): number[] {
  const sweep = quick ? [16, 32, 64, 128] : [16, 32, 64, 96, 128, 160, 192, 256];
  return [...new Set([...sweep, configured])].sort((a, b) => a - b);
}

function benchOne(count: number, dimension: number, options: BenchOptions, dir: string): IndexFigure {
  const { config, quick, log } = options;
  const params: HnswParams = { m: config.hnswM, efConstruction: config.hnswEfConstruction, ef: config.hnswEf };
  const queryCount = quick ? 100 : count >= 1_000_000 ? 100 : 200;
  const set = syntheticSet(count, dimension, queryCount, 1000 + dimension);
  let t0 = performance.now();
  const exact = exactTopK(set, set.queries, queryCount, K);
  const exactMsPerQuery = (performance.now() - t0) / queryCount;

  const rssBefore = process.memoryUsage().rss;
  const index = HnswIndex.create(dimension, count, params);
  t0 = performance.now();
  let lastLog = t0;
  for (let i = 0; i < count; i++) {
    index.add(i, set.vectors.subarray(i * dimension, (i + 1) * dimension));
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(`    ${count} x ${dimension}: ${i + 1} added, ${formatNumber((i + 1) / ((lastLog - t0) / 1000))}/s`);
    }
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  const rssBytesPerEntry = (process.memoryUsage().rss - rssBefore) / count;

  const efs: EfFigure[] = [];
  for (const ef of efSweep(params.ef, quick)) {
    const { ids, latency } = searchAll(index, set.queries, queryCount, dimension, ef);
    efs.push({ ef, recall: recallAtK(exact, ids, K), latency });
  }

  const file = join(dir, `bench-${count}-${dimension}.hnsw`);
  t0 = performance.now();
  const digest = writeFileAtomically(file, (temp) => index.writeTo(temp));
  const saveMs = performance.now() - t0;
  t0 = performance.now();
  const check = digestFile(file);
  const checksum = performance.now() - t0;
  if (check.sha256 !== digest.sha256) throw new Error('snapshot checksum changed between write and read');
  t0 = performance.now();
  const loaded = HnswIndex.load(file, dimension, params);
  const read = performance.now() - t0;
  const loadedRecall = recallAtK(exact, searchAll(loaded, set.queries, queryCount, dimension, params.ef).ids, K);
  rmSync(file, { force: true });

  const configured = efs.find((e) => e.ef === params.ef)!;
  return {
    count, dimension, params, queries: queryCount, buildSeconds, buildPerSecond: count / buildSeconds, exactMsPerQuery,
    snapshotBytes: digest.bytes, bytesPerEntry: digest.bytes / count, rssBytesPerEntry,
    saveMs, loadMs: { checksum, read, total: checksum + read }, loadedRecall,
    efs, configured, smallestMeetingTarget: efs.find((e) => e.recall >= RECALL_TARGET),
  };
}

/** Bytes the run needs at its peak: vectors, queries and the graph (about 1.2x the vectors, M links). */
const bytesNeeded = (count: number, dimension: number, m: number) => count * (dimension * 4 * 2.2 + m * 2 * 4 * 1.5 + 64);

/** Section 4: the HNSW index on synthetic clustered vectors, against exact search. */
export async function runIndexBench(options: BenchOptions): Promise<SectionResult> {
  const { config } = options;
  const notes: string[] = [
    `synthetic unit vectors, seeded: groups of ${DEFAULT_SHAPE.identitiesPerGroup} identities, ${DEFAULT_SHAPE.perIdentity} entries per identity (spreads ${DEFAULT_SHAPE.identitySpread} and ${DEFAULT_SHAPE.entrySpread}); queries are fresh samples of stored identities`,
    `HNSW (hnswlib-node through src/gallery/hnsw-index.ts): M ${config.hnswM}, efConstruction ${config.hnswEfConstruction}, ef ${config.hnswEf} (the service's settings); searches one at a time on one core; recall@${K} against exact inner-product search`,
    'save = write + sha256 + fsync + rename, as the service snapshots; load = sha256 check + hnswlib read, as the service starts',
  ];
  const plan: [number, number][] = [];
  for (const dimension of options.indexDimensions) {
    for (const count of [...options.indexSizes].sort((a, b) => a - b)) {
      const large = count >= 1_000_000 && dimension >= 512;
      if (large && !options.indexLarge) {
        notes.push(`${formatNumber(count)} x ${dimension}-D not run: it takes about 25 minutes on 2 cores; add --index-large`);
        continue;
      }
      plan.push([count, dimension]);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'spotter-bench-index-'));
  const figures: IndexFigure[] = [];
  try {
    for (const [count, dimension] of plan) {
      const need = bytesNeeded(count, dimension, config.hnswM);
      if (need > freemem() * 0.8) {
        notes.push(`${formatNumber(count)} x ${dimension}-D not run: needs about ${formatBytes(need)}, ${formatBytes(freemem())} free`);
        continue;
      }
      options.log(`  index ${formatNumber(count)} x ${dimension}-D ...`);
      const figure = benchOne(count, dimension, options, dir);
      figures.push(figure);
      options.log(`  index ${formatNumber(count)} x ${dimension}-D: build ${figure.buildSeconds.toFixed(0)} s, recall ${figure.configured.recall.toFixed(4)}, p50 ${formatMs(figure.configured.latency.median)} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const targets: TargetResult[] = [];
  const largest = Math.max(...figures.map((f) => f.count));
  for (const f of figures.filter((x) => x.count === largest)) {
    const at = `${formatNumber(f.count)} x ${f.dimension}-D`;
    targets.push(target(`HNSW recall@${K} at ef ${f.params.ef}, ${at}`, f.configured.recall, 'min', RECALL_TARGET, ''));
    targets.push(target(`HNSW p50 search, ${at}`, f.configured.latency.median, 'max', 1, 'ms'));
    targets.push(target(`start-up from the snapshot (checksum + load), ${at}`, f.loadMs.total / 1000, 'max', 30, 's', `rebuild would take ${f.buildSeconds.toFixed(0)} s`));
  }
  return {
    id: 'index',
    title: '4. The index (HNSW) at scale',
    tables: [
      {
        caption: `build, memory and snapshots (M ${config.hnswM}, efConstruction ${config.hnswEfConstruction})`,
        table: {
          headers: ['entries', 'dim', 'build s', 'inserts/s', 'bytes/entry (snapshot)', 'RSS/entry', 'save ms', 'load ms (sha256 + read)', 'exact search ms/query'],
          rows: figures.map((f) => [
            formatNumber(f.count), f.dimension, f.buildSeconds.toFixed(1), formatNumber(f.buildPerSecond), formatNumber(f.bytesPerEntry, 0), formatNumber(f.rssBytesPerEntry, 0),
            formatMs(f.saveMs), `${formatMs(f.loadMs.total)} (${formatMs(f.loadMs.checksum)} + ${formatMs(f.loadMs.read)})`, formatMs(f.exactMsPerQuery),
          ]),
        },
      },
      {
        caption: `search: recall@${K} against exact search and latency per query (ms), by ef; the service uses ef ${config.hnswEf}`,
        table: {
          headers: ['entries', 'dim', 'ef', `recall@${K}`, 'p50 ms', 'p90 ms', 'p99 ms'],
          rows: figures.flatMap((f) => f.efs.map((e) => [
            formatNumber(f.count), f.dimension, e.ef === f.params.ef ? `${e.ef} (service)` : e.ef, e.recall.toFixed(4), formatMs(e.latency.median), formatMs(e.latency.p90), formatMs(e.latency.p99),
          ])),
        },
      },
    ],
    notes,
    targets,
    data: { shape: DEFAULT_SHAPE, figures },
  };
}
