import { join } from 'node:path';
import { installCommand, isFile } from '../../inference/model-manifest.js';
import { OnnxSession } from '../../inference/onnx-session.js';
import { listPacks } from '../../models/pack-loader.js';
import { listCatalog, readPackSource, type PackSource } from './catalog.js';

export interface PackListing {
  name: string;
  installed: boolean;
  /** Missing model files of an installed pack. */
  missing: string[];
  detector: string;
  embedder: string;
  /** The command that installs a catalog pack (arguments of `npm run models --`). */
  install?: string;
  /** Why the pack's manifests cannot be read (the pack cannot be loaded or installed as it is). */
  problem?: string;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

function describe(source: PackSource): { detector: string; embedder: string } {
  const byFile = new Map(source.models.map((m) => [m.manifestFile, m.manifest]));
  const det = byFile.get(source.pack.detector);
  const emb = byFile.get(source.pack.embedder);
  return {
    detector: det?.kind === 'detector' ? `${det.id} (${det.decoding.decoder})` : 'none (whole image)',
    embedder: emb?.kind === 'embedder' ? `${emb.id} (${emb.embedding.dimension}-D)` : '?',
  };
}

/** Installed packs and catalog packs, without loading any model. */
export async function listModels(modelsDir: string, catalogDir: string): Promise<PackListing[]> {
  const rows: PackListing[] = [];
  const installed = await listPacks(modelsDir);
  for (const name of installed) {
    const source = await readPackSource(join(modelsDir, name), name).catch((error: unknown) => errorMessage(error));
    if (typeof source === 'string') {
      rows.push({ name, installed: true, missing: [], detector: '?', embedder: '?', problem: source });
      continue;
    }
    const missing = [];
    for (const { manifest } of source.models) if (!(await isFile(join(modelsDir, name, manifest.file)))) missing.push(manifest.file);
    rows.push({ name, installed: true, missing, ...describe(source) });
  }
  for (const name of await listCatalog(catalogDir)) {
    if (installed.includes(name)) continue;
    const source = await readPackSource(join(catalogDir, name), name).catch((error: unknown) => errorMessage(error));
    if (typeof source === 'string') {
      rows.push({ name, installed: false, missing: [], detector: '?', embedder: '?', problem: source });
      continue;
    }
    rows.push({ name, installed: false, missing: [], ...describe(source), install: installCommand(source.pack, name, source.models.map((m) => m.manifest)) });
  }
  return rows;
}

export function formatListing(rows: readonly PackListing[]): string {
  const state = (r: PackListing) => {
    if (r.problem) return `${r.installed ? 'installed, invalid' : 'catalog entry invalid'}: ${r.problem}`;
    return r.installed ? (r.missing.length ? `incomplete (missing ${r.missing.join(', ')})` : 'installed') : `not installed: npm run models -- ${r.install}`;
  };
  return rows.map((r) => `${r.name}\n  detector  ${r.detector}\n  embedder  ${r.embedder}\n  state     ${state(r)}\n`).join('');
}

/** Inputs and outputs of an ONNX file, to write its manifest from. */
export async function inspectModel(path: string): Promise<string> {
  const session = await OnnxSession.create(path, { intraOpThreads: 1 });
  try {
    const dims = (shape: (number | string)[] | undefined) => `[${(shape ?? []).join(', ')}]`;
    const lines = [`${path}`, 'inputs:'];
    for (const name of session.inputNames) lines.push(`  ${name}  ${session.inputType(name) ?? '?'} ${dims(session.inputShape(name))}`);
    lines.push('outputs:');
    for (const name of session.outputNames) lines.push(`  ${name}  ${dims(session.outputShape(name))}`);
    return `${lines.join('\n')}\n`;
  } finally {
    await session.dispose();
  }
}
