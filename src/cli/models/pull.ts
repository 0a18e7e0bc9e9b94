import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isFile, sha256File } from '../../inference/model-manifest.js';
import { CliError, EXIT } from '../shared/cli-main.js';
import { readCatalogEntry } from './catalog.js';
import { downloadResumable } from './download.js';
import { installPack, workDir, type StagedFile } from './install.js';

export interface PullOptions {
  modelsDir: string;
  catalogDir: string;
  name: string;
  /** Downloads happen only when this is true (--allow-network or SPOTTER_ALLOW_DOWNLOADS=1). */
  allowNetwork: boolean;
  /** Accept files whose sha256 the catalog does not pin; their hash is recorded on install. */
  trustUnpinned?: boolean;
  replace?: boolean;
  retries?: number;
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Folder of the resumable partial downloads of a pack. */
export const downloadsDir = (modelsDir: string, name: string): string => join(workDir(modelsDir), 'downloads', name);

/**
 * Installs a catalog pack from the URLs in its manifests: each file is downloaded (resuming a
 * .part left by an interrupted run), checked against the pinned sha256 and size, and the pack
 * is installed only when every file is verified and the pack loads.
 */
export async function pullPack(options: PullOptions): Promise<string> {
  const log = options.log ?? (() => {});
  if (!options.allowNetwork) {
    throw new CliError(
      `downloads are off by default: pass --allow-network (or set SPOTTER_ALLOW_DOWNLOADS=1) to let \`models pull ${options.name}\` fetch files`,
      EXIT.usage,
    );
  }
  const source = await readCatalogEntry(options.catalogDir, options.name);
  for (const { manifestFile, manifest } of source.models) {
    if (!manifest.download) {
      throw new CliError(
        `${manifestFile} of pack "${options.name}" has no download (there is no published ONNX file); convert the model yourself and run ` +
          `\`npm run models -- import ${options.name} --detector DET.onnx --embedder REC.onnx\` (docs/models.md)`,
      );
    }
    if (manifest.sha256 === null && !options.trustUnpinned) {
      throw new CliError(
        `${manifestFile} of pack "${options.name}" pins no sha256 for ${manifest.download.url}, so the bytes cannot be verified; ` +
          'pass --trust-unpinned to accept what the server sends (its sha256 is then recorded and checked on every start)',
      );
    }
  }
  const parts = downloadsDir(options.modelsDir, options.name);
  await mkdir(parts, { recursive: true });
  const files = new Map<string, StagedFile>();
  const unpinned: string[] = [];
  for (const { manifestFile, manifest } of source.models) {
    const download = manifest.download!;
    const partPath = join(parts, `${manifest.file}.part`);
    if (manifest.sha256 === null) {
      // Without a pinned sha256 nothing can tell whether bytes kept from an earlier run belong
      // to the file the server sends now, so an unpinned file always starts from byte 0 (a run
      // still resumes its own interrupted transfers).
      if (await isFile(partPath)) log(`${manifest.file}: unpinned, so the partial download of an earlier run is not resumed; starting again`);
      await rm(partPath, { force: true });
      unpinned.push(partPath);
    }
    log(`${manifest.file}: downloading ${download.url}`);
    const result = await downloadResumable({
      url: download.url,
      partPath,
      size: download.size,
      retries: options.retries,
      idleTimeoutMs: options.idleTimeoutMs,
      resumedByNextRun: manifest.sha256 !== null,
      log: (line) => log(`${manifest.file}: ${line}`),
    });
    const sha256 = await sha256File(partPath);
    if (manifest.sha256 !== null && sha256 !== manifest.sha256) {
      await rm(partPath, { force: true });
      throw new CliError(
        `${manifest.file}: sha256 mismatch, downloaded ${sha256}, ${manifestFile} pins ${manifest.sha256}; ` +
          'the download was deleted and nothing was installed (a corrupted transfer, or the file changed upstream)',
      );
    }
    const resumed = result.resumedFrom > 0 ? `, resumed from ${result.resumedFrom} bytes` : '';
    log(`${manifest.file}: ${result.bytes} bytes in ${result.attempts} attempt(s)${resumed}, sha256 ${sha256}${manifest.sha256 === null ? ' (unpinned, recorded)' : ' (verified)'}`);
    files.set(manifest.file, { path: partPath, sha256, move: true });
  }
  let target: string;
  try {
    target = await installPack({ modelsDir: options.modelsDir, source, files, replace: options.replace, log });
  } catch (error) {
    // A verified (pinned) download is kept for the next try; an unpinned one that did not install
    // is deleted, so that the next run fetches it whole instead of building on it.
    for (const path of unpinned) await rm(path, { force: true });
    if (unpinned.length) log(`the unpinned download(s) were deleted: ${unpinned.join(', ')}`);
    throw error;
  }
  await rm(parts, { recursive: true, force: true });
  return target;
}
