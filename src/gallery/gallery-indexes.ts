import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EntryRepo } from './entry-repo.js';
import type { GalleryRepo, GalleryRow } from './gallery-repo.js';
import { bindingOf } from './gallery-repo.js';
import type { GalleryLogger, HnswParams } from './gallery-types.js';
import { describeBinding, sameBinding } from './gallery-validation.js';
import { capacityFor, HnswIndex, isWholeIndexFile } from './hnsw-index.js';
import { digestFile, removeFile, writeFileAtomically } from './snapshot-file.js';
import { decodeVector } from './vector-codec.js';

export interface IndexSettings {
  dir: string;
  params: HnswParams;
  initialCapacity: number;
  compactDeletedFraction: number;
  compactionSliceMs: number;
  logger: GalleryLogger;
}

interface LiveIndex {
  index: HnswIndex;
  /** Index changes since the snapshot on disk was written. */
  pending: number;
}

/**
 * The HNSW indexes, one per gallery, derived from the store. A snapshot only saves start-up
 * time: whatever it lacks or has in excess is reconciled against the store's entry ids.
 */
export class GalleryIndexes {
  private readonly live = new Map<number, LiveIndex>();

  constructor(
    private readonly galleries: GalleryRepo,
    private readonly entries: EntryRepo,
    private readonly settings: IndexSettings,
  ) {}

  fileFor(name: string): string {
    return join(this.settings.dir, `${name}.hnsw`);
  }

  get(galleryId: number): LiveIndex {
    const live = this.live.get(galleryId);
    if (!live) throw new Error(`No index is open for gallery ${galleryId}.`);
    return live;
  }

  has(galleryId: number): boolean {
    return this.live.has(galleryId);
  }

  galleryIds(): number[] {
    return [...this.live.keys()];
  }

  /** An empty index for a new gallery. */
  create(gallery: GalleryRow): void {
    const index = HnswIndex.create(gallery.dimension, this.settings.initialCapacity, this.settings.params);
    this.live.set(gallery.id, { index, pending: 0 });
  }

  /** Loads the snapshot when it can be trusted and reconciles it, else rebuilds from the store. */
  open(gallery: GalleryRow): void {
    const started = performance.now();
    const loaded = this.loadSnapshot(gallery);
    if (loaded) {
      const changes = this.reconcile(gallery.id, loaded);
      this.live.set(gallery.id, { index: loaded, pending: changes });
      this.settings.logger.info(
        { gallery: gallery.name, entries: loaded.liveCount, reconciled: changes, ms: elapsed(started) },
        'gallery index loaded from snapshot',
      );
      return;
    }
    const index = this.rebuild(gallery);
    this.live.set(gallery.id, { index, pending: index.liveCount });
    this.settings.logger.info(
      { gallery: gallery.name, entries: index.liveCount, ms: elapsed(started) },
      'gallery index rebuilt from the store',
    );
  }

  /**
   * Forgets a deleted gallery's index and removes its snapshot. The deletion is already committed,
   * so a snapshot that cannot be removed now (e.g. a read-only folder) is only logged: the next
   * start removes it as the snapshot of a gallery that no longer exists.
   */
  drop(galleryId: number, name: string): void {
    this.live.delete(galleryId);
    try {
      removeFile(this.fileFor(name));
    } catch (err) {
      this.settings.logger.warn({ gallery: name, err }, 'snapshot of a deleted gallery not removed; the next start removes it');
    }
  }

  /** Writes the index atomically and records it in index_snapshots. */
  snapshot(gallery: GalleryRow): void {
    const live = this.get(gallery.id);
    const started = performance.now();
    const file = this.fileFor(gallery.name);
    const digest = writeFileAtomically(file, (temp) => {
      live.index.writeTo(temp);
      // Checked before it replaces the last good snapshot, which then stays.
      if (!isWholeIndexFile(temp)) throw new Error(`the snapshot of gallery "${gallery.name}" was written short (is the disk full?)`);
    });
    const binding = bindingOf(gallery);
    this.galleries.saveSnapshot({
      gallery_id: gallery.id,
      file: `${gallery.name}.hnsw`,
      sha256: digest.sha256,
      bytes: digest.bytes,
      entry_count: live.index.liveCount,
      change_seq: gallery.change_seq,
      embedder_id: binding.embedderId,
      dimension: binding.dimension,
      metric: binding.metric,
      hnsw_m: live.index.params.m,
      ef_construction: live.index.params.efConstruction,
      created_at: new Date().toISOString(),
    });
    live.pending = 0;
    this.settings.logger.info(
      { gallery: gallery.name, entries: live.index.liveCount, bytes: digest.bytes, ms: elapsed(started) },
      'gallery index snapshot written',
    );
  }

  /** hnswlib never frees deleted points; past this fraction they cost memory and search time. */
  needsCompaction(galleryId: number): boolean {
    const { index } = this.get(galleryId);
    return index.size > 0 && index.deletedCount / index.size > this.settings.compactDeletedFraction;
  }

  /** Builds the whole index synchronously (start-up, before requests are served). */
  rebuild(gallery: GalleryRow): HnswIndex {
    const index = this.emptyFor(gallery);
    for (const row of this.storedVectors(gallery.id)) index.add(row.id, decodeVector(row.vector));
    return index;
  }

  /**
   * Rebuilds without deleted points in short slices between event-loop turns, so requests keep
   * being served (a 10k rebuild is seconds of CPU). Writes meanwhile go to the old index and are
   * caught up by reconciling before the swap. False when stopped or the gallery went away.
   */
  async compact(gallery: GalleryRow, stopped: () => boolean): Promise<boolean> {
    const live = this.get(gallery.id);
    const started = performance.now();
    const fresh = this.emptyFor(gallery);
    let slice = performance.now();
    for (const row of this.storedVectors(gallery.id)) {
      fresh.add(row.id, decodeVector(row.vector));
      if (performance.now() - slice < this.settings.compactionSliceMs) continue;
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped() || this.live.get(gallery.id) !== live) return false;
      slice = performance.now();
    }
    this.reconcile(gallery.id, fresh);
    live.index = fresh;
    this.settings.logger.info(
      { gallery: gallery.name, entries: fresh.liveCount, ms: elapsed(started) },
      'gallery index compacted',
    );
    return true;
  }

  private emptyFor(gallery: GalleryRow): HnswIndex {
    const count = this.galleries.counts(gallery.id).entries;
    const capacity = capacityFor(count, this.settings.initialCapacity);
    return HnswIndex.create(gallery.dimension, capacity, this.settings.params);
  }

  /** Pages by rowid, so no statement stays open while a consumer awaits between rows. */
  private *storedVectors(galleryId: number): Generator<{ id: number; vector: Buffer }> {
    for (let after = 0; ; ) {
      const rows = this.entries.vectorChunk(galleryId, after, CHUNK_ROWS);
      const last = rows[rows.length - 1];
      if (!last) return;
      yield* rows;
      after = last.id;
    }
  }

  private loadSnapshot(gallery: GalleryRow): HnswIndex | undefined {
    const snap = this.galleries.snapshot(gallery.id);
    const file = snap ? join(this.settings.dir, snap.file) : '';
    const log = this.settings.logger;
    if (!snap || !existsSync(file)) return undefined;
    const { params } = this.settings;
    if (!sameBinding(bindingOf(snap), bindingOf(gallery))) {
      log.warn({ gallery: gallery.name }, `snapshot was made by ${describeBinding(bindingOf(snap))}; rebuilding`);
      return undefined;
    }
    if (snap.hnsw_m !== params.m || snap.ef_construction !== params.efConstruction) {
      log.info({ gallery: gallery.name }, 'HNSW parameters changed since the snapshot; rebuilding');
      return undefined;
    }
    try {
      // hnswlib trusts the file's headers, so a damaged file could crash the process: check first.
      const digest = digestFile(file);
      if (digest.sha256 !== snap.sha256 || digest.bytes !== snap.bytes) {
        log.warn({ gallery: gallery.name, file }, 'snapshot does not match its checksum; rebuilding');
        return undefined;
      }
      return HnswIndex.load(file, gallery.dimension, params);
    } catch (err) {
      log.warn({ gallery: gallery.name, file, err }, 'snapshot could not be read; rebuilding');
      return undefined;
    }
  }

  /**
   * Compares id sets instead of replaying a change log: rowids are never reused and vectors are
   * never changed in place, so "same id" means "same point", and the comparison is exact whatever
   * moment the snapshot was taken, with no log to write on every change or to prune.
   */
  private reconcile(galleryId: number, index: HnswIndex): number {
    const storeIds = this.entries.ids(galleryId);
    const inStore = new Set(storeIds);
    let changes = 0;
    for (const label of index.allLabels()) {
      if (!inStore.has(label) && index.remove(label)) changes++;
    }
    const inIndex = new Set(index.allLabels());
    for (const id of storeIds) {
      if (inIndex.has(id)) continue;
      const blob = this.entries.vectorById(id);
      if (blob) {
        index.add(id, decodeVector(blob));
        changes++;
      }
    }
    return changes;
  }
}

const elapsed = (started: number): number => Math.round(performance.now() - started);
const CHUNK_ROWS = 512;
