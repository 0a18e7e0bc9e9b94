import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { NO_DETECTOR, sha256File } from '../../inference/model-manifest.js';
import { CliError, EXIT } from '../shared/cli-main.js';
import { readCatalogEntry, readPackSource } from './catalog.js';
import { checkPackName, installPack, type StagedFile } from './install.js';

export interface ImportOptions {
  modelsDir: string;
  catalogDir: string;
  /** Name of the installed pack (and of the catalog entry, unless `manifestsDir` is given). */
  name: string;
  /** A folder with your own pack.json and model manifests, instead of the catalog entry. */
  manifestsDir?: string;
  /** ONNX files for the pack's detector and embedder manifests. */
  detector?: string;
  embedder?: string;
  replace?: boolean;
  log?: (line: string) => void;
}

/**
 * Installs a pack from local ONNX files (e.g. PP-ShiTuV2 converted with paddle2onnx) and the
 * manifests that describe them: the catalog entry of the same name, or your own folder. The
 * files' sha256 are recorded in the installed manifests (or must match where a manifest pins
 * one), and the pack is loaded once before it is put in place.
 */
export async function importPack(options: ImportOptions): Promise<string> {
  checkPackName(options.name);
  const source = options.manifestsDir
    ? { ...(await readPackSource(resolve(options.manifestsDir), options.name)), name: options.name }
    : await readCatalogEntry(options.catalogDir, options.name);
  const roles = [
    { role: 'detector', manifestFile: source.pack.detector, given: options.detector },
    { role: 'embedder', manifestFile: source.pack.embedder, given: options.embedder },
  ];
  const files = new Map<string, StagedFile>();
  for (const { role, manifestFile, given } of roles) {
    if (manifestFile === NO_DETECTOR) {
      if (given) throw new CliError(`pack "${options.name}" has no detector ("detector": "none"); drop --detector`, EXIT.usage);
      continue;
    }
    if (!given) throw new CliError(`pack "${options.name}" needs --${role} FILE.onnx (described by ${manifestFile})`, EXIT.usage);
    const path = resolve(given);
    if (!(await stat(path).catch(() => undefined))?.isFile()) throw new CliError(`--${role} ${path} is not a file`, EXIT.usage);
    const manifest = source.models.find((m) => m.manifestFile === manifestFile)!.manifest;
    files.set(manifest.file, { path, sha256: await sha256File(path), move: false });
  }
  const others = source.models.filter((m) => !files.has(m.manifest.file));
  if (others.length) {
    throw new CliError(`import takes the detector and embedder only; ${others.map((m) => m.manifestFile).join(', ')} would have no file (use --manifests with a pack without alternativeDetectors)`);
  }
  return installPack({ modelsDir: options.modelsDir, source, files, replace: options.replace, log: options.log });
}
