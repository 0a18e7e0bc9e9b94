import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
});
