import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../../inference/model-manifest.js';
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
  for (const { manifestFile, manifest } of source.models) {
    const download = manifest.download!;
    const partPath = join(parts, `${manifest.file}.part`);
    log(`${manifest.file}: downloading ${download.url}`);
    const result = await downloadResumable({
      url: download.url,
      partPath,
      size: download.size,
      retries: options.retries,
      idleTimeoutMs: options.idleTimeoutMs,
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
  const target = await installPack({ modelsDir: options.modelsDir, source, files, replace: options.replace, log });
  await rm(parts, { recursive: true, force: true });
  return target;
}
