import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capacityFor, HnswIndex, isWholeIndexFile } from '../../../src/gallery/hnsw-index.js';
import { dot, seededRandom, tempDir, unitVector } from './gallery-test-helpers.js';

const params = { m: 16, efConstruction: 200, ef: 64 };

describe('HnswIndex', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.cleanup());

  it('grows past its initial capacity and finds each point first with its own vector', () => {
    const random = seededRandom(3);
    const index = HnswIndex.create(32, 16, params);
    const vectors = Array.from({ length: 100 }, () => unitVector(32, random));
    vectors.forEach((v, i) => index.add(i + 1, v));
    expect(index.capacity).toBeGreaterThanOrEqual(100);
    expect(index.liveCount).toBe(100);
    vectors.forEach((v, i) => {
      const [best] = index.search(v, 3, 64);
      expect(best?.label).toBe(i + 1);
      expect(best?.similarity).toBeCloseTo(1, 5);
    });
  });

  it('tells a whole index file from one cut short or extended, as a full disk would leave it', () => {
    const random = seededRandom(5);
    const index = HnswIndex.create(16, 16, params);
    // Enough points for some to reach the upper levels, whose link lists close the file.
    for (let i = 0; i < 3000; i++) index.add(i, unitVector(16, random));
    const file = join(temp.dir, 'whole.hnsw');
    index.writeTo(file);
    expect(isWholeIndexFile(file)).toBe(true);
    const bytes = readFileSync(file);
    const cut = join(temp.dir, 'cut.hnsw');
    for (const length of [0, 50, 96, 4096, Math.floor(bytes.length / 2), bytes.length - 4, bytes.length - 1]) {
      writeFileSync(cut, bytes.subarray(0, length));
      expect(isWholeIndexFile(cut), `${length} of ${bytes.length} bytes`).toBe(false);
    }
    writeFileSync(cut, Buffer.concat([bytes, Buffer.alloc(1)]));
    expect(isWholeIndexFile(cut)).toBe(false);
    const empty = HnswIndex.create(16, 16, params);
    empty.writeTo(cut);
    expect(isWholeIndexFile(cut)).toBe(true);
  });

  it('reports similarity as the inner product, best first', () => {
    const random = seededRandom(4);
    const index = HnswIndex.create(8, 16, params);
    const vectors = Array.from({ length: 10 }, () => unitVector(8, random));
    vectors.forEach((v, i) => index.add(i, v));
    const query = unitVector(8, random);
    const hits = index.search(query, 10, 64);
    expect(hits).toHaveLength(10);
    for (const hit of hits) expect(hit.similarity).toBeCloseTo(dot(query, vectors[hit.label] as Float32Array), 5);
    const sims = hits.map((h) => h.similarity);
    expect(sims).toEqual([...sims].sort((a, b) => b - a));
  });

  it('leaves deleted points out of results and counts', () => {
    const random = seededRandom(5);
    const index = HnswIndex.create(8, 4, params);
    const vectors = Array.from({ length: 5 }, () => unitVector(8, random));
    vectors.forEach((v, i) => index.add(i, v));
    expect(index.remove(2)).toBe(true);
    expect(index.remove(2)).toBe(false);
    expect(index.remove(99)).toBe(false);
    expect(index.liveCount).toBe(4);
    expect([...index.liveLabels()].sort()).toEqual([0, 1, 3, 4]);
    expect(index.search(vectors[2] as Float32Array, 10, 64).map((h) => h.label)).not.toContain(2);
    expect(index.search(vectors[2] as Float32Array, 10, 64)).toHaveLength(4);
  });

  it('returns nothing from an empty index and clamps k', () => {
    const index = HnswIndex.create(8, 4, params);
    const v = unitVector(8, seededRandom(6));
    expect(index.search(v, 5, 64)).toEqual([]);
    index.add(7, v);
    expect(index.search(v, 1000, 64).map((h) => h.label)).toEqual([7]);
  });

  it('keeps deletion marks through a write and load', () => {
    const random = seededRandom(7);
    const index = HnswIndex.create(8, 8, params);
    const vectors = Array.from({ length: 6 }, () => unitVector(8, random));
    vectors.forEach((v, i) => index.add(i + 10, v));
    index.remove(12);
    const file = join(temp.dir, 'x.hnsw');
    index.writeTo(file);
    const loaded = HnswIndex.load(file, 8, params);
    expect(loaded.size).toBe(6);
    // The mark came back from the file; removing again reports it was already gone.
    expect(loaded.remove(12)).toBe(false);
    expect(loaded.liveCount).toBe(5);
    expect(loaded.search(vectors[3] as Float32Array, 1, 64)[0]?.label).toBe(13);
  });

  it('sizes capacity as a power of two with headroom', () => {
    expect(capacityFor(0, 16)).toBe(16);
    expect(capacityFor(100, 16)).toBe(128);
    expect(capacityFor(103, 16)).toBe(256);
  });
});
