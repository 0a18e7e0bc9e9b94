import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseImageList, scanLabelFolders } from '../../../src/cli/shared/image-sources.js';

describe('PP-ShiTu list parsing', () => {
  const root = resolve('/images');

  it('takes the whole rest of the line as the label, so labels keep their spaces', () => {
    const text = '\uFEFF# comment\r\nshoes/a.jpg\tRed running shoe, size 42\r\n\r\n  b.png\t  Coffee cup \r\n';
    const { items, problems } = parseImageList(text, root, { requireLabel: true });
    expect(problems).toEqual([]);
    expect(items).toEqual([
      { source: 'shoes/a.jpg', path: join(root, 'shoes/a.jpg'), label: 'Red running shoe, size 42' },
      { source: 'b.png', path: join(root, 'b.png'), label: 'Coffee cup' },
    ]);
  });

  it('reports lines without a label when indexing, and reads them as unknown when evaluating', () => {
    const text = 'a.jpg\tA\nb.jpg\nc.jpg\t\n\tD\n';
    const indexing = parseImageList(text, root, { requireLabel: true });
    expect(indexing.items.map((i) => i.source)).toEqual(['a.jpg']);
    expect(indexing.problems.map((p) => [p.source, p.code])).toEqual([
      ['b.jpg', 'BAD_LIST_LINE'],
      ['c.jpg', 'BAD_LIST_LINE'],
      ['line 4', 'BAD_LIST_LINE'],
    ]);
    expect(indexing.problems[0]!.reason).toContain('line 2 has no label');
    const evaluating = parseImageList(text, root, { requireLabel: false });
    expect(evaluating.items.map((i) => [i.source, i.label])).toEqual([['a.jpg', 'A'], ['b.jpg', null], ['c.jpg', null]]);
  });

  it('takes paths as given: absolute, or out of the root with ../', () => {
    const { items } = parseImageList('/elsewhere/a.jpg\tA\n../b.jpg\tB\n', root, { requireLabel: true });
    expect(items).toEqual([
      { source: '/elsewhere/a.jpg', path: resolve('/elsewhere/a.jpg'), label: 'A' },
      { source: '../b.jpg', path: resolve(root, '../b.jpg'), label: 'B' },
    ]);
  });

  it('splits at the first delimiter only', () => {
    const { items } = parseImageList('a.jpg label with spaces\n', root, { delimiter: ' ', requireLabel: true });
    expect(items[0]!.label).toBe('label with spaces');
  });
});

describe('label folders', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spotter-sources-'));
    for (const path of ['Eileen Collins/a.jpg', 'Eileen Collins/more/b.PNG', 'Chelsea/c.webp', 'Chelsea/notes.txt', 'Chelsea/.hidden.jpg', '_unknown/d.jpg', 'stray.jpg']) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), 'x');
    }
  });

  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('labels each image by its top-level folder, at any depth, in a stable order', async () => {
    const { items, problems } = await scanLabelFolders(dir, { unknownFolder: '_unknown' });
    expect(items.map((i) => [i.source, i.label])).toEqual([
      ['Chelsea/c.webp', 'Chelsea'],
      ['Eileen Collins/a.jpg', 'Eileen Collins'],
      ['Eileen Collins/more/b.PNG', 'Eileen Collins'],
      ['_unknown/d.jpg', null],
    ]);
    expect(items[0]!.path).toBe(join(dir, 'Chelsea/c.webp'));
    expect(problems).toEqual([{ source: 'stray.jpg', code: 'NO_LABEL_FOLDER', reason: 'stray.jpg is not inside a label folder' }]);
  });

  it('without an unknown folder, every folder is a label', async () => {
    const { items } = await scanLabelFolders(dir);
    expect(items.find((i) => i.source === '_unknown/d.jpg')!.label).toBe('_unknown');
  });

  it('a missing folder is a clear error', async () => {
    await expect(scanLabelFolders(join(dir, 'nope'))).rejects.toThrow(/cannot read the folder/);
  });

  it('follows links to label folders, sub-folders and images; a loop is reported and not followed', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'spotter-sources-targets-'));
    const linked = await mkdtemp(join(tmpdir(), 'spotter-sources-links-'));
    try {
      for (const path of ['cats/x.jpg', 'cats/deeper/y.jpg', 'photos/z.jpeg', 'photos/w.jfif']) {
        await mkdir(join(elsewhere, path, '..'), { recursive: true });
        await writeFile(join(elsewhere, path), 'x');
      }
      await symlink(join(elsewhere, 'cats'), join(linked, 'Cat'));
      await mkdir(join(linked, 'Eileen'));
      await symlink(join(elsewhere, 'photos/z.jpeg'), join(linked, 'Eileen/z.jpeg'));
      await symlink(join(elsewhere, 'photos'), join(linked, 'Eileen/more'));
      await symlink(join(elsewhere, 'photos/gone.jpg'), join(linked, 'Eileen/gone.jpg'));
      // Loops: back to the label folder, and back to --dir itself.
      await symlink('..', join(linked, 'Eileen/up'));
      await symlink(join(linked, 'Eileen'), join(elsewhere, 'cats/deeper/back'));
      const { items, problems } = await scanLabelFolders(linked);
      expect(items.map((i) => [i.source, i.label])).toEqual([
        ['Cat/deeper/back/gone.jpg', 'Cat'],
        ['Cat/deeper/back/more/w.jfif', 'Cat'],
        ['Cat/deeper/back/more/z.jpeg', 'Cat'],
        ['Cat/deeper/back/z.jpeg', 'Cat'],
        ['Cat/deeper/y.jpg', 'Cat'],
        ['Cat/x.jpg', 'Cat'],
        ['Eileen/gone.jpg', 'Eileen'],
        ['Eileen/more/w.jfif', 'Eileen'],
        ['Eileen/more/z.jpeg', 'Eileen'],
        ['Eileen/z.jpeg', 'Eileen'],
      ]);
      // The missing target is listed (and will be reported unreadable), under its link's path.
      expect(items.find((i) => i.source === 'Eileen/gone.jpg')!.path).toBe(join(linked, 'Eileen/gone.jpg'));
      expect(problems).toEqual([
        { source: 'Cat/deeper/back/up', code: 'SYMLINK_LOOP', reason: 'Cat/deeper/back/up links back to a folder above it; not followed' },
        { source: 'Eileen/up', code: 'SYMLINK_LOOP', reason: 'Eileen/up links back to a folder above it; not followed' },
      ]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
      await rm(linked, { recursive: true, force: true });
    }
  });
});
