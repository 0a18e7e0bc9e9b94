import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import hnswlib from 'hnswlib-node';
import type { HnswParams } from './gallery-types.js';

type Native = InstanceType<typeof hnswlib.HierarchicalNSW>;

export interface IndexHit {
  label: number;
  similarity: number;
}

/** hnswlib labels are uint32; SQLite rowids past that would silently wrap. */
const MAX_LABEL = 0xffff_ffff;

/**
 * An inner-product HNSW graph whose labels are entry rowids. hnswlib keeps deleted points
 * (markDelete) in the graph and in its label list, so the set of deleted labels is tracked here
 * to report live counts and ids.
 */
export class HnswIndex {
  private readonly deleted = new Set<number>();

  private constructor(
    private readonly native: Native,
    readonly dimension: number,
    readonly params: HnswParams,
  ) {}

  static create(dimension: number, capacity: number, params: HnswParams): HnswIndex {
    const native = new hnswlib.HierarchicalNSW('ip', dimension);
    native.initIndex({ maxElements: Math.max(1, capacity), m: params.m, efConstruction: params.efConstruction });
    return new HnswIndex(native, dimension, params);
  }

  /** The file must be trusted (checksummed): hnswlib reads headers without validating them. */
  static load(file: string, dimension: number, params: HnswParams): HnswIndex {
    const native = new hnswlib.HierarchicalNSW('ip', dimension);
    native.readIndexSync(file);
    return new HnswIndex(native, dimension, params);
  }

  /** Points in the graph, deleted ones included. */
  get size(): number {
    return this.native.getCurrentCount();
  }

  get deletedCount(): number {
    return this.deleted.size;
  }

  get liveCount(): number {
    return this.size - this.deleted.size;
  }

  get capacity(): number {
    return this.native.getMaxElements();
  }

  /** Every label the graph holds, deleted ones included. */
  allLabels(): number[] {
    return this.native.getIdsList();
  }

  liveLabels(): Set<number> {
    const live = new Set(this.native.getIdsList());
    for (const label of this.deleted) live.delete(label);
    return live;
  }

  add(label: number, vector: Float32Array): void {
    if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) {
      throw new RangeError(`HNSW label ${label} is outside the uint32 range.`);
    }
    const capacity = this.native.getMaxElements();
    if (this.native.getCurrentCount() >= capacity) this.native.resizeIndex(capacity * 2);
    this.native.addPoint(Array.from(vector), label);
  }

  /** True when this call deleted the point; false when it was deleted before or never there. */
  remove(label: number): boolean {
    try {
      this.native.markDelete(label);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A snapshot keeps hnswlib's deletion marks, so a loaded graph can hold deleted points.
      if (message.includes('already deleted')) {
        this.deleted.add(label);
        return false;
      }
      if (message.includes('Label not found')) return false;
      throw err;
    }
    this.deleted.add(label);
    return true;
  }

  search(vector: Float32Array, k: number, ef: number): IndexHit[] {
    const n = Math.min(k, this.liveCount);
    if (n <= 0) return [];
    this.native.setEf(Math.max(ef, n));
    const { neighbors, distances } = this.native.searchKnn(Array.from(vector), n);
    // hnswlib's 'ip' space reports the distance 1 - <a, b>.
    return neighbors.map((label, i) => ({ label, similarity: 1 - (distances[i] ?? 1) }));
  }

  writeTo(file: string): void {
    this.native.writeIndexSync(file);
  }
}

/** Room for `count` points plus growth, as a power of two. */
export function capacityFor(count: number, minimum: number): number {
  let capacity = Math.max(1, minimum);
  while (capacity < count * 1.25) capacity *= 2;
  return capacity;
}

/** hnswlib's saveIndex header (hnswalg.h): six size_t, an int and an unsigned, three size_t, a double and a size_t. */
const HEADER_BYTES = 6 * 8 + 4 + 4 + 3 * 8 + 8 + 8;

/**
 * Whether `file` holds the whole of an hnswlib index. saveIndex writes through a stream whose
 * errors it never checks, so a full disk leaves a short file that would be taken for a snapshot
 * (hnswlib only refuses it at the next start, and the good snapshot it replaced is gone). The
 * layout is walked as hnswlib's loader walks it: the header, the level-0 block of
 * count x size-per-element bytes, then per element a 4-byte link-list size and that many bytes;
 * the walk must end exactly at the end of the file. Read in 1 MB chunks, so 1M entries take one
 * pass over the upper levels.
 */
export function isWholeIndexFile(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER_BYTES) return false;
    const header = Buffer.alloc(HEADER_BYTES);
    readSync(fd, header, 0, HEADER_BYTES, 0);
    const count = Number(header.readBigUInt64LE(16));
    const perElement = Number(header.readBigUInt64LE(24));
    let at = HEADER_BYTES + count * perElement;
    const chunk = Buffer.alloc(1 << 20);
    let chunkStart = 0;
    let chunkEnd = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > size) return false;
      if (at < chunkStart || at + 4 > chunkEnd) {
        chunkStart = at;
        chunkEnd = at + readSync(fd, chunk, 0, chunk.length, at);
      }
      at += 4 + chunk.readUInt32LE(at - chunkStart);
    }
    return at === size;
  } finally {
    closeSync(fd);
  }
}
