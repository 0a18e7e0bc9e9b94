import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GalleryStore } from '../../../src/gallery/gallery-store.js';
import { binding, box, seededRandom, sha, tempDir, unitVector } from './gallery-test-helpers.js';

const DIM = 8;
const ORB = 'orb1000-ratio0.75-ransac5';
const code = (c: string) => expect.objectContaining({ code: c });
const bytes = (seed: number, n = 64) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('GalleryStore local features (verification)', () => {
  let temp: ReturnType<typeof tempDir>;
  let store: GalleryStore;
  const random = seededRandom(5);

  const open = async () => {
    store = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0 });
    await store.init();
  };
  const add = (gallery: string, label: string, n: number, features?: Uint8Array) =>
    store.addEntry(gallery, {
      label, box: box(n), imageSha256: sha(n), vector: unitVector(DIM, random),
      ...(features ? { localFeatures: { verifier: ORB, data: features } } : {}),
    });

  beforeEach(async () => {
    temp = tempDir();
    await open();
    store.createGallery({ name: 'shelf', pack: 'objects', embedder: binding(DIM) });
  });

  afterEach(async () => {
    await store.dispose();
    temp.cleanup();
  });

  it('stores features with their entry, by verifier, and keeps them across a reopen', async () => {
    const a = add('shelf', 'box', 1, bytes(1));
    const b = add('shelf', 'cup', 2);
    expect(store.localFeatures('shelf', a.id, ORB)).toEqual(bytes(1));
    expect(store.localFeatures('shelf', a.id, 'orb500-ratio0.8-ransac3')).toBeUndefined();
    expect(store.localFeatures('shelf', b.id, ORB)).toBeUndefined();
    expect(store.getGallery('shelf')).toMatchObject({ entryCount: 2, localFeatureCount: 1 });
    await store.dispose();
    await open();
    expect(store.localFeatures('shelf', a.id, ORB)).toEqual(bytes(1));
    expect(store.getGallery('shelf').localFeatureCount).toBe(1);
  });

  it('never finds an entry of another gallery by its id', () => {
    store.createGallery({ name: 'other', pack: 'objects', embedder: binding(DIM) });
    const a = add('other', 'box', 1, bytes(1));
    expect(store.localFeatures('shelf', a.id, ORB)).toBeUndefined();
    expect(() => store.localFeatures('nope', a.id, ORB)).toThrow(code('GALLERY_NOT_FOUND'));
  });

  it('deletes features with their entry, their label and their gallery', () => {
    const a = add('shelf', 'box', 1, bytes(1));
    const b = add('shelf', 'box', 2, bytes(2));
    const c = add('shelf', 'cup', 3, bytes(3));
    store.deleteEntry('shelf', a.id);
    expect(store.localFeatures('shelf', a.id, ORB)).toBeUndefined();
    expect(store.deleteLabel('shelf', 'box')).toBe(1);
    expect(store.localFeatures('shelf', b.id, ORB)).toBeUndefined();
    expect(store.getGallery('shelf').localFeatureCount).toBe(1);
    store.deleteGallery('shelf');
    store.createGallery({ name: 'shelf', pack: 'objects', embedder: binding(DIM) });
    expect(store.localFeatures('shelf', c.id, ORB)).toBeUndefined();
    expect(store.getGallery('shelf').localFeatureCount).toBe(0);
  });

  it('a refused duplicate leaves no features behind, and bad records are refused before anything is stored', () => {
    add('shelf', 'box', 1, bytes(1));
    expect(() => add('shelf', 'box', 1, bytes(9))).toThrow(code('DUPLICATE_ENTRY'));
    expect(store.getGallery('shelf')).toMatchObject({ entryCount: 1, localFeatureCount: 1 });
    const empty = () => store.addEntry('shelf', { label: 'x', box: box(4), imageSha256: sha(4), vector: unitVector(DIM, random), localFeatures: { verifier: ORB, data: new Uint8Array(0) } });
    expect(empty).toThrow(code('BAD_REQUEST'));
    const unnamed = () => store.addEntry('shelf', { label: 'x', box: box(4), imageSha256: sha(4), vector: unitVector(DIM, random), localFeatures: { verifier: '', data: bytes(4) } });
    expect(unnamed).toThrow(code('BAD_REQUEST'));
    expect(store.getGallery('shelf')).toMatchObject({ entryCount: 1, localFeatureCount: 1 });
  });
});

describe('schema migration', () => {
  it('opens a version 1 database (before local features) and adds the table, keeping its entries', async () => {
    const temp = tempDir();
    try {
      const first = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0 });
      await first.init();
      first.createGallery({ name: 'old', pack: 'objects', embedder: binding(DIM) });
      const entry = first.addEntry('old', { label: 'box', box: box(1), imageSha256: sha(1), vector: unitVector(DIM, seededRandom(1)) });
      await first.dispose();
      // Turn the file back into what version 1 wrote.
      const db = new Database(join(temp.dir, 'spotter.db'));
      db.exec('DROP TABLE local_features');
      db.pragma('user_version = 1');
      db.close();

      const store = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0 });
      await store.init();
      try {
        expect(store.getEntry('old', entry.id).label).toBe('box');
        expect(store.getGallery('old').localFeatureCount).toBe(0);
        const added = store.addEntry('old', { label: 'cup', box: box(2), imageSha256: sha(2), vector: unitVector(DIM, seededRandom(2)), localFeatures: { verifier: ORB, data: bytes(2) } });
        expect(store.localFeatures('old', added.id, ORB)).toEqual(bytes(2));
      } finally {
        await store.dispose();
      }
    } finally {
      temp.cleanup();
    }
  });
});

describe('export and import', () => {
  it('carry local features, so an imported gallery verifies as the exported one did', async () => {
    const temp = tempDir();
    const store = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0 });
    await store.init();
    try {
      const random = seededRandom(3);
      store.createGallery({ name: 'from', pack: 'objects', embedder: binding(DIM) });
      store.createGallery({ name: 'to', pack: 'objects', embedder: binding(DIM) });
      store.addEntry('from', { label: 'box', box: box(1), imageSha256: sha(1), vector: unitVector(DIM, random), localFeatures: { verifier: ORB, data: bytes(1, 4000) } });
      store.addEntry('from', { label: 'cup', box: box(2), imageSha256: sha(2), vector: unitVector(DIM, random) });
      const rows = [...store.exportGallery('from')];
      expect(rows.map((r) => r.localFeatures?.data.byteLength)).toEqual([4000, undefined]);
      expect(store.importEntries('to', rows)).toEqual({ imported: 2, skippedDuplicates: 0 });
      const [box1] = store.listEntries('to', { label: 'box', limit: 10 }).entries;
      expect(store.localFeatures('to', box1!.id, ORB)).toEqual(bytes(1, 4000));
      expect(store.getGallery('to').localFeatureCount).toBe(1);
      const bad = [{ ...rows[0]!, imageSha256: sha(9), localFeatures: { verifier: ORB, data: new Uint8Array(0) } }];
      expect(() => store.importEntries('to', bad)).toThrow(/Row 0: Local features/);
    } finally {
      await store.dispose();
      temp.cleanup();
    }
  });
});
