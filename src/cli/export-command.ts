import { GALLERY_FILE_FORMAT, GALLERY_FILE_VERSION, writeGalleryFile } from './indexing/gallery-file.js';
import { EXIT, isMain, newProgram, parseGalleryName, runMain, userPath } from './shared/cli-main.js';
import { openOffline } from './shared/offline-runtime.js';
import { plural } from './indexing/index-report.js';

interface ExportOptions {
  gallery: string;
  out?: string;
  dataDir?: string;
}

/** Writes a gallery (labels, metadata, boxes, vectors) to a portable file; see gallery-file.ts. */
export async function exportMain(argv: string[]): Promise<number> {
  const program = newProgram('export', 'Write a gallery to a portable JSON Lines file that `npm run index -- --import FILE` loads elsewhere.')
    .requiredOption('--gallery <name>', 'gallery to export', parseGalleryName)
    .option('--out <file>', 'output file; gzip-compressed when it ends in .gz (default <gallery>.gallery.jsonl)')
    .option('--data-dir <dir>', 'data folder (default SPOTTER_DATA_DIR)');
  program.parse(argv, { from: 'user' });
  const options = program.opts<ExportOptions>();
  const out = userPath(options.out ?? `${options.gallery}.gallery.jsonl`);
  const dataDir = options.dataDir === undefined ? undefined : userPath(options.dataDir);
  const started = performance.now();
  const runtime = await openOffline({ ...(dataDir ? { dataDir } : {}), mustExist: true });
  try {
    const info = runtime.galleries.getGallery(options.gallery);
    const count = await writeGalleryFile(
      out,
      {
        format: GALLERY_FILE_FORMAT,
        version: GALLERY_FILE_VERSION,
        gallery: info.name,
        pack: info.pack,
        embedder: { embedderId: info.embedder.embedderId, dimension: info.embedder.dimension, metric: info.embedder.metric },
        settings: info.settings,
        entryCount: info.entryCount,
        exportedAt: new Date().toISOString(),
      },
      runtime.galleries.exportGallery(info.name),
    );
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `Exported ${plural(count, 'entry', 'entries')} (${plural(info.labelCount, 'label', 'labels')}) of gallery "${info.name}" to ${out} in ${seconds.toFixed(1)} s.\n` +
        `  embedder  ${info.embedder.embedderId} (${info.embedder.dimension}-D, ${info.embedder.metric}), pack ${info.pack}\n`,
    );
    return EXIT.ok;
  } finally {
    await runtime.dispose();
  }
}

if (isMain(import.meta.url)) runMain(() => exportMain(process.argv.slice(2)));
