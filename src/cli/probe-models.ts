import { readdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openModel } from '../inference/model-loader.js';
import type { SessionOptions } from '../inference/onnx-session.js';
import { greyImage, modelFeeds } from '../models/model-feeds.js';

export interface ModelProbe {
  pack: string;
  id: string;
  file: string;
  /** Manifest validation, sha256 check and session creation. */
  loadMs: number;
  /** One run on a grey image, preprocessed as the manifest says, after a first (warm-up) run. */
  inferenceMs: number;
  intraOpThreads: string;
}

/** Loads every model manifest of every pack under `modelsDir` and times load and one inference. */
export async function probeModels(modelsDir: string, sessionOptions: SessionOptions = {}): Promise<ModelProbe[]> {
  const probes: ModelProbe[] = [];
  const packs = (await readdir(modelsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const threads = sessionOptions.intraOpThreads
    ? String(sessionOptions.intraOpThreads)
    : `default (${availableParallelism()} cores)`;
  for (const pack of packs) {
    const files = (await readdir(join(modelsDir, pack))).filter((f) => f.endsWith('.json') && f !== 'pack.json').sort();
    for (const file of files) {
      const started = performance.now();
      const model = await openModel(join(modelsDir, pack, file), sessionOptions);
      const loadMs = performance.now() - started;
      const feeds = await modelFeeds(model.manifest, [greyImage()]);
      await model.session.run(feeds); // the first run pays for lazy allocations
      const ran = performance.now();
      await model.session.run(feeds);
      const inferenceMs = performance.now() - ran;
      await model.session.dispose();
      probes.push({ pack, id: model.manifest.id, file: model.manifest.file, loadMs, inferenceMs, intraOpThreads: threads });
    }
  }
  return probes;
}

function printTable(probes: ModelProbe[]): void {
  const rows = [
    ['pack', 'model', 'load ms', 'inference ms', 'intra-op threads'],
    ...probes.map((p) => [p.pack, p.id, p.loadMs.toFixed(0), p.inferenceMs.toFixed(1), p.intraOpThreads]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const value = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const threads = value('--threads');
  probeModels(resolve(value('--models-dir') ?? 'models'), threads ? { intraOpThreads: Number(threads) } : {})
    .then(printTable)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
