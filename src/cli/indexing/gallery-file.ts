import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import type { Box } from '../../core/types.js';
import type { PortableEntry } from '../../gallery/gallery-types.js';
import { CliError } from '../shared/cli-main.js';

/**
 * The portable gallery file: JSON Lines, optionally gzip-compressed. Line 1 is the header; each
 * further line is one entry whose vector is base64 of little-endian float32 values. Nothing in
 * it depends on the machine, the database or the HNSW build, so a gallery moves between hosts
 * without re-embedding, and `index --import` refuses it for a pack with another embedder.
 */
export const GALLERY_FILE_FORMAT = 'spotter-gallery';
export const GALLERY_FILE_VERSION = 1;

const headerSchema = z.object({
  format: z.literal(GALLERY_FILE_FORMAT),
  version: z.literal(GALLERY_FILE_VERSION),
  gallery: z.string().min(1),
  pack: z.string().min(1),
  embedder: z.object({ embedderId: z.string().min(1), dimension: z.number().int().positive(), metric: z.literal('cosine') }),
  settings: z.record(z.string(), z.unknown()),
  entryCount: z.number().int().nonnegative(),
  exportedAt: z.string(),
});

export type GalleryFileHeader = z.infer<typeof headerSchema>;

const entrySchema = z.object({
  label: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  imageSha256: z.string(),
  createdAt: z.string(),
  vector: z.string(),
  /** Local features for verification (base64), when the entry was enrolled with them. */
  localFeatures: z.object({ verifier: z.string(), data: z.string().min(1) }).optional(),
});

export function encodeVector(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString('base64');
}

export function decodeVector(base64: string, dimension: number): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== dimension * 4) {
    const values = bytes.length % 4 === 0 ? `${bytes.length / 4} float32 values` : 'not a whole number of float32 values';
    throw new Error(`the vector is ${bytes.length} bytes (${values}); the header's dimension ${dimension} needs ${dimension * 4}`);
  }
  const vector = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

const entryLine = (e: PortableEntry): string =>
  JSON.stringify({
    label: e.label, metadata: e.metadata, box: e.box, imageSha256: e.imageSha256, createdAt: e.createdAt, vector: encodeVector(e.vector),
    ...(e.localFeatures ? { localFeatures: { verifier: e.localFeatures.verifier, data: Buffer.from(e.localFeatures.data).toString('base64') } } : {}),
  });

/** Writes header and entries to `path` (gzip when it ends in .gz) via a temporary file and a rename. */
export async function writeGalleryFile(path: string, header: GalleryFileHeader, entries: Iterable<PortableEntry>): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  const file = createWriteStream(temp);
  const gzip = path.endsWith('.gz') ? createGzip() : undefined;
  const out: Writable = gzip ?? file;
  if (gzip) gzip.pipe(file);
  let count = 0;
  try {
    const write = async (line: string): Promise<void> => {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
    };
    await write(JSON.stringify(header));
    for (const entry of entries) {
      await write(entryLine(entry));
      count++;
    }
    out.end();
    await finished(file);
    // The header's count is written first; a gallery changing under the export would break it.
    if (count !== header.entryCount) throw new Error(`the gallery changed during the export (${count} entries, expected ${header.entryCount})`);
    await rename(temp, path);
    return count;
  } catch (error) {
    file.destroy();
    await rm(temp, { force: true });
    throw error;
  }
}

export interface OpenedGalleryFile {
  header: GalleryFileHeader;
  /** The entries, validated line by line; a bad line throws with its line number. */
  entries: AsyncIterable<PortableEntry>;
}

export interface OpenOptions {
  /** Further checks of each entry (e.g. the store's); what it throws is reported with the line number. */
  check?: (entry: PortableEntry) => void;
}

export async function openGalleryFile(path: string, options: OpenOptions = {}): Promise<OpenedGalleryFile> {
  const lines = readLines(path, await inputStream(path));
  const first = await lines.next();
  if (first.done) throw new CliError(`${path} is empty, not a gallery file`);
  let header: GalleryFileHeader;
  try {
    header = headerSchema.parse(JSON.parse(first.value));
  } catch {
    throw new CliError(`${path} is not a ${GALLERY_FILE_FORMAT} file version ${GALLERY_FILE_VERSION} (its first line is not a valid header)`);
  }
  async function* entries(): AsyncGenerator<PortableEntry> {
    let lineNumber = 1;
    for (let next = await lines.next(); !next.done; next = await lines.next()) {
      lineNumber++;
      if (next.value.trim() === '') continue;
      try {
        const { localFeatures, ...e } = entrySchema.parse(JSON.parse(next.value));
        const entry: PortableEntry = {
          ...e, box: e.box as Box, vector: decodeVector(e.vector, header.embedder.dimension),
          ...(localFeatures ? { localFeatures: { verifier: localFeatures.verifier, data: new Uint8Array(Buffer.from(localFeatures.data, 'base64')) } } : {}),
        };
        options.check?.(entry);
        yield entry;
      } catch (error) {
        throw new CliError(`${path} line ${lineNumber}: ${describeLineError(error)}`);
      }
    }
  }
  return { header, entries: entries() };
}

function describeLineError(error: unknown): string {
  if (error instanceof z.ZodError) return `not a valid entry: ${z.prettifyError(error)}`;
  if (error instanceof SyntaxError) return `not valid JSON: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`;
}

/** The file's lines; a read or decompression error names the file (a truncated .gz, a folder). */
async function* readLines(path: string, input: Readable): AsyncGenerator<string> {
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) yield line;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const gzip = typeof e.code === 'string' && e.code.startsWith('Z_');
    throw new CliError(`${path}: ${gzip ? `the gzip data is corrupt or truncated (${e.code}: ${e.message})` : `cannot read it: ${e.message}`}`);
  }
}

/** gzip is recognised by its magic bytes, whatever the file is called. */
async function inputStream(path: string): Promise<Readable> {
  const magic = Buffer.alloc(2);
  try {
    const handle = await open(path, 'r');
    await handle.read(magic, 0, 2, 0).finally(() => handle.close());
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const raw = createReadStream(path);
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return raw;
  // pipe() does not pass a read error on; the gunzip stream carries it to the reader.
  const gunzip = createGunzip();
  raw.on('error', (error) => gunzip.destroy(error));
  return raw.pipe(gunzip);
}
