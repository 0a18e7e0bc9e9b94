import { endianness } from 'node:os';
import { AppError } from '../core/app-error.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** Vectors are stored as little-endian float32 so a database file moves between hosts. */
export function encodeVector(vector: Float32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) {
    return Buffer.from(vector.buffer.slice(vector.byteOffset, vector.byteOffset + vector.byteLength));
  }
  const out = Buffer.allocUnsafe(vector.length * 4);
  vector.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

export function decodeVector(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(blob);
    return out;
  }
  for (let i = 0; i < out.length; i++) out[i] = blob.readFloatLE(i * 4);
  return out;
}

/** Unit length within float32 rounding; anything else would make scores exceed [-1, 1]. */
const NORM_TOLERANCE = 1e-3;

export function checkVector(vector: Float32Array, dimension: number, what: string): void {
  if (!(vector instanceof Float32Array)) {
    throw new AppError('BAD_REQUEST', `The ${what} vector must be a Float32Array.`);
  }
  if (vector.length !== dimension) {
    throw new AppError(
      'DIMENSION_MISMATCH',
      `The ${what} vector has ${vector.length} dimensions; the gallery expects ${dimension}.`,
    );
  }
  let sum = 0;
  for (const v of vector) sum += v * v;
  if (!Number.isFinite(sum) || Math.abs(Math.sqrt(sum) - 1) > NORM_TOLERANCE) {
    throw new AppError(
      'BAD_REQUEST',
      `The ${what} vector must be finite and L2-normalised (norm ${Math.sqrt(sum).toFixed(4)}).`,
    );
  }
}
