import { randomUUID } from 'node:crypto';
import { AppError } from '../core/app-error.js';
import { decodeCursor, encodeCursor } from './entry-cursor.js';
import { toEntry, type EntryRow } from './entry-repo.js';
import { DuplicateEntryError } from './gallery-errors.js';
import { openStore, type OpenStore } from './gallery-open.js';
import { bindingOf, type GalleryRow } from './gallery-repo.js';
import { exportRows, importRows } from './gallery-transfer.js';
import type {
  AddEntryInput,
  ConsistencyReport,
  CreateGalleryInput,
  EmbedderBinding,
  Entry,
  EntryPage,
  EntryPatch,
  GalleryInfo,
  GalleryLogger,
  GalleryKey,
  GalleryRef,
  GalleryStoreOptions,
  ImportResult,
  LabelCount,
  ListEntriesOptions,
  PortableEntry,
  SearchHit,
} from './gallery-types.js';
import * as check from './gallery-validation.js';
import type { HnswIndex } from './hnsw-index.js';
import { checkVector, decodeVector, encodeVector } from './vector-codec.js';

const silentLogger: GalleryLogger = { info: () => undefined, warn: () => undefined };
const MAX_PAGE = 10_000;

/**
 * Galleries of enrolled crops: SQLite is the record (every write is committed and fsynced before
 * it is acknowledged), and an in-memory HNSW index per gallery is derived from it.
 */
export class GalleryStore {
  private open: OpenStore | undefined;
  private readonly logger: GalleryLogger;

  constructor(private readonly options: GalleryStoreOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async init(): Promise<void> {
    this.open ??= openStore(this.options, this.logger);
  }

  /** Stops background compaction, snapshots galleries with unsaved changes, closes the database. */
  async dispose(): Promise<void> {
    const open = this.open;
    this.open = undefined;
    if (open) await open.close();
  }

  createGallery(input: CreateGalleryInput): GalleryInfo {
    const { db, galleries, indexes } = this.ready();
    check.checkGalleryName(input.name);
    check.checkBinding(input.embedder);
    if (typeof input.pack !== 'string' || input.pack.length === 0) {
      throw new AppError('BAD_REQUEST', 'A gallery needs a pack name.');
    }
    const settings = input.settings ?? {};
    check.checkSettings(settings);
    const existing = galleries.byName(input.name);
    if (existing) this.refuseExisting(existing, input.embedder);
    db.transaction(() => {
      galleries.insert(input.name, input.pack, input.embedder, JSON.stringify(settings), new Date().toISOString());
    }).immediate();
    indexes.create(this.gallery(input.name));
    return this.getGallery(input.name);
  }

  /** Throws EMBEDDER_MISMATCH when the gallery was built by another embedder than `embedder`. */
  assertEmbedder(name: string, embedder: EmbedderBinding): GalleryRef {
    const row = this.gallery(name);
    if (!check.sameBinding(bindingOf(row), embedder)) throw mismatch(row, embedder);
    return toRef(row);
  }

  listGalleries(): GalleryInfo[] {
    return this.ready().galleries.all().map((row) => this.info(row));
  }

  /** With entry and label counts, which cost a scan of the gallery's index rows. */
  getGallery(name: string): GalleryInfo {
    return this.info(this.gallery(name));
  }

  /** Name, pack, embedder and settings without counting: for the per-request path. */
  getGalleryRef(name: string): GalleryRef {
    return toRef(this.gallery(name));
  }

  /** Replaces the settings object as a whole. */
  updateGallerySettings(name: string, settings: Record<string, unknown>): GalleryInfo {
    check.checkSettings(settings);
    this.ready().galleries.updateSettings(this.gallery(name).id, JSON.stringify(settings));
    return this.getGallery(name);
  }

  deleteGallery(name: string): void {
    const { db, galleries, indexes, scheduler } = this.ready();
    const row = this.gallery(name);
    db.transaction(() => galleries.delete(row.id)).immediate();
    scheduler.forget(row.id);
    indexes.drop(row.id, row.name);
  }

  addEntry(gallery: GalleryKey, input: AddEntryInput): Entry {
    const { db, galleries, entries } = this.ready();
    const g = this.gallery(gallery);
    if (input.embedder && !check.sameBinding(bindingOf(g), input.embedder)) throw mismatch(g, input.embedder);
    const metadata = input.metadata ?? null;
    check.checkEntryFields(input.label, input.box, input.imageSha256, metadata);
    checkVector(input.vector, g.dimension, 'entry');
    const row = {
      gallery_id: g.id,
      uuid: randomUUID(),
      label: input.label,
      metadata: check.metadataJson(metadata),
      x1: input.box[0], y1: input.box[1], x2: input.box[2], y2: input.box[3],
      image_sha256: input.imageSha256,
      created_at: new Date().toISOString(),
      vector: encodeVector(input.vector),
    };
    const features = input.localFeatures;
    if (features) check.checkLocalFeatures(features);
    const rowid = db.transaction(() => {
      const id = entries.insert(row);
      if (id !== undefined) {
        if (features) entries.insertFeatures(id, features.verifier, features.data);
        galleries.bump(g.id, 1);
      }
      return id;
    }).immediate();
    if (rowid === undefined) {
      const existing = entries.sameCrop(g.id, input.label, input.imageSha256, input.box);
      throw new DuplicateEntryError(existing?.uuid ?? 'unknown', g.name, input.label);
    }
    this.indexChanged(g.id, (index) => index.add(rowid, input.vector), 1);
    return toEntry({ id: rowid, ...row });
  }

  /**
   * The entry's local features written by `verifier`, if it was enrolled with them (entries
   * enrolled while verification was off, or imported, have none).
   */
  localFeatures(gallery: GalleryKey, entryId: string, verifier: string): Uint8Array | undefined {
    const blob = this.ready().entries.features(this.gallery(gallery).id, entryId, verifier);
    return blob ? new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength) : undefined;
  }

  findDuplicate(gallery: GalleryKey, label: string, imageSha256: string): Entry | null {
    const row = this.ready().entries.sameImage(this.gallery(gallery).id, label, imageSha256);
    return row ? toEntry(row) : null;
  }

  getEntry(gallery: string, id: string): Entry {
    return toEntry(this.entryRow(this.gallery(gallery), id));
  }

  getEntryVector(gallery: string, id: string): Float32Array {
    const blob = this.ready().entries.vectorById(this.entryRow(this.gallery(gallery), id).id);
    if (!blob) throw new AppError('ENTRY_NOT_FOUND', `No entry ${id} in gallery "${gallery}".`);
    return decodeVector(blob);
  }

  listEntries(gallery: string, options: ListEntriesOptions): EntryPage {
    const g = this.gallery(gallery);
    const { limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new AppError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_PAGE}.`);
    }
    const after = options.cursor === undefined ? 0 : decodeCursor(options.cursor);
    const rows = this.ready().entries.page(g.id, options.label, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { entries: page.map(toEntry), nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
  }

  updateEntry(gallery: string, id: string, patch: EntryPatch): Entry {
    const { entries } = this.ready();
    const g = this.gallery(gallery);
    const row = this.entryRow(g, id);
    const label = patch.label ?? row.label;
    check.checkLabel(label);
    if (patch.metadata !== undefined) check.checkMetadata(patch.metadata);
    const metadata = patch.metadata === undefined ? row.metadata : check.metadataJson(patch.metadata);
    try {
      entries.update(row.id, label, metadata);
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      const clash = entries.sameCrop(g.id, label, row.image_sha256, [row.x1, row.y1, row.x2, row.y2]);
      throw new DuplicateEntryError(clash?.uuid ?? 'unknown', gallery, label);
    }
    return toEntry({ ...row, label, metadata });
  }

  deleteEntry(gallery: string, id: string): void {
    const { db, galleries, entries } = this.ready();
    const g = this.gallery(gallery);
    const row = this.entryRow(g, id);
    db.transaction(() => {
      entries.deleteById(row.id);
      galleries.bump(g.id, 1);
    }).immediate();
    this.indexChanged(g.id, (index) => index.remove(row.id), 1);
  }

  listLabels(gallery: string): LabelCount[] {
    return this.ready().entries.labels(this.gallery(gallery).id);
  }

  deleteLabel(gallery: string, label: string): number {
    const { db, galleries, entries } = this.ready();
    const g = this.gallery(gallery);
    const ids = db.transaction(() => {
      const found = entries.idsByLabel(g.id, label);
      if (found.length > 0) {
        entries.deleteByLabel(g.id, label);
        galleries.bump(g.id, found.length);
      }
      return found;
    }).immediate();
    if (ids.length === 0) throw new AppError('LABEL_NOT_FOUND', `No entry has label "${label}" in gallery "${gallery}".`);
    this.indexChanged(g.id, (index) => ids.forEach((rowid) => index.remove(rowid)), ids.length);
    return ids.length;
  }

  search(gallery: GalleryKey, vector: Float32Array, k: number): SearchHit[] {
    const { entries, indexes } = this.ready();
    const g = this.gallery(gallery);
    if (!Number.isInteger(k) || k < 1) throw new AppError('BAD_REQUEST', 'k must be a positive integer.');
    checkVector(vector, g.dimension, 'query');
    const { index } = indexes.get(g.id);
    const hits: SearchHit[] = [];
    for (const { label, similarity } of index.search(vector, k, index.params.ef)) {
      const row = entries.hit(label);
      if (row) hits.push({ entryId: row.uuid, label: row.label, similarity, metadata: row.metadata });
    }
    return hits;
  }

  /** Writes the snapshot of one gallery, or of every gallery, now. */
  snapshot(gallery?: string): void {
    const { galleries, indexes } = this.ready();
    const rows = gallery === undefined ? galleries.all() : [this.gallery(gallery)];
    for (const row of rows) indexes.snapshot(row);
  }

  /**
   * Rebuilds the gallery's index without its deleted points, in slices between event-loop turns,
   * then snapshots it. Scheduled snapshots start this by themselves past the deleted fraction.
   */
  async compact(gallery: string): Promise<void> {
    await this.ready().compact(this.gallery(gallery).id);
  }

  checkConsistency(gallery: string): ConsistencyReport {
    const { entries, indexes } = this.ready();
    const g = this.gallery(gallery);
    const storeIds = entries.ids(g.id);
    const live = indexes.get(g.id).index.liveLabels();
    const consistent = storeIds.length === live.size && storeIds.every((id) => live.has(id));
    return { storeCount: storeIds.length, indexCount: live.size, consistent };
  }

  stats(): { galleries: number; entries: number } {
    return this.ready().galleries.totals();
  }

  /** Entries with their vectors, in enrolment order, read in chunks. */
  exportGallery(name: string): Iterable<PortableEntry> {
    return exportRows(this.ready().entries, this.gallery(name).id);
  }

  /** Adds rows in one transaction; rows already enrolled (same label, image and box) are skipped. */
  importEntries(name: string, rows: Iterable<PortableEntry>): ImportResult {
    const { db, galleries, entries } = this.ready();
    const g = this.gallery(name);
    const { added, skippedDuplicates } = importRows(db, galleries, entries, g, rows);
    this.indexChanged(g.id, (index) => added.forEach((a) => index.add(a.rowid, a.vector)), added.length);
    return { imported: added.length, skippedDuplicates };
  }

  private indexChanged(galleryId: number, apply: (index: HnswIndex) => void, n: number): void {
    const { indexes, scheduler } = this.ready();
    const live = indexes.get(galleryId);
    apply(live.index);
    live.pending += n;
    scheduler.noteChanges(galleryId, live.pending);
  }

  private refuseExisting(existing: GalleryRow, embedder: EmbedderBinding): never {
    if (!check.sameBinding(bindingOf(existing), embedder)) throw mismatch(existing, embedder);
    throw new AppError('GALLERY_EXISTS', `Gallery "${existing.name}" already exists.`);
  }

  private info(row: GalleryRow): GalleryInfo {
    const { galleries, entries } = this.ready();
    const counts = galleries.counts(row.id);
    return { ...toRef(row), entryCount: counts.entries, labelCount: counts.labels, localFeatureCount: entries.featureCount(row.id) };
  }

  private gallery(key: GalleryKey): GalleryRow {
    const name = typeof key === 'object' && key !== null ? key.name : key;
    const row = typeof name === 'string' ? this.ready().galleries.byName(name) : undefined;
    if (!row) throw new AppError('GALLERY_NOT_FOUND', `No gallery named "${String(name)}".`);
    if (typeof key === 'object' && key.id !== undefined && key.id !== row.id) {
      throw new AppError('GALLERY_NOT_FOUND', `No gallery named "${name}" as this request found it: it was deleted (and made again) while the request ran.`);
    }
    return row;
  }

  private entryRow(g: GalleryRow, id: string): EntryRow {
    const row = typeof id === 'string' ? this.ready().entries.byUuid(g.id, id) : undefined;
    if (!row) throw new AppError('ENTRY_NOT_FOUND', `No entry ${String(id)} in gallery "${g.name}".`);
    return row;
  }

  private ready(): OpenStore {
    if (!this.open) throw new AppError('NOT_READY', 'The gallery store is not open.');
    return this.open;
  }
}

const toRef = (row: GalleryRow): GalleryRef => ({
  id: row.id,
  name: row.name,
  pack: row.pack,
  embedder: bindingOf(row),
  settings: JSON.parse(row.settings) as Record<string, unknown>,
  createdAt: row.created_at,
});

function mismatch(row: GalleryRow, embedder: EmbedderBinding): AppError {
  return new AppError(
    'EMBEDDER_MISMATCH',
    `Gallery "${row.name}" holds vectors of ${check.describeBinding(bindingOf(row))}, not ${check.describeBinding(embedder)}.`,
  );
}
