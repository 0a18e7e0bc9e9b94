import type { InputTransform } from '../../imaging/tensor.js';
import type { ExtraInput, ModelInput } from '../../inference/model-manifest.js';
import type { FeedData, InputTensor } from '../../inference/onnx-session.js';

function typed(values: number[], type: ExtraInput['type']): FeedData {
  if (type === 'float32') return Float32Array.from(values);
  if (type === 'int32') return Int32Array.from(values, Math.round);
  return BigInt64Array.from(values, (v) => BigInt(Math.round(v)));
}

/** PaddleDetection's scale_factor for one image: [input h / source h, input w / source w]. */
export function scaleFactorOf(t: InputTransform): [number, number] {
  return [1 / t.scaleY, 1 / t.scaleX];
}

/** The declared extra inputs that the model has (optional ones may be absent). */
export function presentExtras(input: ModelInput, modelInputs: readonly string[]): ExtraInput[] {
  return (input.extraInputs ?? []).filter((e) => modelInputs.includes(e.name));
}

/**
 * The non-image inputs of a batch, computed from the transforms of its images: scale_factor
 * and im_shape [N, 2] as PaddleDetection exports expect, pixel_mask [N, H, W] of ones as DETR
 * exports expect. `extras` defaults to all declared ones; pass presentExtras() for a given model.
 */
export function extraFeeds(
  input: ModelInput,
  transforms: readonly InputTransform[],
  extras: readonly ExtraInput[] = input.extraInputs ?? [],
): Record<string, InputTensor> {
  const feeds: Record<string, InputTensor> = {};
  const n = transforms.length;
  for (const extra of extras) {
    let values: number[];
    let dims: number[];
    if (extra.value === 'scale-factor') {
      values = transforms.flatMap(scaleFactorOf);
      dims = [n, 2];
    } else if (extra.value === 'im-shape') {
      values = transforms.flatMap(() => [input.height, input.width]);
      dims = [n, 2];
    } else {
      values = new Array<number>(n * input.height * input.width).fill(1);
      dims = [n, input.height, input.width];
    }
    feeds[extra.name] = { data: typed(values, extra.type), dims };
  }
  return feeds;
}
