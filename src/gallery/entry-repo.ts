import type { Box } from '../core/types.js';
import type { Entry, LabelCount } from './gallery-types.js';
import type { Db } from './sqlite-db.js';

export interface EntryRow {
  id: number;
  uuid: string;
  label: string;
  metadata: string | null;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  image_sha256: string;
  created_at: string;
}

export interface EntryRowWithVector extends EntryRow {
  vector: Buffer;
}

/** An exported row: the entry, its vector, and its local features when it has them. */
export interface ExportRow extends EntryRowWithVector {
  verifier: string | null;
  features: Buffer | null;
}

export interface NewEntryRow {
  gallery_id: number;
  uuid: string;
  label: string;
  metadata: string | null;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  image_sha256: string;
  created_at: string;
  vector: Buffer;
}

const COLUMNS = 'id, uuid, label, metadata, x1, y1, x2, y2, image_sha256, created_at';

const parseMetadata = (text: string | null): Record<string, unknown> | null => (text === null ? null : (JSON.parse(text) as Record<string, unknown>));

export const toEntry = (row: EntryRow): Entry => ({
  id: row.uuid,
  label: row.label,
  metadata: parseMetadata(row.metadata),
  box: [row.x1, row.y1, row.x2, row.y2],
  imageSha256: row.image_sha256,
  createdAt: row.created_at,
});

/** SQL over the entries table; the integer id is the HNSW label, the uuid the public id. */
export class EntryRepo {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      // The conflict target is the same-crop unique index: a duplicate returns no row.
      insert: db.prepare<NewEntryRow, { id: number }>(
        `INSERT INTO entries (gallery_id, uuid, label, metadata, x1, y1, x2, y2, image_sha256, created_at, vector)
         VALUES (@gallery_id, @uuid, @label, @metadata, @x1, @y1, @x2, @y2, @image_sha256, @created_at, @vector)
         ON CONFLICT (gallery_id, label, image_sha256, x1, y1, x2, y2) DO NOTHING RETURNING id`,
      ),
      sameCrop: db.prepare<[number, string, string, number, number, number, number], EntryRow>(
        `SELECT ${COLUMNS} FROM entries WHERE gallery_id = ? AND label = ? AND image_sha256 = ?
           AND x1 = ? AND y1 = ? AND x2 = ? AND y2 = ?`,
      ),
      sameImage: db.prepare<[number, string, string], EntryRow>(
        `SELECT ${COLUMNS} FROM entries WHERE gallery_id = ? AND label = ? AND image_sha256 = ? ORDER BY id LIMIT 1`,
      ),
      byUuid: db.prepare<[number, string], EntryRow>(`SELECT ${COLUMNS} FROM entries WHERE gallery_id = ? AND uuid = ?`),
      page: db.prepare<[number, number, number], EntryRow>(
        `SELECT ${COLUMNS} FROM entries WHERE gallery_id = ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      pageByLabel: db.prepare<[number, string, number, number], EntryRow>(
        `SELECT ${COLUMNS} FROM entries WHERE gallery_id = ? AND label = ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      update: db.prepare<[string, string | null, number]>('UPDATE entries SET label = ?, metadata = ? WHERE id = ?'),
      deleteById: db.prepare<[number]>('DELETE FROM entries WHERE id = ?'),
      idsByLabel: db.prepare<[number, string], number>('SELECT id FROM entries WHERE gallery_id = ? AND label = ?').pluck(),
      deleteByLabel: db.prepare<[number, string]>('DELETE FROM entries WHERE gallery_id = ? AND label = ?'),
      labels: db.prepare<[number], LabelCount>(
        'SELECT label, COUNT(*) AS count FROM entries WHERE gallery_id = ? GROUP BY label ORDER BY label',
      ),
      ids: db.prepare<[number], number>('SELECT id FROM entries WHERE gallery_id = ? ORDER BY id').pluck(),
      vectorChunk: db.prepare<[number, number, number], { id: number; vector: Buffer }>(
        'SELECT id, vector FROM entries WHERE gallery_id = ? AND id > ? ORDER BY id LIMIT ?',
      ),
      vectorById: db.prepare<[number], Buffer>('SELECT vector FROM entries WHERE id = ?').pluck(),
      hit: db.prepare<[number], { uuid: string; label: string; metadata: string | null }>('SELECT uuid, label, metadata FROM entries WHERE id = ?'),
      insertFeatures: db.prepare<[number, string, Buffer]>('INSERT INTO local_features (entry_id, verifier, data) VALUES (?, ?, ?)'),
      features: db.prepare<[number, string, string], Buffer>(
        `SELECT f.data FROM local_features f JOIN entries e ON e.id = f.entry_id
         WHERE e.gallery_id = ? AND e.uuid = ? AND f.verifier = ?`,
      ).pluck(),
      featureCount: db.prepare<[number], number>(
        'SELECT COUNT(*) FROM local_features f JOIN entries e ON e.id = f.entry_id WHERE e.gallery_id = ?',
      ).pluck(),
      exportChunk: db.prepare<[number, number, number], ExportRow>(
        `SELECT ${COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}, e.vector, f.verifier, f.data AS features
         FROM entries e LEFT JOIN local_features f ON f.entry_id = e.id
         WHERE e.gallery_id = ? AND e.id > ? ORDER BY e.id LIMIT ?`,
      ),
    };
  }

  /** The new rowid, or undefined when the same crop is already enrolled under this label. */
  insert(row: NewEntryRow): number | undefined {
    return this.s.insert.get(row)?.id;
  }

  sameCrop(galleryId: number, label: string, sha: string, box: Box): EntryRow | undefined {
    return this.s.sameCrop.get(galleryId, label, sha, ...box);
  }

  sameImage(galleryId: number, label: string, sha: string): EntryRow | undefined {
    return this.s.sameImage.get(galleryId, label, sha);
  }

  byUuid(galleryId: number, uuid: string): EntryRow | undefined {
    return this.s.byUuid.get(galleryId, uuid);
  }

  page(galleryId: number, label: string | undefined, afterId: number, limit: number): EntryRow[] {
    return label === undefined
      ? this.s.page.all(galleryId, afterId, limit)
      : this.s.pageByLabel.all(galleryId, label, afterId, limit);
  }

  update(id: number, label: string, metadata: string | null): void {
    this.s.update.run(label, metadata, id);
  }

  deleteById(id: number): void {
    this.s.deleteById.run(id);
  }

  idsByLabel(galleryId: number, label: string): number[] {
    return this.s.idsByLabel.all(galleryId, label);
  }

  deleteByLabel(galleryId: number, label: string): number {
    return this.s.deleteByLabel.run(galleryId, label).changes;
  }

  labels(galleryId: number): LabelCount[] {
    return this.s.labels.all(galleryId);
  }

  ids(galleryId: number): number[] {
    return this.s.ids.all(galleryId);
  }

  /**
   * Vectors by keyset pages rather than one open iterator: better-sqlite3 allows no other
   * statement on the connection while an iterator is open, and readers may pause between pages.
   */
  vectorChunk(galleryId: number, afterId: number, limit: number): { id: number; vector: Buffer }[] {
    return this.s.vectorChunk.all(galleryId, afterId, limit);
  }

  vectorById(id: number): Buffer | undefined {
    return this.s.vectorById.get(id);
  }

  hit(id: number): { uuid: string; label: string; metadata: Record<string, unknown> | null } | undefined {
    const row = this.s.hit.get(id);
    return row && { ...row, metadata: parseMetadata(row.metadata) };
  }

  insertFeatures(entryId: number, verifier: string, data: Uint8Array): void {
    this.s.insertFeatures.run(entryId, verifier, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  features(galleryId: number, uuid: string, verifier: string): Buffer | undefined {
    return this.s.features.get(galleryId, uuid, verifier);
  }

  featureCount(galleryId: number): number {
    return this.s.featureCount.get(galleryId) ?? 0;
  }

  exportChunk(galleryId: number, afterId: number, limit: number): ExportRow[] {
    return this.s.exportChunk.all(galleryId, afterId, limit);
  }
}
