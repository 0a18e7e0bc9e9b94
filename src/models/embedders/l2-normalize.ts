/**
 * Scales a vector to unit length (a new array), so that inner product = cosine. This is the one
 * place embeddings are normalised; only `OnnxEmbedder.embed` calls it. A zero vector stays zero.
 *
 * Thresholds for the face pack: face-api compares raw descriptors with Euclidean distance, 0.6
 * being its usual "same person" limit. For unit vectors d^2 = 2 - 2 cos; raw face descriptors have
 * norms of about 1.39 - 1.46 (models/face/README.md). With both norms equal to n, raw distance 0.6
 * is unit distance 0.6 / n, i.e. cos = 1 - (0.6 / n)^2 / 2: 0.908 at n = 1.4, 0.914 at n = 1.45,
 * hence the face pack's default cosine threshold of 0.91.
 */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const v of vector) sum += v * v;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}
