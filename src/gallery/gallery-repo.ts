import type { Statement } from 'better-sqlite3';
import type { Db } from './sqlite-db.js';
import type { EmbedderBinding } from './gallery-types.js';

export interface GalleryRow {
  id: number;
  name: string;
  pack: string;
  embedder_id: string;
  dimension: number;
  metric: 'cosine';
  settings: string;
  created_at: string;
  change_seq: number;
}

export interface SnapshotRow {
  gallery_id: number;
  file: string;
  sha256: string;
  bytes: number;
  entry_count: number;
  change_seq: number;
  embedder_id: string;
  dimension: number;
  metric: string;
  hnsw_m: number;
  ef_construction: number;
  created_at: string;
}

export const bindingOf = (row: { embedder_id: string; dimension: number; metric: string }): EmbedderBinding => ({
  embedderId: row.embedder_id,
  dimension: row.dimension,
  metric: row.metric as EmbedderBinding['metric'],
});

/** SQL over the galleries and index_snapshots tables; statements are prepared once. */
export class GalleryRepo {
  private readonly byNameStmt: Statement<[string], GalleryRow>;
  private readonly byIdStmt: Statement<[number], GalleryRow>;
  private readonly allStmt: Statement<[], GalleryRow>;
  private readonly insertStmt: Statement<[string, string, string, number, string, string, string]>;
  private readonly settingsStmt: Statement<[string, number]>;
  private readonly deleteStmt: Statement<[number]>;
  private readonly bumpStmt: Statement<[number, number], { change_seq: number }>;
  private readonly countsStmt: Statement<[number], { entries: number; labels: number }>;
  private readonly totalsStmt: Statement<[], { galleries: number; entries: number }>;
  private readonly snapshotStmt: Statement<[number], SnapshotRow>;
  private readonly saveSnapshotStmt: Statement<SnapshotRow>;

  constructor(db: Db) {
    this.byNameStmt = db.prepare<[string], GalleryRow>('SELECT * FROM galleries WHERE name = ?');
    this.byIdStmt = db.prepare<[number], GalleryRow>('SELECT * FROM galleries WHERE id = ?');
    this.allStmt = db.prepare<[], GalleryRow>('SELECT * FROM galleries ORDER BY name');
    this.insertStmt = db.prepare<[string, string, string, number, string, string, string]>(
      `INSERT INTO galleries (name, pack, embedder_id, dimension, metric, settings, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.settingsStmt = db.prepare<[string, number]>('UPDATE galleries SET settings = ? WHERE id = ?');
    this.deleteStmt = db.prepare<[number]>('DELETE FROM galleries WHERE id = ?');
    this.bumpStmt = db.prepare<[number, number], { change_seq: number }>(
      'UPDATE galleries SET change_seq = change_seq + ? WHERE id = ? RETURNING change_seq',
    );
    this.countsStmt = db.prepare<[number], { entries: number; labels: number }>(
      `SELECT COUNT(*) AS entries, COUNT(DISTINCT label) AS labels FROM entries WHERE gallery_id = ?`,
    );
    this.totalsStmt = db.prepare<[], { galleries: number; entries: number }>(
      'SELECT (SELECT COUNT(*) FROM galleries) AS galleries, (SELECT COUNT(*) FROM entries) AS entries',
    );
    this.snapshotStmt = db.prepare<[number], SnapshotRow>('SELECT * FROM index_snapshots WHERE gallery_id = ?');
    this.saveSnapshotStmt = db.prepare<SnapshotRow>(
      `INSERT OR REPLACE INTO index_snapshots
         (gallery_id, file, sha256, bytes, entry_count, change_seq, embedder_id, dimension, metric,
          hnsw_m, ef_construction, created_at)
       VALUES (@gallery_id, @file, @sha256, @bytes, @entry_count, @change_seq, @embedder_id, @dimension,
          @metric, @hnsw_m, @ef_construction, @created_at)`,
    );
  }

  byName(name: string): GalleryRow | undefined {
    return this.byNameStmt.get(name);
  }

  byId(id: number): GalleryRow | undefined {
    return this.byIdStmt.get(id);
  }

  all(): GalleryRow[] {
    return this.allStmt.all();
  }

  insert(name: string, pack: string, binding: EmbedderBinding, settings: string, createdAt: string): void {
    this.insertStmt.run(name, pack, binding.embedderId, binding.dimension, binding.metric, settings, createdAt);
  }

  updateSettings(id: number, settings: string): void {
    this.settingsStmt.run(settings, id);
  }

  delete(id: number): void {
    this.deleteStmt.run(id);
  }

  /** Advances the gallery's change position by `n` index changes; call inside the write. */
  bump(id: number, n: number): number {
    return this.bumpStmt.get(n, id)?.change_seq ?? 0;
  }

  counts(id: number): { entries: number; labels: number } {
    return this.countsStmt.get(id) ?? { entries: 0, labels: 0 };
  }

  totals(): { galleries: number; entries: number } {
    return this.totalsStmt.get() ?? { galleries: 0, entries: 0 };
  }

  snapshot(galleryId: number): SnapshotRow | undefined {
    return this.snapshotStmt.get(galleryId);
  }

  saveSnapshot(row: SnapshotRow): void {
    this.saveSnapshotStmt.run(row);
  }
}
