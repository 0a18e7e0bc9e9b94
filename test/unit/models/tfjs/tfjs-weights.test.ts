import { describe, expect, it } from 'vitest';
import { decodeTfjsWeights, float16ToFloat32 } from '../../../../src/models/tfjs/tfjs-weights.js';

describe('float16ToFloat32', () => {
  it('decodes normal, subnormal and special half-precision values exactly', () => {
    expect(float16ToFloat32(0x3c00)).toBe(1);
    expect(float16ToFloat32(0xc000)).toBe(-2);
    expect(float16ToFloat32(0x3555)).toBe(0.333251953125);
    expect(float16ToFloat32(0x7bff)).toBe(65504);
    expect(float16ToFloat32(0x0001)).toBe(2 ** -24);
    expect(float16ToFloat32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(Object.is(float16ToFloat32(0x8000), -0)).toBe(true);
    expect(float16ToFloat32(0x7c00)).toBe(Infinity);
    expect(float16ToFloat32(0xfc00)).toBe(-Infinity);
    expect(float16ToFloat32(0x7e00)).toBeNaN();
  });
});

describe('decodeTfjsWeights', () => {
  const manifest = [
    {
      paths: ['a.bin', 'b.bin'],
      weights: [
        { name: 'half', shape: [3], dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } },
        { name: 'q8', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
        { name: 'f', shape: [1], dtype: 'float32' },
        { name: 'axes', shape: [2], dtype: 'int32' },
      ],
    },
  ];
  const data = Buffer.concat([
    Buffer.from(Uint16Array.from([0x3c00, 0xc000, 0x3555]).buffer),
    Buffer.from([0, 5]),
    Buffer.from(Float32Array.from([1.5]).buffer),
    Buffer.from(Int32Array.from([1, -2]).buffer),
  ]);

  it('reads float16, uint8-affine, float32 and int32 tensors in manifest order across shards', () => {
    const w = decodeTfjsWeights(manifest, new Uint8Array(data));
    expect(Array.from(w.get('half')!.data)).toEqual([1, -2, 0.333251953125]);
    expect(Array.from(w.get('q8')!.data)).toEqual([-1, 1.5]);
    expect(Array.from(w.get('f')!.data)).toEqual([1.5]);
    expect(w.get('axes')!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(w.get('axes')!.data)).toEqual([1, -2]);
    expect(w.get('half')!.shape).toEqual([3]);
  });

  it('refuses truncated or oversized weight data', () => {
    expect(() => decodeTfjsWeights(manifest, new Uint8Array(data.subarray(0, data.length - 1)))).toThrow(/axes runs past the end/);
    expect(() => decodeTfjsWeights(manifest, new Uint8Array(Buffer.concat([data, Buffer.from([0])])))).toThrow(/1 bytes left over/);
  });
});
