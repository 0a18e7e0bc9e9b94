import { join } from 'node:path';
import { importTfjsGraph, convertTfjsGraph } from '../tfjs/tfjs-graph-importer.js';
import { readTfjsGraphModel, type TfjsGraphModel } from '../tfjs/tfjs-graph-model.js';

/**
 * How each ONNX file of the objects pack is made from the COCO CenterNet (MobileNetV3) that
 * @vladmandic/human ships as a TFJS graph model. Offline and deterministic: same package, same
 * bytes.
 */

export const HUMAN_PACKAGE = '@vladmandic/human';
export const CENTERNET_MODEL = 'models/centernet.json';

const INPUT = 'tower_0/images';
const PRODUCER = { producer: 'spotter-tfjs-import', version: '1' };

/** Backbone tensor the embedder pools: the last stride-16 block of MobileNetV3 (88 channels). */
export const EMBEDDER_FEATURE = 'tower_0/MobilenetV3/expanded_conv_11/add';
export const EMBEDDER_CHANNELS = 88;
export const EMBEDDER_INPUT_SIZE = 256;

export interface ObjectsModelBuild {
  /** ONNX file name inside the pack folder. */
  file: string;
  /** TFJS graph model inside the package folder. */
  model: string;
  build(model: TfjsGraphModel): Uint8Array;
}

/** The detector up to its two head outputs; the decode tail (TopK, Gather) is done in TypeScript. */
export function buildCenternetDetector(model: TfjsGraphModel): Uint8Array {
  return importTfjsGraph(model, {
    graphName: 'centernet-mobilenetv3-coco',
    inputs: [{ name: INPUT, onnxName: 'images', shape: [1, 512, 512, 3] }],
    outputs: [
      { name: 'tower_0/keypoints', onnxName: 'heatmap', dims: [1, 80, 128, 128] },
      { name: 'tower_0/wh', onnxName: 'wh', dims: [1, 4, 128, 128] },
    ],
    ...PRODUCER,
    doc: 'CenterNet (MobileNetV3) COCO detector of @vladmandic/human, imported from its TFJS graph model. Input NCHW RGB 0..255.',
  });
}

/**
 * The backbone up to a stride-16 block, average-pooled to one vector per image. Any batch size;
 * the input size is free too (fully convolutional), the manifest fixes it.
 */
export function buildBackboneEmbedder(model: TfjsGraphModel): Uint8Array {
  const { builder: g, values } = convertTfjsGraph(model, {
    graphName: 'centernet-mobilenetv3-backbone-embedder',
    inputs: [{ name: INPUT, onnxName: 'images', shape: ['N', EMBEDDER_INPUT_SIZE, EMBEDDER_INPUT_SIZE, 3] }],
    outputs: [{ name: EMBEDDER_FEATURE }],
  });
  const feature = values.get(EMBEDDER_FEATURE)!;
  const pooled = g.op('GlobalAveragePool', [feature.name]);
  g.op('Flatten', [pooled], { axis: 1 }, 'embedding');
  g.output('embedding', ['N', EMBEDDER_CHANNELS]);
  return g.toBytes({
    ...PRODUCER,
    doc: `MobileNetV3 backbone of the CenterNet detector of @vladmandic/human up to ${EMBEDDER_FEATURE}, global average pooled. Input NCHW RGB 0..255.`,
  });
}

export const OBJECTS_MODEL_BUILDS: readonly ObjectsModelBuild[] = [
  { file: 'centernet-mobilenetv3.onnx', model: CENTERNET_MODEL, build: buildCenternetDetector },
  { file: 'centernet-backbone-embedder.onnx', model: CENTERNET_MODEL, build: buildBackboneEmbedder },
];

/** Builds one model's bytes from the human package folder. */
export async function buildObjectsModel(build: ObjectsModelBuild, humanDir: string): Promise<Uint8Array> {
  return build.build(await readTfjsGraphModel(join(humanDir, build.model)));
}
