import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * Reader for TensorFlow.js weight files as shipped by face-api (`*-weights_manifest.json` plus
 * `.bin` shards). Values are dequantised exactly as tfjs does (double arithmetic, stored as
 * float32), so graphs built from them reproduce face-api's numbers.
 */

const quantizationSchema = z.object({
  dtype: z.enum(['uint8', 'uint16']),
  scale: z.number(),
  min: z.number(),
});

const weightSpecSchema = z.object({
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32']),
  quantization: quantizationSchema.optional(),
});

const weightsManifestSchema = z.array(
  z.object({ paths: z.array(z.string()).min(1), weights: z.array(weightSpecSchema) }),
);

export type WeightsManifest = z.infer<typeof weightsManifestSchema>;

export interface WeightTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** The tensor's dtype in the manifest; int32 values are rounded but still held as floats. */
  readonly dtype: 'float32' | 'int32';
  readonly data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, WeightTensor>;

const BYTES = { uint8: 1, uint16: 2, float32: 4, int32: 4 } as const;

/** Decodes one manifest group's concatenated shards. */
export function decodeWeights(manifest: unknown, shards: Uint8Array): Map<string, WeightTensor> {
  const groups = weightsManifestSchema.parse(manifest);
  const weights = new Map<string, WeightTensor>();
  const view = new DataView(shards.buffer, shards.byteOffset, shards.byteLength);
  let offset = 0;
  for (const spec of groups.flatMap((g) => g.weights)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const width = q ? BYTES[q.dtype] : BYTES[spec.dtype];
    if (offset + count * width > shards.byteLength) {
      throw new Error(`weights: ${spec.name} runs past the end of the data (${shards.byteLength} bytes)`);
    }
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const at = offset + i * width;
      if (q) {
        const raw = q.dtype === 'uint8' ? view.getUint8(at) : view.getUint16(at, true);
        const value = raw * q.scale + q.min;
        data[i] = spec.dtype === 'int32' ? Math.round(value) : value;
      } else {
        data[i] = spec.dtype === 'int32' ? view.getInt32(at, true) : view.getFloat32(at, true);
      }
    }
    offset += count * width;
    weights.set(spec.name, { name: spec.name, shape: spec.shape, dtype: spec.dtype, data });
  }
  if (offset !== shards.byteLength) {
    throw new Error(`weights: ${shards.byteLength - offset} bytes left over after the last tensor`);
  }
  return weights;
}

/** Reads a `*-weights_manifest.json` and the shard files it names (same folder). */
export async function readFaceApiWeights(manifestPath: string): Promise<Map<string, WeightTensor>> {
  const manifest: unknown = JSON.parse(await readFile(manifestPath, 'utf8'));
  const groups = weightsManifestSchema.parse(manifest);
  const parts = await Promise.all(
    groups.flatMap((g) => g.paths).map((p) => readFile(join(dirname(manifestPath), p))),
  );
  return decodeWeights(groups, new Uint8Array(Buffer.concat(parts)));
}

/** Looks a tensor up and checks its shape, so a wrong name or layout fails at build time. */
export function weight(map: WeightMap, name: string, shape?: readonly number[]): WeightTensor {
  const t = map.get(name);
  if (!t) throw new Error(`weights: no tensor named ${name}`);
  if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i]))) {
    throw new Error(`weights: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return t;
}

/** TF conv filter [kh, kw, in, out] (HWIO) to ONNX Conv weight [out, in, kh, kw] (OIHW). */
export function hwioToOihw(t: WeightTensor): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, cout] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          out[((o * cin + i) * kh + y) * kw + x] = t.data[((y * kw + x) * cin + i) * cout + o]!;
        }
      }
    }
  }
  return { data: out, dims: [cout, cin, kh, kw] };
}

/** TF depthwise filter [kh, kw, C, 1] to ONNX grouped Conv weight [C, 1, kh, kw] (group = C). */
export function depthwiseToOihw(t: WeightTensor): { data: Float32Array; dims: number[] } {
  const [kh, kw, channels, multiplier] = t.shape as [number, number, number, number];
  if (multiplier !== 1) throw new Error(`weights: ${t.name} has channel multiplier ${multiplier}, expected 1`);
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let c = 0; c < channels; c++) out[(c * kh + y) * kw + x] = t.data[(y * kw + x) * channels + c]!;
    }
  }
  return { data: out, dims: [channels, 1, kh, kw] };
}
