import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseModelManifest, sha256File } from '../inference/model-manifest.js';
import { buildFaceModel, FACE_API_PACKAGE, FACE_MODEL_BUILDS } from '../models/face/face-model-builds.js';
import { buildObjectsModel, HUMAN_PACKAGE, OBJECTS_MODEL_BUILDS } from '../models/objects/objects-model-builds.js';
import { writeFileAtomic } from './shared/cli-main.js';

/** How one pack's ONNX files are built from an npm package's shipped weights. */
export interface PackBuild {
  /** Pack folder under the models dir. */
  pack: string;
  /** The npm package holding the source weights. */
  packageName: string;
  models: readonly { file: string; build(packageDir: string): Promise<Uint8Array> }[];
}

/** Every pack this checkout can build offline. */
export const PACK_BUILDS: readonly PackBuild[] = [
  { pack: 'face', packageName: FACE_API_PACKAGE, models: FACE_MODEL_BUILDS.map((b) => ({ file: b.file, build: (dir: string) => buildFaceModel(b, dir) })) },
  { pack: 'objects', packageName: HUMAN_PACKAGE, models: OBJECTS_MODEL_BUILDS.map((b) => ({ file: b.file, build: (dir: string) => buildObjectsModel(b, dir) })) },
];

export interface PrepareModelsOptions {
  /** Folder holding the packs (`<modelsDir>/face/...`); packs without a folder there are skipped. */
  modelsDir: string;
  /** Where the source packages are installed; defaults to this checkout's node_modules. */
  nodeModulesDir?: string;
  /** Build only these packs (default: every pack of PACK_BUILDS). */
  packs?: readonly string[];
  log?: (line: string) => void;
  /** Write the built sha256 into the manifest instead of failing on a mismatch. */
  updateManifests?: boolean;
}

export interface PreparedModel {
  pack: string;
  file: string;
  sha256: string;
  status: 'up-to-date' | 'built' | 'built-manifest-updated';
}

const here = dirname(fileURLToPath(import.meta.url));
/** src/cli and dist/cli both sit two levels below the checkout root. */
const defaultNodeModules = resolve(here, '../../node_modules');

/** Model manifests of a pack folder, by the model file they describe. */
async function manifestsByFile(dir: string): Promise<Map<string, { path: string; text: string; sha256: string }>> {
  const byFile = new Map<string, { path: string; text: string; sha256: string }>();
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith('.json') || name === 'pack.json') continue;
    const path = join(dir, name);
    const text = await readFile(path, 'utf8');
    const manifest = parseModelManifest(JSON.parse(text), `model manifest ${path}`);
    byFile.set(manifest.file, { path, text, sha256: manifest.sha256 });
  }
  return byFile;
}

/** Replaces the sha256 value in place, keeping the manifest's hand-made layout. */
function withSha256(text: string, from: string, to: string): string {
  const field = new RegExp(`("sha256"\\s*:\\s*")${from}(")`);
  if (!field.test(text)) throw new Error(`prepare-models: cannot find "sha256": "${from}" to update`);
  return text.replace(field, `$1${to}$2`);
}

/**
 * Builds every pack's ONNX files from the weights in node_modules (no network). A file whose
 * sha256 already matches its manifest is left alone; a build that does not reproduce the
 * manifest's sha256 fails (or, with `updateManifests`, rewrites the manifest's sha256).
 */
export async function prepareModels(options: PrepareModelsOptions): Promise<PreparedModel[]> {
  const log = options.log ?? (() => {});
  const results: PreparedModel[] = [];
  for (const packBuild of PACK_BUILDS) {
    if (options.packs && !options.packs.includes(packBuild.pack)) continue;
    const packDir = join(options.modelsDir, packBuild.pack);
    if (!(await stat(join(packDir, 'pack.json')).catch(() => undefined))?.isFile()) {
      log(`${packBuild.pack}: no ${join(packDir, 'pack.json')}, skipped`);
      continue;
    }
    results.push(...(await preparePack(packBuild, packDir, options, log)));
  }
  return results;
}

async function preparePack(packBuild: PackBuild, packDir: string, options: PrepareModelsOptions, log: (line: string) => void): Promise<PreparedModel[]> {
  const packageDir = join(options.nodeModulesDir ?? defaultNodeModules, packBuild.packageName);
  const packageVersion = (JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  const manifests = await manifestsByFile(packDir);
  const results: PreparedModel[] = [];
  const pack = packBuild.pack;
  for (const build of packBuild.models) {
    const entry = manifests.get(build.file);
    if (!entry) throw new Error(`prepare-models: no manifest in ${packDir} describes ${build.file}`);
    const target = join(packDir, build.file);
    const existing = await sha256File(target).catch(() => undefined);
    if (existing === entry.sha256) {
      log(`${build.file}: up to date (sha256 ${existing})`);
      results.push({ pack, file: build.file, sha256: existing, status: 'up-to-date' });
      continue;
    }
    const started = performance.now();
    const bytes = await build.build(packageDir);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let status: PreparedModel['status'] = 'built';
    if (sha256 !== entry.sha256) {
      if (!options.updateManifests) {
        throw new Error(
          `prepare-models: ${build.file} built from ${packBuild.packageName} ${packageVersion} has sha256 ${sha256}, ` +
            `but ${entry.path} expects ${entry.sha256}. The weights or the graph builder changed; ` +
            'check the change and rerun with --update-manifests to accept it.',
        );
      }
      await writeFileAtomic(entry.path, withSha256(entry.text, entry.sha256, sha256));
      status = 'built-manifest-updated';
    }
    await writeFileAtomic(target, bytes);
    const ms = (performance.now() - started).toFixed(0);
    log(`${build.file}: ${status} in ${ms} ms, ${bytes.length} bytes, sha256 ${sha256}`);
    results.push({ pack, file: build.file, sha256, status });
  }
  return results;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const dirArg = args.indexOf('--models-dir');
  const modelsDir = resolve(dirArg >= 0 && args[dirArg + 1] ? args[dirArg + 1]! : 'models');
  prepareModels({ modelsDir, updateManifests: args.includes('--update-manifests'), log: (line) => console.log(line) }).catch(
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
