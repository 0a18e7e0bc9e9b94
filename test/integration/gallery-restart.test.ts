import { closeSync, cpSync, existsSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GalleryStore } from '../../src/gallery/gallery-store.js';
import type { GalleryStoreOptions } from '../../src/gallery/gallery-types.js';
import { binding, box, seededRandom, sha, tempDir, unitVector } from '../unit/gallery/gallery-test-helpers.js';

const DIM = 24;

/** Keeps log messages so tests can tell a loaded snapshot from a rebuild. */
function recordingLogger() {
  const messages: string[] = [];
  const record = (...args: unknown[]) => messages.push(args.filter((a) => typeof a === 'string').join(' '));
  return { messages, logger: { info: record, warn: record } };
}

describe('gallery store across restarts', () => {
  let temp: ReturnType<typeof tempDir>;
  const open: GalleryStore[] = [];
  const random = seededRandom(21);

  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(async () => {
    for (const store of open.splice(0)) await store.dispose();
    temp.cleanup();
  });

  async function start(options: Partial<GalleryStoreOptions> = {}) {
    const log = recordingLogger();
    const store = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0, logger: log.logger, ...options });
    await store.init();
    open.push(store);
    return { store, log: log.messages };
  }

  /**
   * What a crash leaves on disk: the files as they are now, with the store still open (its
   * commits are fsynced, its index is unsaved). Later starts use the copy; the original is
   * disposed at the end of the test.
   */
  function crash(): void {
    const image = `${temp.dir}-crash`;
    cpSync(temp.dir, image, { recursive: true });
    const { cleanup } = temp;
    temp = {
      dir: image,
      cleanup: () => {
        cleanup();
        rmSync(image, { recursive: true, force: true });
      },
    };
  }

  function fill(store: GalleryStore, n: number, from = 0): Map<string, Float32Array> {
    const added = new Map<string, Float32Array>();
    for (let i = from; i < from + n; i++) {
      const vector = unitVector(DIM, random);
      const e = store.addEntry('g', { label: `person ${i % 7}`, box: box(i), imageSha256: sha(i), vector });
      added.set(e.id, vector);
    }
    return added;
  }

  function expectSearchable(store: GalleryStore, entries: Map<string, Float32Array>): void {
    for (const [id, vector] of entries) expect(store.search('g', vector, 1)[0]?.entryId).toBe(id);
  }

  const snapshotFile = () => join(temp.dir, 'indexes', 'g.hnsw');

  it('reopens from its snapshot after dispose with everything searchable', async () => {
    const first = await start();
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM), settings: { vote: true } });
    const entries = fill(first.store, 200);
    await first.store.dispose();
    open.splice(0);
    expect(existsSync(snapshotFile())).toBe(true);

    const second = await start();
    expect(second.log.some((m) => m.includes('loaded from snapshot'))).toBe(true);
    expect(second.store.getGallery('g')).toMatchObject({ entryCount: 200, labelCount: 7, settings: { vote: true } });
    expect(second.store.checkConsistency('g')).toEqual({ storeCount: 200, indexCount: 200, consistent: true });
    expectSearchable(second.store, entries);
  });

  it('reconciles entries added and deleted after the last snapshot when the process died', async () => {
    const first = await start({ snapshotEveryChanges: 1_000_000 });
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const early = fill(first.store, 60);
    first.store.snapshot('g');
    const late = fill(first.store, 40, 60);
    const deleted = [...early.keys()].slice(0, 5);
    for (const id of deleted) first.store.deleteEntry('g', id);
    crash();

    const second = await start();
    expect(second.log.some((m) => m.includes('loaded from snapshot'))).toBe(true);
    expect(second.store.checkConsistency('g')).toEqual({ storeCount: 95, indexCount: 95, consistent: true });
    for (const id of deleted) early.delete(id);
    expectSearchable(second.store, new Map([...early, ...late]));
    const everything = second.store.search('g', unitVector(DIM, random), 500).map((h) => h.entryId);
    expect(everything).toHaveLength(95);
    expect(deleted.some((id) => everything.includes(id))).toBe(false);
  });

  it('rebuilds from the store when the snapshot is missing', async () => {
    const first = await start();
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(first.store, 50);
    first.store.snapshot('g');
    crash();
    rmSync(snapshotFile());

    const second = await start();
    expect(second.log.some((m) => m.includes('rebuilt from the store'))).toBe(true);
    expect(second.store.checkConsistency('g').consistent).toBe(true);
    expectSearchable(second.store, entries);
  });

  it('rebuilds from the store when the snapshot file is corrupt', async () => {
    const first = await start();
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(first.store, 50);
    await first.store.dispose();
    open.splice(0);
    // Flip bytes in the middle of the file: same size, so only the checksum can tell.
    const size = statSync(snapshotFile()).size;
    const fd = openSync(snapshotFile(), 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, Math.floor(size / 2));
    closeSync(fd);

    const second = await start();
    expect(second.log.some((m) => m.includes('does not match its checksum'))).toBe(true);
    expect(second.store.checkConsistency('g').consistent).toBe(true);
    expectSearchable(second.store, entries);
    // The rebuilt index was saved again, so the third start loads it.
    await second.store.dispose();
    open.splice(0);
    const third = await start();
    expect(third.log.some((m) => m.includes('loaded from snapshot'))).toBe(true);
  });

  it('rebuilds when the HNSW parameters change', async () => {
    const first = await start();
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(first.store, 30);
    await first.store.dispose();
    open.splice(0);
    const second = await start({ hnsw: { m: 8 } });
    expect(second.log.some((m) => m.includes('HNSW parameters changed'))).toBe(true);
    expectSearchable(second.store, entries);
  });

  it('keeps deletes across restarts, with and without a snapshot after them', async () => {
    const first = await start();
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(first.store, 40);
    const ids = [...entries.keys()];
    first.store.deleteEntry('g', ids[0]!);
    expect(first.store.deleteLabel('g', 'person 3')).toBeGreaterThan(0);
    await first.store.dispose();
    open.splice(0);

    const second = await start();
    expect(() => second.store.getEntry('g', ids[0]!)).toThrow(expect.objectContaining({ code: 'ENTRY_NOT_FOUND' }));
    expect(second.store.listLabels('g').map((l) => l.label)).not.toContain('person 3');
    second.store.deleteEntry('g', ids[1]!);
    crash();

    const third = await start();
    const report = third.store.checkConsistency('g');
    expect(report.consistent).toBe(true);
    const hits = third.store.search('g', entries.get(ids[1]!)!, 100).map((h) => h.entryId);
    expect(hits).not.toContain(ids[0]);
    expect(hits).not.toContain(ids[1]);
    expect(hits).toHaveLength(report.storeCount);
  });

  it('grows past the initial capacity and reloads', async () => {
    const first = await start({ initialCapacity: 16 });
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(first.store, 100);
    expectSearchable(first.store, entries);
    await first.store.dispose();
    open.splice(0);
    const second = await start({ initialCapacity: 16 });
    fill(second.store, 20, 100);
    expect(second.store.checkConsistency('g')).toEqual({ storeCount: 120, indexCount: 120, consistent: true });
    expectSearchable(second.store, entries);
  });

  it('compacts deleted points on request', async () => {
    const { store } = await start();
    store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(store, 200);
    store.snapshot('g');
    const before = statSync(snapshotFile()).size;
    const ids = [...entries.keys()];
    for (const id of ids.slice(0, 100)) store.deleteEntry('g', id);
    await store.compact('g');
    expect(statSync(snapshotFile()).size).toBeLessThan(before * 0.6);
    expect(store.checkConsistency('g')).toEqual({ storeCount: 100, indexCount: 100, consistent: true });
    for (const id of ids.slice(100)) expect(store.search('g', entries.get(id)!, 1)[0]?.entryId).toBe(id);
  });

  it('compacts in the background after a scheduled snapshot while serving writes and searches', async () => {
    // A zero slice yields after every insert, so the writes below land mid-compaction.
    const { store, log } = await start({ snapshotEveryChanges: 50, compactionSliceMs: 0 });
    store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(store, 300);
    const ids = [...entries.keys()];
    for (const id of ids.slice(0, 120)) store.deleteEntry('g', id);
    for (const id of ids.slice(0, 120)) entries.delete(id);
    await new Promise((resolve) => setImmediate(resolve)); // the scheduled snapshot starts compaction
    expect(log.some((m) => m.includes('compacted'))).toBe(false);
    const during = fill(store, 20, 1000);
    const deletedDuring = ids[200]!;
    store.deleteEntry('g', deletedDuring);
    entries.delete(deletedDuring);
    for (let waited = 0; !log.some((m) => m.includes('compacted')) && waited < 30_000; waited += 20) {
      expect(store.search('g', entries.get(ids[250]!)!, 1)[0]?.entryId).toBe(ids[250]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(log.some((m) => m.includes('compacted'))).toBe(true);
    // Writes made while it ran were caught up before the swap.
    expect(store.checkConsistency('g')).toEqual({ storeCount: 199, indexCount: 199, consistent: true });
    expectSearchable(store, new Map([...entries, ...during]));
  });

  it('stops a running compaction on dispose and reopens consistent', async () => {
    const first = await start({ initialCapacity: 16, compactionSliceMs: 0 });
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const entries = fill(first.store, 400);
    const ids = [...entries.keys()];
    for (const id of ids.slice(0, 100)) first.store.deleteEntry('g', id);
    for (const id of ids.slice(0, 100)) entries.delete(id);
    const compaction = first.store.compact('g');
    await first.store.dispose();
    open.splice(0);
    await compaction;
    expect(first.log.some((m) => m.includes('compacted'))).toBe(false);
    const second = await start();
    expect(second.store.checkConsistency('g')).toEqual({ storeCount: 300, indexCount: 300, consistent: true });
    expectSearchable(second.store, entries);
  });

  it('starts a re-created gallery empty and removes stray files', async () => {
    const first = await start();
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    fill(first.store, 10);
    first.store.snapshot('g');
    first.store.deleteGallery('g');
    first.store.createGallery({ name: 'g', pack: 'face', embedder: binding(DIM) });
    const fresh = fill(first.store, 3, 100);
    crash();
    writeFileSync(join(temp.dir, 'indexes', 'g.hnsw.tmp-1-2'), 'half a snapshot');
    writeFileSync(join(temp.dir, 'indexes', 'gone.hnsw'), 'old gallery');

    const second = await start();
    expect(second.store.checkConsistency('g')).toEqual({ storeCount: 3, indexCount: 3, consistent: true });
    expectSearchable(second.store, fresh);
    expect(readdirSync(join(temp.dir, 'indexes')).filter((f) => f !== 'g.hnsw')).toEqual([]);
  });

  it('keeps the snapshot of a gallery whose name looks like a temp file', async () => {
    const name = 'a.hnsw.tmp-1';
    const first = await start();
    first.store.createGallery({ name, pack: 'face', embedder: binding(DIM) });
    const vector = unitVector(DIM, random);
    const entry = first.store.addEntry(name, { label: 'x', box: box(0), imageSha256: sha(0), vector });
    first.store.snapshot(name);
    crash();
    const second = await start();
    expect(readdirSync(join(temp.dir, 'indexes'))).toContain(`${name}.hnsw`);
    expect(second.log.some((m) => m.includes('rebuilt'))).toBe(false);
    expect(second.store.search(name, vector, 1)[0]?.entryId).toBe(entry.id);
  });

  it('names the data folder when it cannot be written', async () => {
    const file = join(temp.dir, 'a-file');
    writeFileSync(file, 'not a folder');
    const store = new GalleryStore({ dataDir: join(file, 'data') });
    await expect(store.init()).rejects.toThrow(/data folder .*a-file\/data cannot be written \(ENOTDIR\)/);
  });

  it('refuses a second store on a folder that is in use', async () => {
    await start();
    const second = new GalleryStore({ dataDir: temp.dir });
    await expect(second.init()).rejects.toThrow(/in use by another process/);
  });
});
