import type { RgbImage } from '../core/types.js';
import { toTensor } from '../imaging/tensor.js';
import type { ModelManifest } from '../inference/model-manifest.js';
import type { InputTensor } from '../inference/onnx-session.js';
import { extraFeeds } from './decoders/extra-inputs.js';

/**
 * The complete feeds of a model for some images, built as the service builds them: the image
 * tensor from the manifest's preprocessing plus any derived inputs (scale factors, masks).
 */
export async function modelFeeds(manifest: ModelManifest, images: readonly RgbImage[]): Promise<Record<string, InputTensor>> {
  const tensor = await toTensor(images, manifest.input);
  return { [manifest.input.name]: { data: tensor.data, dims: tensor.dims }, ...extraFeeds(manifest.input, tensor.transforms) };
}

/** A mid-grey image: what a model is warmed up or probed with. */
export function greyImage(width = 64, height = 64): RgbImage {
  return { data: Buffer.alloc(width * height * 3, 128), width, height };
}
