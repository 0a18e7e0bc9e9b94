import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseModelManifest, sha256File } from '../inference/model-manifest.js';
import { buildFaceModel, FACE_API_PACKAGE, FACE_MODEL_BUILDS } from '../models/face/face-model-builds.js';

export interface PrepareModelsOptions {
  /** Folder holding the packs (`<modelsDir>/face/...`). */
  modelsDir: string;
  /** Where @vladmandic/face-api is installed; defaults to this checkout's node_modules. */
  nodeModulesDir?: string;
  log?: (line: string) => void;
  /** Write the built sha256 into the manifest instead of failing on a mismatch. */
  updateManifests?: boolean;
}

export interface PreparedModel {
  file: string;
  sha256: string;
  status: 'up-to-date' | 'built' | 'built-manifest-updated';
}

const here = dirname(fileURLToPath(import.meta.url));
/** src/cli and dist/cli both sit two levels below the checkout root. */
const defaultNodeModules = resolve(here, '../../node_modules');

/** Writes next to the target and renames, so a crash never leaves a half-written file in place. */
async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

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
 * Builds every face-pack ONNX file from the weights in node_modules (no network). A file whose
 * sha256 already matches its manifest is left alone; a build that does not reproduce the
 * manifest's sha256 fails (or, with `updateManifests`, rewrites the manifest's sha256).
 */
export async function prepareModels(options: PrepareModelsOptions): Promise<PreparedModel[]> {
  const log = options.log ?? (() => {});
  const packDir = join(options.modelsDir, 'face');
  const faceApiDir = join(options.nodeModulesDir ?? defaultNodeModules, FACE_API_PACKAGE);
  const faceApiVersion = (JSON.parse(await readFile(join(faceApiDir, 'package.json'), 'utf8')) as { version: string }).version;
  const manifests = await manifestsByFile(packDir);
  const results: PreparedModel[] = [];
  for (const build of FACE_MODEL_BUILDS) {
    const entry = manifests.get(build.file);
    if (!entry) throw new Error(`prepare-models: no manifest in ${packDir} describes ${build.file}`);
    const target = join(packDir, build.file);
    const existing = await sha256File(target).catch(() => undefined);
    if (existing === entry.sha256) {
      log(`${build.file}: up to date (sha256 ${existing})`);
      results.push({ file: build.file, sha256: existing, status: 'up-to-date' });
      continue;
    }
    const started = performance.now();
    const bytes = await buildFaceModel(build, faceApiDir);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let status: PreparedModel['status'] = 'built';
    if (sha256 !== entry.sha256) {
      if (!options.updateManifests) {
        throw new Error(
          `prepare-models: ${build.file} built from ${FACE_API_PACKAGE} ${faceApiVersion} has sha256 ${sha256}, ` +
            `but ${entry.path} expects ${entry.sha256}. The weights or the graph builder changed; ` +
            'check the change and rerun with --update-manifests to accept it.',
        );
      }
      await writeAtomic(entry.path, withSha256(entry.text, entry.sha256, sha256));
      status = 'built-manifest-updated';
    }
    await writeAtomic(target, bytes);
    const ms = (performance.now() - started).toFixed(0);
    log(`${build.file}: ${status} in ${ms} ms, ${bytes.length} bytes, sha256 ${sha256}`);
    results.push({ file: build.file, sha256, status });
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
