import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isFile,
  NO_DETECTOR,
  packDir,
  parseCatalogModelManifest,
  parsePackManifest,
  readJson,
  type CatalogModelManifest,
  type PackManifest,
} from '../../inference/model-manifest.js';
import { CliError } from '../shared/cli-main.js';

/**
 * A pack as described in the catalog (models/catalog/<name>/, or any folder of the same form):
 * pack.json and the model manifests it names, with sha256 possibly not pinned yet. Installing
 * turns it into an installed pack folder with every file and every sha256 in place.
 */
export interface PackSource {
  name: string;
  dir: string;
  pack: PackManifest;
  models: { manifestFile: string; manifest: CatalogModelManifest }[];
}

/** Reads a pack description folder (pack.json plus the manifests it names). */
export async function readPackSource(dir: string, name: string): Promise<PackSource> {
  const packPath = join(dir, 'pack.json');
  if (!(await isFile(packPath))) throw new CliError(`no pack description at ${packPath}`);
  const pack = parsePackManifest(await readJson(packPath, 'pack manifest'), `pack manifest ${packPath}`);
  const files = [pack.detector, ...(pack.alternativeDetectors ?? []), pack.embedder].filter((f) => f !== NO_DETECTOR);
  const models = [];
  for (const manifestFile of files) {
    const path = join(dir, manifestFile);
    models.push({ manifestFile, manifest: parseCatalogModelManifest(await readJson(path, 'model manifest'), `model manifest ${path}`) });
  }
  return { name, dir, pack, models };
}

/** The catalog entry of a pack; a clear error naming the known ones when there is none. */
export async function readCatalogEntry(catalogDir: string, name: string): Promise<PackSource> {
  const dir = packDir(catalogDir, name);
  if (!(await isFile(join(dir, 'pack.json')))) {
    const known = await listCatalog(catalogDir);
    throw new CliError(`no pack "${name}" in the catalog ${catalogDir} (catalog: ${known.join(', ') || 'empty'})`);
  }
  return readPackSource(dir, name);
}

/** Pack names in the catalog, sorted. */
export async function listCatalog(catalogDir: string): Promise<string[]> {
  const entries = await readdir(catalogDir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const entry of entries) if (entry.isDirectory() && (await isFile(join(catalogDir, entry.name, 'pack.json')))) names.push(entry.name);
  return names.sort();
}
