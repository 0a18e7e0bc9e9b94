/**
 * The stored form of an image's ORB features, kept per gallery entry in the database, so its
 * layout never changes: 'ORB1', count, width, height (uint32 little-endian), count (x, y) float32
 * pairs, count 32-byte descriptors.
 */

export interface OrbFeatures {
  count: number;
  /** Size of the grey image the keypoints were found in. */
  width: number;
  height: number;
  /** x, y of each keypoint, interleaved. */
  points: Float32Array;
  /** DESCRIPTOR_BYTES per keypoint. */
  descriptors: Uint8Array;
}

const MAGIC = 0x3142524f; // 'ORB1' little-endian
const HEADER = 16;
export const DESCRIPTOR_BYTES = 32;

export function encodeFeatures(f: OrbFeatures): Uint8Array {
  const bytes = new Uint8Array(HEADER + f.count * 8 + f.count * DESCRIPTOR_BYTES);
  const view = new DataView(bytes.buffer);
  [MAGIC, f.count, f.width, f.height].forEach((v, i) => view.setUint32(i * 4, v, true));
  for (let i = 0; i < f.count * 2; i++) view.setFloat32(HEADER + i * 4, f.points[i]!, true);
  bytes.set(f.descriptors.subarray(0, f.count * DESCRIPTOR_BYTES), HEADER + f.count * 8);
  return bytes;
}

/** Checks a record and copies it out: the arrays returned share no memory with `bytes`. */
export function decodeFeatures(bytes: Uint8Array): OrbFeatures {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER || view.getUint32(0, true) !== MAGIC) throw new Error('orb features: not an ORB1 record');
  const [count, width, height] = [4, 8, 12].map((at) => view.getUint32(at, true)) as [number, number, number];
  if (bytes.byteLength !== HEADER + count * (8 + DESCRIPTOR_BYTES)) throw new Error(`orb features: ${bytes.byteLength} bytes for ${count} keypoints`);
  const points = new Float32Array(count * 2);
  for (let i = 0; i < count * 2; i++) points[i] = view.getFloat32(HEADER + i * 4, true);
  return { count, width, height, points, descriptors: bytes.slice(HEADER + count * 8) };
}
