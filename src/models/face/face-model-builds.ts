import { join } from 'node:path';
import { readFaceApiWeights, type WeightMap } from './face-api-weights.js';
import { buildFaceResnetGraph } from './face-resnet-graph.js';
import { buildSsdMobilenetGraph } from './ssd-mobilenet-graph.js';
import { buildTinyFaceGraph } from './tiny-face-graph.js';

/** How each ONNX file of the face pack is made from @vladmandic/face-api's shipped weights. */
export interface FaceModelBuild {
  /** ONNX file name inside the pack folder. */
  file: string;
  /** Weights manifest inside node_modules/@vladmandic/face-api/model. */
  weights: string;
  build(weights: WeightMap): Uint8Array;
}

export const FACE_API_PACKAGE = '@vladmandic/face-api';

export const FACE_MODEL_BUILDS: readonly FaceModelBuild[] = [
  { file: 'ssd-mobilenetv1-face.onnx', weights: 'ssd_mobilenetv1_model-weights_manifest.json', build: buildSsdMobilenetGraph },
  { file: 'tiny-face-detector.onnx', weights: 'tiny_face_detector_model-weights_manifest.json', build: (w) => buildTinyFaceGraph(w) },
  { file: 'face-recognition-resnet.onnx', weights: 'face_recognition_model-weights_manifest.json', build: buildFaceResnetGraph },
];

/** Builds one model's bytes from the face-api package folder (offline, deterministic). */
export async function buildFaceModel(build: FaceModelBuild, faceApiDir: string): Promise<Uint8Array> {
  const weights = await readFaceApiWeights(join(faceApiDir, 'model', build.weights));
  return build.build(weights);
}
