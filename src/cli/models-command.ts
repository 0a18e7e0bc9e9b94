import { join, resolve } from 'node:path';
import { loadConfig } from '../config/config.js';
import { CATALOG_DIR } from '../inference/model-manifest.js';
import { importPack } from './models/import.js';
import { formatListing, inspectModel, listModels } from './models/list.js';
import { pullPack } from './models/pull.js';
import { CliError, EXIT, isMain, newProgram, runMain, userPath } from './shared/cli-main.js';

interface CommonOptions {
  modelsDir?: string;
  catalog?: string;
}


function parseRetries(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new CliError(`--retries must be an integer from 0 to 100, got "${value}"`, EXIT.usage);
  return n;
}

/**
 * `models list | pull NAME | import NAME | inspect FILE`: install model packs from the catalog
 * (models/catalog) by download or from local ONNX files. Nothing is downloaded unless asked
 * for with --allow-network or SPOTTER_ALLOW_DOWNLOADS=1.
 */
export async function modelsMain(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  // Paths given on the command line are the user's (from the folder npm was run in); the
  // configured models folder is the service's own (from the project, as the server reads it).
  const dirs = (o: CommonOptions) => {
    const modelsDir = o.modelsDir === undefined ? resolve(loadConfig(env).modelsDir) : userPath(o.modelsDir);
    return { modelsDir, catalogDir: o.catalog === undefined ? join(modelsDir, CATALOG_DIR) : userPath(o.catalog) };
  };
  const given = (path: string | undefined) => (path === undefined ? undefined : userPath(path));
  const program = newProgram('models', 'Install and inspect model packs (docs/models.md).');
  const common = (cmd: ReturnType<typeof program.command>) =>
    cmd.option('--models-dir <dir>', 'folder of installed packs (default SPOTTER_MODELS_DIR or models)').option('--catalog <dir>', 'catalog folder (default <models-dir>/catalog)');

  common(program.command('list').description('Installed packs and the packs the catalog can install.')).action(async (o: CommonOptions) => {
    const { modelsDir, catalogDir } = dirs(o);
    process.stdout.write(formatListing(await listModels(modelsDir, catalogDir)));
  });

  common(program.command('pull <name>').description('Download a catalog pack, verify every sha256 and install it.'))
    .option('--allow-network', 'allow the download (or set SPOTTER_ALLOW_DOWNLOADS=1); off by default')
    .option('--trust-unpinned', 'accept files whose sha256 the catalog does not pin, recording the hash of what was received')
    .option('--replace', 'replace an installed pack of the same name')
    .option('--retries <n>', 'retries of an interrupted transfer, each resuming it', parseRetries, 3)
    .action(async (name: string, o: CommonOptions & { allowNetwork?: boolean; trustUnpinned?: boolean; replace?: boolean; retries: number }) => {
      const target = await pullPack({
        ...dirs(o),
        name,
        allowNetwork: Boolean(o.allowNetwork) || loadConfig(env).allowDownloads,
        trustUnpinned: o.trustUnpinned,
        replace: o.replace,
        retries: o.retries,
        log: out,
      });
      out(`installed pack "${name}" in ${target}; serve it with SPOTTER_PACKS=${name}`);
    });

  common(program.command('import <name>').description('Install a pack from local ONNX files and the catalog entry (or --manifests DIR).'))
    .option('--detector <file>', 'ONNX file of the detector')
    .option('--embedder <file>', 'ONNX file of the embedder')
    .option('--manifests <dir>', 'your own pack.json and model manifests instead of the catalog entry')
    .option('--replace', 'replace an installed pack of the same name')
    .action(async (name: string, o: CommonOptions & { detector?: string; embedder?: string; manifests?: string; replace?: boolean }) => {
      const target = await importPack({
        ...dirs(o),
        name,
        detector: given(o.detector),
        embedder: given(o.embedder),
        manifestsDir: given(o.manifests),
        replace: o.replace,
        log: out,
      });
      out(`installed pack "${name}" in ${target}; serve it with SPOTTER_PACKS=${name}`);
    });

  program
    .command('inspect <file>')
    .description('Print the inputs and outputs of an ONNX file, to write its manifest.')
    .action(async (file: string) => {
      process.stdout.write(await inspectModel(userPath(file)));
    });

  await program.parseAsync(argv, { from: 'user' });
  return EXIT.ok;
}

if (isMain(import.meta.url)) runMain(() => modelsMain(process.argv.slice(2)));
