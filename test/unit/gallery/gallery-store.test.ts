import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuplicateEntryError } from '../../../src/gallery/gallery-errors.js';
import { GalleryStore } from '../../../src/gallery/gallery-store.js';
import type { Entry } from '../../../src/gallery/gallery-types.js';
import { binding, box, dot, seededRandom, sha, tempDir, unitVector } from './gallery-test-helpers.js';

const DIM = 16;
const code = (c: string) => expect.objectContaining({ code: c });

describe('GalleryStore', () => {
  let temp: ReturnType<typeof tempDir>;
  let store: GalleryStore;
  const random = seededRandom(11);
  const vec = () => unitVector(DIM, random);

  beforeEach(async () => {
    temp = tempDir();
    store = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0 });
    await store.init();
    store.createGallery({ name: 'faces', pack: 'face', embedder: binding(DIM), settings: { threshold: 0.5 } });
  });

  afterEach(async () => {
    await store.dispose();
    temp.cleanup();
  });

  const add = (label: string, n: number, v = vec()): Entry =>
    store.addEntry('faces', { label, box: box(n), imageSha256: sha(n), vector: v, metadata: { n } });

  describe('galleries', () => {
    it('creates, lists, reads, updates and deletes galleries', () => {
      expect(store.getGallery('faces')).toMatchObject({
        name: 'faces',
        pack: 'face',
        embedder: binding(DIM),
        settings: { threshold: 0.5 },
        entryCount: 0,
        labelCount: 0,
      });
      expect(store.getGalleryRef('faces')).toEqual({
        id: expect.any(Number),
        name: 'faces',
        pack: 'face',
        embedder: binding(DIM),
        settings: { threshold: 0.5 },
        createdAt: expect.any(String),
      });
      store.createGallery({ name: 'Products.v2', pack: 'product', embedder: binding(8, 'lcnet') });
      expect(store.listGalleries().map((g) => g.name)).toEqual(['Products.v2', 'faces']);
      expect(store.updateGallerySettings('faces', { topK: 3 }).settings).toEqual({ topK: 3 });
      store.addEntry('Products.v2', { label: 'x', box: box(), imageSha256: sha(1), vector: unitVector(8, random) });
      store.snapshot('Products.v2');
      expect(existsSync(join(temp.dir, 'indexes', 'Products.v2.hnsw'))).toBe(true);
      store.deleteGallery('Products.v2');
      expect(existsSync(join(temp.dir, 'indexes', 'Products.v2.hnsw'))).toBe(false);
      expect(() => store.getGallery('Products.v2')).toThrow(code('GALLERY_NOT_FOUND'));
      expect(store.stats()).toEqual({ galleries: 1, entries: 0 });
    });

    it('refuses bad names, existing names and other embedders', () => {
      for (const name of ['', '-x', 'a b', 'a/b', '..', 'x'.repeat(65)]) {
        expect(() => store.createGallery({ name, pack: 'face', embedder: binding() })).toThrow(code('BAD_REQUEST'));
      }
      expect(() => store.createGallery({ name: 'faces', pack: 'face', embedder: binding(DIM) })).toThrow(
        code('GALLERY_EXISTS'),
      );
      expect(() => store.createGallery({ name: 'faces', pack: 'face', embedder: binding(32) })).toThrow(
        code('EMBEDDER_MISMATCH'),
      );
      expect(() => store.assertEmbedder('faces', binding(DIM, 'other'))).toThrow(code('EMBEDDER_MISMATCH'));
      expect(store.assertEmbedder('faces', binding(DIM)).name).toBe('faces');
      expect(() => store.addEntry('nope', { label: 'a', box: box(), imageSha256: sha(1), vector: vec() })).toThrow(
        code('GALLERY_NOT_FOUND'),
      );
    });
  });

  describe('entries', () => {
    it('adds, reads and counts entries with any label text', () => {
      const e = add('Zoë Ångström 山田', 1);
      expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(store.getEntry('faces', e.id)).toEqual(e);
      expect(e).toMatchObject({ label: 'Zoë Ångström 山田', box: box(1), imageSha256: sha(1), metadata: { n: 1 } });
      expect(Date.parse(e.createdAt)).not.toBeNaN();
      add('bob', 2);
      add('bob', 3);
      expect(store.getGallery('faces')).toMatchObject({ entryCount: 3, labelCount: 2 });
      // Labels come in binary (code point) order.
      expect(store.listLabels('faces')).toEqual([
        { label: 'Zoë Ångström 山田', count: 1 },
        { label: 'bob', count: 2 },
      ]);
      expect(() => store.getEntry('faces', 'missing')).toThrow(code('ENTRY_NOT_FOUND'));
    });

    it('stores the vector exactly', () => {
      const v = vec();
      const e = add('a', 1, v);
      expect(Array.from(store.getEntryVector('faces', e.id))).toEqual(Array.from(v));
    });

    it('validates fields, dimension and norm', () => {
      const ok = { label: 'a', box: box(), imageSha256: sha(1), vector: vec() };
      expect(() => store.addEntry('faces', { ...ok, label: ' ' })).toThrow(code('INVALID_LABEL'));
      expect(() => store.addEntry('faces', { ...ok, box: [5, 5, 1, 1] })).toThrow(code('INVALID_BOX'));
      expect(() => store.addEntry('faces', { ...ok, imageSha256: 'abc' })).toThrow(code('BAD_REQUEST'));
      expect(() => store.addEntry('faces', { ...ok, metadata: [] as never })).toThrow(code('INVALID_METADATA'));
      expect(() => store.addEntry('faces', { ...ok, vector: unitVector(DIM + 1, random) })).toThrow(
        code('DIMENSION_MISMATCH'),
      );
      expect(() => store.search('faces', unitVector(8, random), 3)).toThrow(code('DIMENSION_MISMATCH'));
      expect(store.stats().entries).toBe(0);
    });

    it('refuses a vector of another embedder of the same dimension, as after a gallery is made again for another pack', () => {
      const ok = { label: 'a', box: box(), imageSha256: sha(1), vector: vec() };
      expect(() => store.addEntry('faces', { ...ok, embedder: binding(DIM, 'other') })).toThrow(code('EMBEDDER_MISMATCH'));
      expect(store.stats().entries).toBe(0);
      expect(store.addEntry('faces', { ...ok, embedder: binding(DIM) }).label).toBe('a');
    });

    it('a request holding a gallery by its id neither writes to nor searches a gallery made again under its name', () => {
      const ref = store.getGalleryRef('faces');
      const ok = { label: 'a', box: box(), imageSha256: sha(1), vector: vec() };
      store.deleteGallery('faces');
      store.createGallery({ name: 'faces', pack: 'face', embedder: binding(DIM) });
      const stale = expect.objectContaining({ code: 'GALLERY_NOT_FOUND', message: expect.stringContaining('deleted (and made again) while the request ran') });
      expect(() => store.addEntry(ref, ok)).toThrow(stale);
      expect(() => store.search(ref, vec(), 1)).toThrow(stale);
      expect(() => store.findDuplicate(ref, 'a', sha(1))).toThrow(stale);
      expect(store.stats().entries).toBe(0);
      const current = store.getGalleryRef('faces');
      expect(current.id).not.toBe(ref.id);
      expect(store.addEntry(current, ok).label).toBe('a');
      expect(store.search({ name: 'faces' }, ok.vector, 1)).toHaveLength(1);
    });

    it('detects duplicates by label, image and box', () => {
      const first = add('alice', 1);
      const again = () => store.addEntry('faces', { label: 'alice', box: box(1), imageSha256: sha(1), vector: vec() });
      expect(again).toThrow(code('DUPLICATE_ENTRY'));
      try {
        again();
      } catch (err) {
        expect(err).toBeInstanceOf(DuplicateEntryError);
        expect((err as DuplicateEntryError).existingEntryId).toBe(first.id);
        expect((err as Error).message).toContain(first.id);
      }
      // Another box of the same image, or the same crop under another label, is a new entry.
      store.addEntry('faces', { label: 'alice', box: box(50), imageSha256: sha(1), vector: vec() });
      store.addEntry('faces', { label: 'bob', box: box(1), imageSha256: sha(1), vector: vec() });
      expect(store.findDuplicate('faces', 'alice', sha(1))?.id).toBe(first.id);
      expect(store.findDuplicate('faces', 'alice', sha(2))).toBeNull();
      expect(store.checkConsistency('faces')).toEqual({ storeCount: 3, indexCount: 3, consistent: true });
    });

    it('pages through entries in a stable order, with and without a label filter', () => {
      const ids = Array.from({ length: 25 }, (_, i) => add(i % 2 ? 'odd' : 'even', i).id);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = store.listEntries('faces', { limit: 10, cursor });
        seen.push(...page.entries.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(ids);
      const odd = store.listEntries('faces', { label: 'odd', limit: 100 });
      expect(odd.entries).toHaveLength(12);
      expect(odd.nextCursor).toBeNull();
      const exact = store.listEntries('faces', { limit: 25 });
      expect(exact.nextCursor).toBeNull();
      expect(() => store.listEntries('faces', { limit: 10, cursor: 'garbage!' })).toThrow(code('BAD_REQUEST'));
      expect(() => store.listEntries('faces', { limit: 0 })).toThrow(code('BAD_REQUEST'));
    });

    it('relabels and edits metadata without re-embedding', () => {
      const v = vec();
      const e = add('old name', 1, v);
      const updated = store.updateEntry('faces', e.id, { label: 'new name' });
      expect(updated).toMatchObject({ id: e.id, label: 'new name', metadata: { n: 1 } });
      expect(store.search('faces', v, 1)).toEqual([{ entryId: e.id, label: 'new name', similarity: expect.closeTo(1, 5), metadata: { n: 1 } }]);
      expect(store.updateEntry('faces', e.id, { metadata: null }).metadata).toBeNull();
      expect(store.search('faces', v, 1)).toEqual([{ entryId: e.id, label: 'new name', similarity: expect.closeTo(1, 5), metadata: null }]);
      expect(store.listLabels('faces')).toEqual([{ label: 'new name', count: 1 }]);
      const other = store.addEntry('faces', { label: 'x', box: box(1), imageSha256: sha(1), vector: vec() });
      expect(() => store.updateEntry('faces', other.id, { label: 'new name' })).toThrow(code('DUPLICATE_ENTRY'));
      expect(() => store.updateEntry('faces', 'nope', { label: 'y' })).toThrow(code('ENTRY_NOT_FOUND'));
    });

    it('deletes entries and labels from the store and the index', () => {
      const keep = add('keep', 1);
      const gone = add('gone', 2);
      const labelled = [add('crowd', 3), add('crowd', 4), add('crowd', 5)];
      store.deleteEntry('faces', gone.id);
      expect(() => store.getEntry('faces', gone.id)).toThrow(code('ENTRY_NOT_FOUND'));
      expect(() => store.deleteEntry('faces', gone.id)).toThrow(code('ENTRY_NOT_FOUND'));
      expect(store.deleteLabel('faces', 'crowd')).toBe(3);
      expect(() => store.deleteLabel('faces', 'crowd')).toThrow(code('LABEL_NOT_FOUND'));
      const hits = store.search('faces', vec(), 10).map((h) => h.entryId);
      expect(hits).toEqual([keep.id]);
      expect(labelled.some((e) => hits.includes(e.id))).toBe(false);
      expect(store.checkConsistency('faces')).toEqual({ storeCount: 1, indexCount: 1, consistent: true });
    });
  });

  describe('search', () => {
    it('finds the true nearest neighbour of random unit vectors', () => {
      const vectors = Array.from({ length: 300 }, () => vec());
      const entries = vectors.map((v, i) => add(`label ${i % 30}`, i, v));
      for (let q = 0; q < 50; q++) {
        const query = vec();
        const exact = vectors
          .map((v, i) => ({ i, s: dot(query, v) }))
          .sort((a, b) => b.s - a.s)
          .slice(0, 5);
        const hits = store.search('faces', query, 5);
        expect(hits[0]?.entryId).toBe(entries[exact[0]!.i]!.id);
        expect(hits[0]?.similarity).toBeCloseTo(exact[0]!.s, 5);
        expect(hits.map((h) => h.entryId)).toEqual(exact.map((e) => entries[e.i]!.id));
      }
    });

    it('returns [] for an empty gallery and at most the count for a large k', () => {
      expect(store.search('faces', vec(), 10)).toEqual([]);
      add('a', 1);
      add('b', 2);
      expect(store.search('faces', vec(), 1000)).toHaveLength(2);
      expect(() => store.search('faces', vec(), 0)).toThrow(code('BAD_REQUEST'));
    });
  });

  describe('export and import', () => {
    it('round-trips a gallery into another, skipping duplicates', () => {
      for (let i = 0; i < 40; i++) add(`p${i % 4}`, i);
      const rows = [...store.exportGallery('faces')];
      expect(rows).toHaveLength(40);
      expect(rows[0]).toMatchObject({ label: 'p0', box: box(0), imageSha256: sha(0), metadata: { n: 0 } });
      store.createGallery({ name: 'copy', pack: 'face', embedder: binding(DIM) });
      expect(store.importEntries('copy', rows)).toEqual({ imported: 40, skippedDuplicates: 0 });
      expect(store.importEntries('copy', rows.slice(0, 10))).toEqual({ imported: 0, skippedDuplicates: 10 });
      expect(store.checkConsistency('copy')).toEqual({ storeCount: 40, indexCount: 40, consistent: true });
      const [first] = rows;
      expect(store.search('copy', first!.vector, 1)[0]?.label).toBe('p0');
      expect(store.listEntries('copy', { limit: 1 }).entries[0]?.createdAt).toBe(first!.createdAt);
    });

    it('imports nothing when one row is invalid', () => {
      const rows = [...Array.from({ length: 3 }, (_, i) => ({
        label: 'ok', metadata: null, box: box(i), imageSha256: sha(i), createdAt: new Date().toISOString(), vector: vec(),
      }))];
      rows.push({ ...rows[0]!, imageSha256: sha(9), vector: unitVector(DIM * 2, random) });
      expect(() => store.importEntries('faces', rows)).toThrow(code('DIMENSION_MISMATCH'));
      expect(store.stats().entries).toBe(0);
    });
  });
});
