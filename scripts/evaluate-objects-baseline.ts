// Numbers for docs/objects-pack.md that `npm run evaluate` cannot produce by itself: the
// colour-histogram baseline (not a model pack) beside the objects pack's variants, with and
// without verification, in one table. Runs the service's own RecognitionPipeline and GalleryStore (HNSW) on
// test/fixtures/objects-eval, one gallery per configuration, and prints a markdown table.
// Run with `npx tsx scripts/evaluate-objects-baseline.ts` after `npm run models:prepare`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { bootstrap } from '../src/bootstrap.js';
import { loadConfig } from '../src/config/config.js';
import type { Embedder, Pack, RgbImage } from '../src/core/types.js';
import { InferenceLimiter } from '../src/pipeline/inference-limiter.js';
import { RecognitionPipeline } from '../src/pipeline/recognition-pipeline.js';

const root = resolve(import.meta.dirname, '..');
const evalDir = join(root, 'test/fixtures/objects-eval');
const readList = (file: string) =>
  readFileSync(join(evalDir, file), 'utf8').trim().split('\n').map((line) => {
    const [path, label] = line.split('\t');
    return { path: path!, label: label || null };
  });

/** 8x8x8 RGB histogram, square-rooted (Hellinger) and L2-normalised: the classic baseline. */
class ColourHistogramEmbedder implements Embedder {
  readonly id = 'rgb-histogram-512';
  readonly dimension = 512;
  readonly metric = 'cosine' as const;
  async init(): Promise<void> {}
  async dispose(): Promise<void> {}
  async embed(crops: RgbImage[]): Promise<Float32Array[]> {
    return crops.map(({ data }) => {
      const h = new Float32Array(512);
      for (let i = 0; i < data.length; i += 3) h[((data[i]! >> 5) << 6) | ((data[i + 1]! >> 5) << 3) | (data[i + 2]! >> 5)]! += 1;
      let norm = 0;
      for (let i = 0; i < h.length; i++) norm += (h[i] = Math.sqrt(h[i]!));
      norm = Math.sqrt(h.reduce((s, v) => s + v * v, 0)) || 1;
      return h.map((v) => v / norm);
    });
  }
}

interface Variant {
  name: string;
  pipeline: 'objects' | 'histogram';
  settings: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { name: 'colour histogram, whole image', pipeline: 'histogram', settings: { subjects: 'proposals', proposals: 0 } },
  { name: 'objects, whole image only', pipeline: 'objects', settings: { subjects: 'proposals', proposals: 0, verify: false } },
  { name: 'objects, detector boxes (no proposals)', pipeline: 'objects', settings: { subjects: 'detections', wholeImageFallback: true, verify: false } },
  { name: 'objects, proposals, no verification', pipeline: 'objects', settings: { verify: false } },
  { name: 'objects, proposals + verification (pack default)', pipeline: 'objects', settings: {} },
];

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'objects-eval-'));
  const config = loadConfig({}, { dataDir, logLevel: 'silent', intraOpThreads: 2, packs: 'objects', modelsDir: join(root, 'models') });
  const runtime = await bootstrap(config, { logger: pino({ level: 'silent' }) });
  try {
    const objects = runtime.packs.get('objects')!;
    const limits = { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, maxDimension: config.maxImageSide };
    const histogram: Pack = { name: 'histogram', detector: objects.detector, embedder: new ColourHistogramEmbedder(), defaults: objects.defaults };
    const pipelines = {
      objects: runtime.pipeline,
      histogram: new RecognitionPipeline({ packs: new Map([['histogram', histogram]]), index: runtime.galleries, limiter: new InferenceLimiter(1, 8), limits }),
    };
    const gallery = readList('gallery.txt');
    const queries = readList('queries.txt');
    console.log(`| configuration | recall@1 | recall@5 | accuracy at its threshold | unknown rejection | known labelled | median ms/query |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- |`);
    for (const [i, variant] of VARIANTS.entries()) {
      const pipeline = pipelines[variant.pipeline];
      const pack = variant.pipeline === 'histogram' ? histogram : objects;
      const name = `eval-${i}`;
      runtime.galleries.createGallery({ name, pack: pack.name, embedder: { embedderId: pack.embedder.id, dimension: pack.embedder.dimension, metric: 'cosine' }, settings: variant.settings });
      const ref = { ...runtime.galleries.getGalleryRef(name) };
      for (const g of gallery) await pipeline.enrol(readFileSync(join(evalDir, g.path)), ref, { label: g.label! }, runtime.galleries);
      // The histogram's cosine scale differs: its threshold is the best-accuracy one on this set.
      const rows: { expected: string | null; labels: string[]; top: number; decided: string | null; ms: number }[] = [];
      for (const q of queries) {
        const started = performance.now();
        const result = await pipeline.recognize(readFileSync(join(evalDir, q.path)), ref, { topK: 20 });
        const first = result.objects[0];
        rows.push({
          expected: q.label,
          labels: [...new Set((first?.matches ?? []).map((m) => m.label))],
          top: first?.matches[0]?.similarity ?? -1,
          decided: first?.label ?? null,
          ms: performance.now() - started,
        });
      }
      const known = rows.filter((r) => r.expected !== null);
      const unknown = rows.filter((r) => r.expected === null);
      const recall = (k: number) => known.filter((r) => r.labels.slice(0, k).includes(r.expected!)).length / known.length;
      let decide = (r: (typeof rows)[number]) => r.decided;
      let thresholdNote = `${pack.defaults.threshold}`;
      if (variant.pipeline === 'histogram') {
        let best = { t: 0, correct: -1 };
        for (let t = 0; t <= 1; t += 0.005) {
          const correct = rows.filter((r) => (r.top >= t ? r.labels[0] : null) === r.expected).length;
          if (correct > best.correct) best = { t, correct };
        }
        decide = (r) => (r.top >= best.t ? (r.labels[0] ?? null) : null);
        thresholdNote = `${best.t.toFixed(3)}, best on this set`;
      }
      const accuracy = rows.filter((r) => decide(r) === r.expected).length / rows.length;
      const rejection = unknown.filter((r) => decide(r) === null).length / unknown.length;
      const labelled = known.filter((r) => decide(r) === r.expected).length / known.length;
      const ms = rows.map((r) => r.ms).sort((a, b) => a - b)[rows.length >> 1]!;
      const f = (v: number) => v.toFixed(3);
      console.log(`| ${variant.name} | ${f(recall(1))} | ${f(recall(5))} | ${f(accuracy)} (t = ${thresholdNote}) | ${f(rejection)} | ${f(labelled)} | ${ms.toFixed(0)} |`);
    }
    console.log(`\n${gallery.length} gallery images, ${queries.length} queries (${queries.filter((q) => q.label).length} known, ${queries.filter((q) => !q.label).length} unknown).`);
  } finally {
    await runtime.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
