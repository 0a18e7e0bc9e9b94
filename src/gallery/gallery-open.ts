import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { HNSW_DEFAULTS } from '../config/config.js';
import { AppError } from '../core/app-error.js';
import { join } from 'node:path';
import { EntryRepo } from './entry-repo.js';
import { GalleryIndexes } from './gallery-indexes.js';
import { GalleryRepo } from './gallery-repo.js';
import type { GalleryLogger, GalleryStoreOptions } from './gallery-types.js';
import { SnapshotScheduler } from './snapshot-scheduler.js';
import { openDatabase, type Db } from './sqlite-db.js';

/** The parts of an open gallery store and the background work on its indexes. */
export interface OpenStore {
  db: Db;
  galleries: GalleryRepo;
  entries: EntryRepo;
  indexes: GalleryIndexes;
  scheduler: SnapshotScheduler;
  /** Snapshots one gallery; a failure is logged, since the store already holds every change. */
  snapshotById(galleryId: number): void;
  /** Compacts one gallery's index in the background, then snapshots it; one run per gallery. */
  compact(galleryId: number): Promise<void>;
  /** Stops background work, snapshots pending changes and closes the database. */
  close(): Promise<void>;
}

/** Opens the database, loads or rebuilds every gallery's index and starts the snapshot timer. */
export function openStore(options: GalleryStoreOptions, logger: GalleryLogger): OpenStore {
  const indexDir = join(options.dataDir, 'indexes');
  let db: Db;
  try {
    mkdirSync(indexDir, { recursive: true });
    db = openDatabase(join(options.dataDir, 'spotter.db'));
  } catch (err) {
    throw unwritable(err, options.dataDir) ?? err;
  }
  try {
    const galleries = new GalleryRepo(db);
    const entries = new EntryRepo(db);
    const hnsw = options.hnsw ?? {};
    const indexes = new GalleryIndexes(galleries, entries, {
      dir: indexDir,
      params: {
        m: hnsw.m ?? HNSW_DEFAULTS.m,
        efConstruction: hnsw.efConstruction ?? HNSW_DEFAULTS.efConstruction,
        ef: hnsw.ef ?? HNSW_DEFAULTS.ef,
      },
      initialCapacity: options.initialCapacity ?? 1024,
      compactDeletedFraction: options.compactDeletedFraction ?? 0.1,
      compactionSliceMs: options.compactionSliceMs ?? 20,
      logger,
    });
    const compactions = new Map<number, Promise<void>>();
    let stopping = false;

    const compact = (galleryId: number): Promise<void> => {
      const running = compactions.get(galleryId);
      if (running) return running;
      const run = (async () => {
        const row = galleries.byId(galleryId);
        if (row && indexes.has(galleryId) && (await indexes.compact(row, () => stopping))) {
          snapshotById(galleryId);
        }
      })()
        .catch((err: unknown) => logger.warn({ galleryId, err }, 'gallery index compaction failed'))
        .finally(() => compactions.delete(galleryId));
      compactions.set(galleryId, run);
      return run;
    };

    const snapshotById = (galleryId: number): void => {
      const row = galleries.byId(galleryId);
      if (!row || !indexes.has(galleryId)) return;
      try {
        indexes.snapshot(row);
      } catch (err) {
        logger.warn({ gallery: row.name, err }, 'gallery index snapshot failed; the store is unaffected');
        return;
      }
      if (!stopping && indexes.needsCompaction(galleryId)) void compact(galleryId);
    };

    const scheduler = new SnapshotScheduler(
      options.snapshotEveryChanges ?? 1000,
      options.snapshotIntervalMs ?? 60_000,
      snapshotById,
      () => indexes.galleryIds().filter((id) => indexes.get(id).pending > 0),
    );

    const close = async (): Promise<void> => {
      stopping = true;
      scheduler.stop();
      await Promise.all(compactions.values());
      try {
        for (const id of indexes.galleryIds()) {
          if (indexes.get(id).pending > 0) snapshotById(id);
        }
      } finally {
        db.close();
      }
    };

    const rows = galleries.all();
    removeStrayFiles(indexDir, new Set(rows.map((g) => `${g.name}.hnsw`)));
    for (const row of rows) indexes.open(row);
    for (const row of rows) {
      // A rebuilt or much reconciled index is saved soon so that the next start is quick.
      scheduler.noteChanges(row.id, indexes.get(row.id).pending);
      if (indexes.needsCompaction(row.id)) void compact(row.id);
    }
    scheduler.start();
    return { db, galleries, entries, indexes, scheduler, snapshotById, compact, close };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Temp files of interrupted snapshots (`<name>.hnsw.tmp-<pid>-<time>`, see snapshot-file.ts), and
 * snapshots of galleries that no longer exist. A temp file is told by its whole suffix: a gallery
 * may itself be named e.g. `a.hnsw.tmp-1`, and its snapshot (ending in .hnsw) must stay.
 */
const SNAPSHOT_TEMP = /\.hnsw\.tmp-\d+-\d+$/;

function removeStrayFiles(dir: string, expected: Set<string>): void {
  for (const file of readdirSync(dir)) {
    if (SNAPSHOT_TEMP.test(file) || (file.endsWith('.hnsw') && !expected.has(file))) {
      rmSync(join(dir, file), { force: true });
    }
  }
}

/** Codes of a data folder this process cannot write (or a path through a file): Node's, and SQLite's for the same causes. */
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR_LOCK', 'SQLITE_PERM']);

/** A start-up error that names the data folder and what to check, when that is the cause. */
function unwritable(err: unknown, dataDir: string): AppError | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !UNWRITABLE.has(code)) return undefined;
  return new AppError('NOT_READY', `the data folder ${dataDir} cannot be written (${code}): check that it exists and that this user may write to it`, { cause: err });
}
