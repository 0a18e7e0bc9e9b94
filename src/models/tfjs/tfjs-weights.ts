import { z } from 'zod';

/**
 * TFJS weight decoding: float32, int32 and bool tensors, and the converter's quantisations
 * (float16, and affine uint8/uint16 with scale and min). Values come out as tfjs computes them,
 * so an imported graph reproduces tfjs's numbers.
 */

const quantizationSchema = z.object({
  dtype: z.enum(['float16', 'uint8', 'uint16']),
  scale: z.number().optional(),
  min: z.number().optional(),
  original_dtype: z.string().optional(),
});

const weightSpecSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool']),
  quantization: quantizationSchema.optional(),
});

export const weightsManifestSchema = z
  .array(z.object({ paths: z.array(z.string().min(1)).min(1), weights: z.array(weightSpecSchema) }))
  .min(1);

export interface TfjsTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32' | 'bool';
  /** float32 values; int32 and bool tensors are held as integers in an Int32Array. */
  readonly data: Float32Array | Int32Array;
}

/** IEEE 754 half precision to float32 bits, exactly (subnormals, infinities and NaN included). */
export function float16ToFloat32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const STORED_BYTES = { float16: 2, uint8: 1, uint16: 2, float32: 4, int32: 4, bool: 1 } as const;

function decodeOne(spec: z.infer<typeof weightSpecSchema>, view: DataView, offset: number, count: number): Float32Array | Int32Array {
  const q = spec.quantization;
  const integral = spec.dtype !== 'float32';
  const out = integral ? new Int32Array(count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let value: number;
    if (q?.dtype === 'float16') value = float16ToFloat32(view.getUint16(offset + i * 2, true));
    else if (q) {
      const raw = q.dtype === 'uint8' ? view.getUint8(offset + i) : view.getUint16(offset + i * 2, true);
      value = Math.fround(raw * (q.scale ?? 1) + (q.min ?? 0));
    } else if (spec.dtype === 'float32') value = view.getFloat32(offset + i * 4, true);
    else if (spec.dtype === 'int32') value = view.getInt32(offset + i * 4, true);
    else value = view.getUint8(offset + i);
    out[i] = integral ? Math.round(value) : value;
  }
  return out;
}

/** Decodes every tensor of a weights manifest from its concatenated shards. */
export function decodeTfjsWeights(manifest: unknown, shards: Uint8Array): Map<string, TfjsTensor> {
  const groups = weightsManifestSchema.parse(manifest);
  const view = new DataView(shards.buffer, shards.byteOffset, shards.byteLength);
  const weights = new Map<string, TfjsTensor>();
  let offset = 0;
  for (const spec of groups.flatMap((g) => g.weights)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = count * STORED_BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (offset + bytes > shards.byteLength) {
      throw new Error(`tfjs weights: ${spec.name} runs past the end of the weight data (${shards.byteLength} bytes)`);
    }
    weights.set(spec.name, { name: spec.name, shape: spec.shape, dtype: spec.dtype, data: decodeOne(spec, view, offset, count) });
    offset += bytes;
  }
  if (offset !== shards.byteLength) {
    throw new Error(`tfjs weights: ${shards.byteLength - offset} bytes left over after the last tensor`);
  }
  return weights;
}
