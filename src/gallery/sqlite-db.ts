import Database from 'better-sqlite3';
import { AppError } from '../core/app-error.js';

export type Db = Database.Database;

export const SCHEMA_VERSION = 2;

/**
 * Entry ids are AUTOINCREMENT so a deleted rowid is never handed out again: the rowid is the
 * HNSW label, and reconciling a snapshot by id sets is only exact if an id always means the
 * same vector.
 */
const SCHEMA_V1 = `
CREATE TABLE galleries (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE,
  pack        TEXT NOT NULL,
  embedder_id TEXT NOT NULL,
  dimension   INTEGER NOT NULL CHECK (dimension > 0),
  metric      TEXT NOT NULL,
  settings    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  change_seq  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE entries (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  gallery_id   INTEGER NOT NULL REFERENCES galleries(id) ON DELETE CASCADE,
  uuid         TEXT NOT NULL UNIQUE,
  label        TEXT NOT NULL,
  metadata     TEXT,
  x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
  image_sha256 TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  vector       BLOB NOT NULL
);
CREATE UNIQUE INDEX entries_same_crop ON entries (gallery_id, label, image_sha256, x1, y1, x2, y2);
CREATE INDEX entries_by_gallery ON entries (gallery_id, id);
CREATE INDEX entries_by_label ON entries (gallery_id, label, id);

CREATE TABLE index_snapshots (
  gallery_id      INTEGER PRIMARY KEY REFERENCES galleries(id) ON DELETE CASCADE,
  file            TEXT NOT NULL,
  sha256          TEXT NOT NULL,
  bytes           INTEGER NOT NULL,
  entry_count     INTEGER NOT NULL,
  change_seq      INTEGER NOT NULL,
  embedder_id     TEXT NOT NULL,
  dimension       INTEGER NOT NULL,
  metric          TEXT NOT NULL,
  hnsw_m          INTEGER NOT NULL,
  ef_construction INTEGER NOT NULL,
  created_at      TEXT NOT NULL
);
`;

/**
 * Local features of an entry for geometric verification (e.g. ORB keypoints), written in the
 * entry's own transaction and deleted with it. `verifier` names the extractor and its settings:
 * records of another extractor are never matched against.
 */
const SCHEMA_V2 = `
CREATE TABLE local_features (
  entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
  verifier TEXT NOT NULL,
  data     BLOB NOT NULL
);
`;

/**
 * Opens (and on first use creates) the store. Every commit is fsynced before it returns.
 * The connection holds an exclusive lock for its lifetime: the indexes live in this process's
 * memory, so a second process writing the same folder would leave them silently stale.
 */
export function openDatabase(file: string): Db {
  // A restarting server may briefly overlap the old one; wait a little for its lock.
  const db = new Database(file, { timeout: 3000 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new AppError('INTERNAL', `The gallery database ${file} is in use by another process.`, { cause: err });
    }
    throw err;
  }
}

function migrate(db: Db): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new AppError(
      'INTERNAL',
      `The gallery database has schema version ${version}, newer than this build (${SCHEMA_VERSION}).`,
    );
  }
  db.transaction(() => {
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) db.exec(SCHEMA_V2);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
