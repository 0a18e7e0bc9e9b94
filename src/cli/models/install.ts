import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { packNameProblem, sha256File } from '../../inference/model-manifest.js';
import { loadPack } from '../../models/pack-loader.js';
import { CliError, EXIT, writeFileAtomic } from '../shared/cli-main.js';
import type { PackSource } from './catalog.js';

/** A model file ready to install: where its bytes are now and their sha256. */
export interface StagedFile {
  path: string;
  sha256: string;
  /** Move the file (a finished download) instead of copying it (a user's file). */
  move: boolean;
}

export interface InstallOptions {
  modelsDir: string;
  source: PackSource;
  /** Model file name (manifest `file`) to its bytes. */
  files: ReadonlyMap<string, StagedFile>;
  /** Replace an installed pack of the same name. */
  replace?: boolean;
  log?: (line: string) => void;
}

/** Hidden working folder next to the packs (pack names cannot start with a dot). */
export const workDir = (modelsDir: string): string => join(modelsDir, '.spotter-install');

/** Refuses, as a usage error, a name that cannot be an installed pack's folder. */
export function checkPackName(name: string): void {
  const problem = packNameProblem(name);
  if (problem) throw new CliError(`cannot install a pack named "${name}": ${problem}`, EXIT.usage);
}

const exists = async (path: string) => (await stat(path).catch(() => undefined)) !== undefined;

/**
 * Installs a pack atomically: files and manifests (with their sha256) go to a staging folder,
 * the pack is loaded from there exactly as the server will load it (so a wrong input name,
 * output shape or decoder fails here, with the loader's message), and only then is the folder
 * renamed to `<modelsDir>/<name>`.
 */
export async function installPack(options: InstallOptions): Promise<string> {
  const { modelsDir, source } = options;
  checkPackName(source.name);
  const target = join(modelsDir, source.name);
  if ((await exists(target)) && !options.replace) {
    throw new CliError(`pack "${source.name}" is already installed in ${target}; pass --replace to install it again`);
  }
  const stagingRoot = join(workDir(modelsDir), `staging-${process.pid}`);
  const staging = join(stagingRoot, source.name);
  await rm(stagingRoot, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const moved: { from: string; to: string }[] = [];
  try {
    for (const { manifestFile, manifest } of source.models) {
      const file = options.files.get(manifest.file);
      if (!file) throw new CliError(`no file was given for ${manifest.file} (manifest ${manifestFile})`);
      if (manifest.sha256 !== null && manifest.sha256 !== file.sha256) {
        throw new CliError(`${file.path} has sha256 ${file.sha256}, but ${manifestFile} pins ${manifest.sha256}: it is not the file the manifest describes`);
      }
      if (file.move) {
        await rename(file.path, join(staging, manifest.file));
        moved.push({ from: join(staging, manifest.file), to: file.path });
      } else await copyFile(file.path, join(staging, manifest.file));
      if ((await sha256File(join(staging, manifest.file))) !== file.sha256) throw new CliError(`${manifest.file} changed while it was installed`);
      await writeFileAtomic(join(staging, manifestFile), `${JSON.stringify({ ...manifest, sha256: file.sha256 }, null, 2)}\n`);
    }
    await writeFileAtomic(join(staging, 'pack.json'), `${JSON.stringify({ ...source.pack, name: source.name }, null, 2)}\n`);
    const pack = await loadPack(stagingRoot, source.name, { intraOpThreads: 1, warmUp: true });
    options.log?.(`verified: detector ${pack.detector.id}, embedder ${pack.embedder.id} (${pack.embedder.dimension}-D) load and run`);
    await pack.detector.dispose();
    await pack.embedder.dispose();
    const old = join(stagingRoot, `${source.name}.previous`);
    const hadOld = await exists(target);
    if (hadOld) await rename(target, old);
    try {
      await rename(staging, target);
    } catch (error) {
      if (hadOld) await rename(old, target);
      throw error;
    }
    moved.length = 0;
    return target;
  } catch (error) {
    // A verified download is kept where it was, so fixing a manifest does not mean fetching it again.
    for (const m of moved) await rename(m.from, m.to).catch(() => undefined);
    throw error;
  } finally {
    await rm(stagingRoot, { recursive: true, force: true });
  }
}
