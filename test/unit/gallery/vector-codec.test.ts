import { describe, expect, it } from 'vitest';
import { checkVector, decodeVector, encodeVector } from '../../../src/gallery/vector-codec.js';
import { seededRandom, unitVector } from './gallery-test-helpers.js';

describe('vector codec', () => {
  it('round-trips float32 vectors as little-endian bytes', () => {
    const v = unitVector(8, seededRandom(1));
    const blob = encodeVector(v);
    expect(blob.length).toBe(32);
    expect(blob.readFloatLE(4)).toBe(v[1]);
    expect(Array.from(decodeVector(blob))).toEqual(Array.from(v));
  });

  it('encodes a view into a larger buffer without its neighbours', () => {
    const big = new Float32Array([9, 1, 0, 9]);
    expect(Array.from(decodeVector(encodeVector(big.subarray(1, 3))))).toEqual([1, 0]);
  });

  it('refuses wrong dimensions, non-unit and non-finite vectors', () => {
    const v = unitVector(8, seededRandom(2));
    expect(() => checkVector(v, 8, 'entry')).not.toThrow();
    expect(() => checkVector(v, 9, 'entry')).toThrow(expect.objectContaining({ code: 'DIMENSION_MISMATCH' }));
    expect(() => checkVector(v.map((x) => x * 2), 8, 'entry')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => checkVector(new Float32Array(8), 8, 'entry')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    const nan = v.slice();
    nan[0] = Number.NaN;
    expect(() => checkVector(nan, 8, 'entry')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
