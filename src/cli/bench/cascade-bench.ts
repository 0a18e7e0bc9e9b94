import { modelFeeds } from '../../models/model-feeds.js';
import { photoSubset, readPhotos, referencePhoto, type Photo } from './bench-inputs.js';
import { openBenchRuntime, subjectCrops, type BenchRuntime } from './bench-runtime.js';
import { interleave, ratio, summarize, timeLoop, type Summary } from './bench-stats.js';
import { formatMs, formatRatio } from './bench-table.js';
import { mainPack, type BenchOptions, type SectionResult } from './bench-types.js';

const STAGES = ['decode', 'detect', 'crop', 'embed', 'search'];

/** The cascade's stages in their order, then any others a pack adds (e.g. 'verify'), for the columns. */
function stageColumns(figures: readonly CascadeFigure[]): string[] {
  const extra = new Set(figures.flatMap((f) => Object.keys(f.stages)).filter((k) => k !== 'total' && !STAGES.includes(k)));
  return [...STAGES, ...extra];
}

export interface CascadeFigure {
  file: string;
  width: number;
  height: number;
  objects: number;
  /** Subjects the cascade embeds (detections, or proposals plus the whole image). */
  crops: number;
  stages: Record<string, Summary>;
  /** Wall time of `recognize`, measured from outside. */
  total: Summary;
  /** Median of the verify stage (0 when the pack does not verify). */
  verifyMs: number;
  rawDetector: Summary | undefined;
  rawEmbedder: Summary | undefined;
  /** Median detector + median embedder (batch = crops) session.run. */
  rawMs: number;
  ratio: number;
}

function loop(options: BenchOptions) {
  return options.quick ? { warmup: 2, iterations: 5, maxMs: 2_500 } : { warmup: 3, iterations: 40, maxMs: 15_000 };
}

async function benchPhoto(bench: BenchRuntime, photo: Photo, options: BenchOptions): Promise<CascadeFigure> {
  const { pipeline } = bench.runtime;
  const crops = await subjectCrops(bench, photo);
  const detectorFeeds = bench.detector ? await modelFeeds(bench.detector.manifest, [photo.image]) : undefined;
  const embedderFeeds = crops.length > 0 ? await modelFeeds(bench.embedder.manifest, crops) : undefined;
  const stages: Record<string, number[]> = {};
  let objects = 0;
  const work = {
    recognize: async () => {
      const result = await pipeline.recognize(photo.bytes, bench.gallery);
      objects = result.objects.length;
      for (const [stage, ms] of Object.entries(result.timings)) (stages[stage] ??= []).push(ms);
    },
    detector: async () => {
      if (detectorFeeds) await bench.detector!.session.run(detectorFeeds);
    },
    embedder: async () => {
      if (embedderFeeds) await bench.embedder.session.run(embedderFeeds);
    },
  };
  const samples = await interleave(work, loop(options));
  const rawDetector = detectorFeeds ? summarize(samples.detector) : undefined;
  const rawEmbedder = embedderFeeds ? summarize(samples.embedder) : undefined;
  const rawMs = (rawDetector?.median ?? 0) + (rawEmbedder?.median ?? 0);
  const total = summarize(samples.recognize);
  const summaries = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, summarize(v)]));
  // Verification is a stage of its own (OpenCV, not a model): it is shown, but not weighed against the models.
  const verifyMs = summaries.verify?.median ?? 0;
  return {
    file: photo.file,
    width: photo.image.width,
    height: photo.image.height,
    objects,
    crops: crops.length,
    stages: summaries,
    total,
    verifyMs,
    rawDetector,
    rawEmbedder,
    rawMs,
    ratio: ratio(total.median - verifyMs, rawMs),
  };
}

/** Where the time of one image goes, the model runs separated from the code around them. */
async function breakdown(bench: BenchRuntime, photo: Photo, figure: CascadeFigure, options: BenchOptions) {
  const crops = await subjectCrops(bench, photo);
  const quick = { warmup: 2, iterations: options.quick ? 10 : 40, maxMs: options.quick ? 1_500 : 6_000 };
  const detectorPrep = bench.detector ? summarize(await timeLoop(() => modelFeeds(bench.detector!.manifest, [photo.image]), quick)) : undefined;
  const embedderPrep = crops.length > 0 ? summarize(await timeLoop(() => modelFeeds(bench.embedder.manifest, crops), quick)) : undefined;
  const stage = (name: string) => figure.stages[name]?.median ?? 0;
  const rawDetector = figure.rawDetector?.median ?? 0;
  const rawEmbedder = figure.rawEmbedder?.median ?? 0;
  const parts: [string, number][] = [
    ['decode (sharp)', stage('decode')],
    ['detector preprocessing (resize, normalise)', detectorPrep?.median ?? 0],
    ['detector session.run', rawDetector],
    ['detector: worker hand-off, decoding, NMS (rest of detect)', stage('detect') - (detectorPrep?.median ?? 0) - rawDetector],
    ['crop', stage('crop')],
    ['embedder preprocessing', embedderPrep?.median ?? 0],
    ['embedder session.run', rawEmbedder],
    ['embedder: worker hand-off, normalise (rest of embed)', stage('embed') - (embedderPrep?.median ?? 0) - rawEmbedder],
    ['search', stage('search')],
    ...Object.keys(figure.stages).filter((k) => k !== 'total' && !STAGES.includes(k)).map((k): [string, number] => [k, stage(k)]),
  ];
  const accounted = parts.reduce((a, [, ms]) => a + ms, 0);
  parts.push(['other (limiter, decisions, NMS of objects)', figure.total.median - accounted]);
  return parts.map(([part, ms]) => ({ part, ms, share: ms / figure.total.median }));
}

/** Section 2: the whole cascade in-process (bootstrap wiring) against its model runs. */
export async function runCascadeBench(options: BenchOptions): Promise<SectionResult> {
  const photos = await readPhotos(options.photosDir);
  const reference = referencePhoto(photos);
  // Every loaded pack in full mode (the main one first), the main one only in quick mode.
  const main = mainPack(options);
  const packs = options.quick ? [main] : [main, ...options.config.packs.filter((p) => p !== main)];
  const results: SectionResult[] = [];
  for (const packName of packs) results.push(await cascadeForPack(options, photos, reference, packName));
  return {
    ...results[0]!,
    title: `2. The cascade in-process (packs ${packs.join(', ')}; a gallery of 1 entry each)`,
    tables: results.flatMap((r) => r.tables),
    data: { packs: results.map((r) => r.data) },
  };
}

async function cascadeForPack(options: BenchOptions, photos: Photo[], reference: Photo, packName: string): Promise<SectionResult> {
  const bench = await openBenchRuntime(options.config, reference, packName);
  try {
    const figures: CascadeFigure[] = [];
    for (const photo of photoSubset(photos, reference, options.quick, 3)) {
      const figure = await benchPhoto(bench, photo, options);
      figures.push(figure);
      options.log(`  ${packName} ${photo.file}: ${formatMs(figure.total.median)} ms, raw ${formatMs(figure.rawMs)} ms (${formatRatio(figure.ratio)})`);
    }
    const refFigure = figures.find((f) => f.file === reference.file)!;
    const parts = await breakdown(bench, reference, refFigure, options);
    const totalMs = figures.reduce((a, f) => a + f.total.median, 0);
    const verifyMs = figures.reduce((a, f) => a + f.verifyMs, 0);
    const rawMs = figures.reduce((a, f) => a + f.rawMs, 0);
    const stages = stageColumns(figures);
    const rows = figures.map((f) => [
      f.file, `${f.width}x${f.height}`, f.crops, f.objects,
      ...stages.map((s) => formatMs(f.stages[s]?.median)),
      formatMs(f.total.median), formatMs(f.total.p90), formatMs(f.rawMs), formatRatio(f.ratio),
    ]);
    rows.push(['all photos (sum of medians)', '', figures.reduce((a, f) => a + f.crops, 0), figures.reduce((a, f) => a + f.objects, 0), ...stages.map(() => ''), formatMs(totalMs), '', formatMs(rawMs), formatRatio(ratio(totalMs - verifyMs, rawMs))]);
    return {
      id: 'cascade',
      title: `2. The cascade in-process (pack ${bench.packName})`,
      tables: [
        {
          caption: `pack ${bench.packName}: medians per stage (ms); raw = detector + embedder session.run on the same inputs, interleaved with the cascade`,
          table: { headers: ['photo', 'size', 'crops', 'objects', ...stages, 'total', 'total p90', 'raw models', verifyMs > 0 ? '(total - verify) / raw' : 'total / raw'], rows },
        },
        {
          caption: `pack ${bench.packName}: where the time of ${reference.file} goes (medians)`,
          table: { headers: ['part', 'ms', 'share'], rows: parts.map((p) => [p.part, formatMs(p.ms), `${(p.share * 100).toFixed(1)} %`]) },
        },
      ],
      notes: verifyMs > 0 ? ['verify: local-feature verification (ORB + RANSAC in OpenCV\'s worker thread), on by default for this pack; not a model, so left out of the ratio to the raw models'] : [],
      targets: [],
      data: { pack: bench.packName, figures, breakdown: parts, totalMs, verifyMs, rawMs, ratio: ratio(totalMs - verifyMs, rawMs) },
    };
  } finally {
    await bench.dispose();
  }
}
