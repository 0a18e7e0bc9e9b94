import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { CliError } from './cli-main.js';

/** One image named by a list line or found in a label folder. */
export interface ImageItem {
  /** The path as the list gives it (or relative to the folder), '/'-separated: the report's key. */
  source: string;
  /** Absolute path to read. */
  path: string;
  /** The label; null for an item that is not enrolled (evaluation's "unknown"). */
  label: string | null;
}

/** A list line or folder entry that names no usable item; reported, never fatal. */
export interface SourceProblem {
  source: string;
  code: 'BAD_LIST_LINE' | 'NO_LABEL_FOLDER' | 'SYMLINK_LOOP';
  reason: string;
}

export interface ImageSet {
  items: ImageItem[];
  problems: SourceProblem[];
}

/** Everything the decoder may accept, plus formats it refuses with a clear reason (BMP, HEIC). */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp']);

export const isImageFile = (name: string): boolean => !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

export interface ListOptions {
  /** Separates the path from the label; the label is everything after the first one. */
  delimiter?: string;
  /** Lines without a label are problems (indexing) rather than unknown items (evaluation). */
  requireLabel: boolean;
}

/**
 * The PP-ShiTu gallery list: `relative/path<TAB>label` per line, paths relative to `root`. Unlike
 * PaddleClas, which takes the second whitespace token, the label is the whole rest of the line,
 * so labels keep their spaces. Blank lines and lines starting with '#' are skipped.
 */
export async function readImageList(file: string, root: string, options: ListOptions): Promise<ImageSet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the list ${file}: ${(error as Error).message}`);
  }
  return parseImageList(text, root, options);
}

export function parseImageList(text: string, root: string, options: ListOptions): ImageSet {
  const delimiter = options.delimiter ?? '\t';
  const items: ImageItem[] = [];
  const problems: SourceProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = raw.indexOf(delimiter);
    const source = (at < 0 ? raw : raw.slice(0, at)).trim();
    const label = at < 0 ? '' : raw.slice(at + delimiter.length).trim();
    const where = `line ${i + 1}`;
    if (source === '') {
      problems.push({ source: where, code: 'BAD_LIST_LINE', reason: `${where} has no path` });
    } else if (label === '' && options.requireLabel) {
      problems.push({ source, code: 'BAD_LIST_LINE', reason: `${where} has no label (expected path${delimiter === '\t' ? '<TAB>' : delimiter}label)` });
    } else {
      items.push({ source, path: resolve(root, source), label: label === '' ? null : label });
    }
  });
  return { items, problems };
}

export interface FolderOptions {
  /** A sub-folder with this name holds items that are not enrolled (label null). */
  unknownFolder?: string;
}

/**
 * One sub-folder per label (the folder name), images at any depth below it. Symbolic links to
 * folders and to images are followed (a gallery is often assembled from links); a link to a
 * folder that is already being walked (a loop) is reported as SYMLINK_LOOP and not followed.
 * A link whose target is missing is listed when its name is an image's, so it is reported as
 * unreadable rather than silently left out.
 */
export async function scanLabelFolders(dir: string, options: FolderOptions = {}): Promise<ImageSet> {
  const root = resolve(dir);
  let top;
  try {
    top = await readdir(root, { withFileTypes: true });
  } catch (error) {
    throw new CliError(`cannot read the folder ${dir}: ${(error as Error).message}`);
  }
  const items: ImageItem[] = [];
  const problems: SourceProblem[] = [];
  const walk: Walk = { root, problems, ancestors: new Set([await folderId(root)]) };
  for (const entry of top.sort((a, b) => compare(a.name, b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(root, entry.name);
    const kind = await kindOf(entry, path);
    if (kind !== 'folder' && isImageFile(entry.name)) {
      problems.push({ source: entry.name, code: 'NO_LABEL_FOLDER', reason: `${entry.name} is not inside a label folder` });
      continue;
    }
    if (kind !== 'folder') continue;
    const label = entry.name === options.unknownFolder ? null : entry.name;
    for (const image of await imagesBelow(path, walk)) {
      items.push({ source: sourceOf(root, image), path: image, label });
    }
  }
  return { items, problems };
}

interface Walk {
  root: string;
  problems: SourceProblem[];
  /** Device and inode of the folders on the current path, to see a link that loops back. */
  ancestors: Set<string>;
}

type Kind = 'folder' | 'file' | 'missing' | 'other';

/** What an entry is, seen through a symbolic link. */
async function kindOf(entry: Dirent, path: string): Promise<Kind> {
  if (entry.isDirectory()) return 'folder';
  if (entry.isFile()) return 'file';
  if (!entry.isSymbolicLink()) return 'other';
  try {
    const target = await stat(path);
    return target.isDirectory() ? 'folder' : target.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

const folderId = async (path: string): Promise<string> => {
  const s = await stat(path);
  return `${s.dev}:${s.ino}`;
};

const sourceOf = (root: string, path: string): string => relative(root, path).split(sep).join('/');

async function imagesBelow(dir: string, walk: Walk): Promise<string[]> {
  const id = await folderId(dir);
  if (walk.ancestors.has(id)) {
    const source = sourceOf(walk.root, dir);
    walk.problems.push({ source, code: 'SYMLINK_LOOP', reason: `${source} links back to a folder above it; not followed` });
    return [];
  }
  walk.ancestors.add(id);
  const found: string[] = [];
  try {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => compare(a.name, b.name))) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      const kind = await kindOf(entry, path);
      if (kind === 'folder') found.push(...(await imagesBelow(path, walk)));
      else if ((kind === 'file' || kind === 'missing') && isImageFile(entry.name)) found.push(path);
    }
  } finally {
    walk.ancestors.delete(id);
  }
  return found;
}

/** Code-point order, the same on every machine and locale. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
