import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../src/core/buffer-pool.js';

describe('BufferPool', () => {
  it('gives a kept buffer back for the same size and a new one for any other', () => {
    const pool = new BufferPool(4, 16);
    const a = pool.take(64);
    expect(a.byteLength).toBe(64);
    pool.give([a]);
    expect(pool.keptBytes).toBe(64);
    expect(pool.take(32)).not.toBe(a);
    expect(pool.take(64)).toBe(a);
    expect(pool.keptBytes).toBe(0);
    expect(pool.take(64)).not.toBe(a);
  });

  it('keeps at most maxBuffers, dropping the oldest, and ignores small or repeated buffers', () => {
    const pool = new BufferPool(2, 16);
    const [a, b, c] = [pool.take(32), pool.take(32), pool.take(32)];
    pool.give([a, b, b, c, new ArrayBuffer(8)]);
    expect(pool.keptBytes).toBe(64);
    const taken = [pool.take(32), pool.take(32)];
    expect(taken).toContain(b);
    expect(taken).toContain(c);
    expect(taken).not.toContain(a);
  });
});
