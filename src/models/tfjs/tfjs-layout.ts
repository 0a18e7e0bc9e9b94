/**
 * TensorFlow keeps activations NHWC and filters HWIO; ONNX Conv wants NCHW and OIHW. The importer
 * keeps every 4-D activation NCHW, so these helpers move axes and weights across.
 */

/** NCHW position of each NHWC axis: N -> 0, H -> 2, W -> 3, C -> 1. */
const NHWC_TO_NCHW = [0, 2, 3, 1] as const;

/** Maps a (possibly negative) NHWC axis of a 4-D tensor to its NCHW axis. */
export function nchwAxis(axis: number): number {
  const a = axis < 0 ? axis + 4 : axis;
  if (a < 0 || a > 3) throw new Error(`axis ${axis} is outside a 4-D tensor`);
  return NHWC_TO_NCHW[a]!;
}

export interface DenseArray<T extends Float32Array | Int32Array = Float32Array | Int32Array> {
  data: T;
  dims: number[];
}

/** TF conv filter [kh, kw, in, out] (HWIO) to ONNX Conv weight [out, in, kh, kw] (OIHW). */
export function hwioToOihw(data: Float32Array, shape: readonly number[]): DenseArray<Float32Array> {
  const [kh, kw, cin, cout] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const from = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = data[from + o]!;
      }
    }
  }
  return { data: out, dims: [cout, cin, kh, kw] };
}

/**
 * TF depthwise filter [kh, kw, C, M] to an ONNX grouped Conv weight [C * M, 1, kh, kw] with
 * group = C: TF's output channel c * M + m reads input channel c, as does ONNX's group c.
 */
export function depthwiseToOihw(data: Float32Array, shape: readonly number[]): DenseArray<Float32Array> {
  const [kh, kw, channels, multiplier] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let c = 0; c < channels; c++) {
        for (let m = 0; m < multiplier; m++) {
          out[((c * multiplier + m) * kh + y) * kw + x] = data[((y * kw + x) * channels + c) * multiplier + m]!;
        }
      }
    }
  }
  return { data: out, dims: [channels * multiplier, 1, kh, kw] };
}

/**
 * A constant that broadcasts against an NHWC activation, rewritten to broadcast the same way
 * against the NCHW one: left-padded to rank 4 ([a, b, c, d] as N, H, W, C), then transposed to
 * [a, d, b, c]. Scalars stay scalars.
 */
export function broadcastToNchw<T extends Float32Array | Int32Array>(data: T, shape: readonly number[]): DenseArray<T> {
  if (shape.length === 0) return { data, dims: [] };
  if (shape.length > 4) throw new Error(`a rank-${shape.length} constant cannot broadcast against a 4-D activation`);
  const [a, b, c, d] = [...Array(4 - shape.length).fill(1), ...shape] as [number, number, number, number];
  const out = data.slice() as T;
  for (let n = 0; n < a; n++) {
    for (let h = 0; h < b; h++) {
      for (let w = 0; w < c; w++) {
        for (let ch = 0; ch < d; ch++) out[((n * d + ch) * b + h) * c + w] = data[((n * b + h) * c + w) * d + ch]!;
      }
    }
  }
  return { data: out, dims: [a, d, b, c] };
}
