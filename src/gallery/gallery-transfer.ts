import type { EntryRepo } from './entry-repo.js';
import type { GalleryRepo, GalleryRow } from './gallery-repo.js';
import type { PortableEntry } from './gallery-types.js';
import { checkEntryFields, checkLocalFeatures, metadataJson } from './gallery-validation.js';
import type { Db } from './sqlite-db.js';
import { checkVector, decodeVector, encodeVector } from './vector-codec.js';
import { randomUUID } from 'node:crypto';
import { AppError } from '../core/app-error.js';

const EXPORT_CHUNK = 512;

/**
 * Reads by keyset pages rather than one open cursor: better-sqlite3 allows no other statement on
 * the connection while an iterator is open, and a consumer may pause between rows.
 */
export function* exportRows(entries: EntryRepo, galleryId: number): Generator<PortableEntry> {
  let after = 0;
  for (;;) {
    const rows = entries.exportChunk(galleryId, after, EXPORT_CHUNK);
    for (const row of rows) {
      yield {
        label: row.label,
        metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
        box: [row.x1, row.y1, row.x2, row.y2],
        imageSha256: row.image_sha256,
        createdAt: row.created_at,
        vector: decodeVector(row.vector),
        ...(row.verifier !== null && row.features !== null ? { localFeatures: { verifier: row.verifier, data: new Uint8Array(row.features) } } : {}),
      };
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < EXPORT_CHUNK) return;
    after = last.id;
  }
}

export interface ImportOutcome {
  added: { rowid: number; vector: Float32Array }[];
  skippedDuplicates: number;
}

/** Validates every row first, then inserts all of them in one transaction. */
export function importRows(
  db: Db,
  galleries: GalleryRepo,
  entries: EntryRepo,
  gallery: GalleryRow,
  rows: Iterable<PortableEntry>,
): ImportOutcome {
  const all = [...rows];
  all.forEach((row, i) => {
    try {
      checkEntryFields(row.label, row.box, row.imageSha256, row.metadata ?? null);
      checkVector(row.vector, gallery.dimension, 'entry');
      if (row.localFeatures) checkLocalFeatures(row.localFeatures);
      if (typeof row.createdAt !== 'string' || Number.isNaN(Date.parse(row.createdAt))) {
        throw new AppError('BAD_REQUEST', 'createdAt is an ISO date string.');
      }
    } catch (err) {
      if (err instanceof AppError) throw new AppError(err.code, `Row ${i}: ${err.message}`, { cause: err });
      throw err;
    }
  });
  return db.transaction((): ImportOutcome => {
    const added: ImportOutcome['added'] = [];
    for (const row of all) {
      const rowid = entries.insert({
        gallery_id: gallery.id,
        uuid: randomUUID(),
        label: row.label,
        metadata: metadataJson(row.metadata ?? null),
        x1: row.box[0], y1: row.box[1], x2: row.box[2], y2: row.box[3],
        image_sha256: row.imageSha256,
        created_at: row.createdAt,
        vector: encodeVector(row.vector),
      });
      if (rowid === undefined) continue;
      if (row.localFeatures) entries.insertFeatures(rowid, row.localFeatures.verifier, row.localFeatures.data);
      added.push({ rowid, vector: row.vector });
    }
    if (added.length > 0) galleries.bump(gallery.id, added.length);
    return { added, skippedDuplicates: all.length - added.length };
  }).immediate();
}
