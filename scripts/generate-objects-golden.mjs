// Writes test/fixtures/golden/objects-golden.json: reference outputs of the COCO CenterNet
// (MobileNetV3) TFJS graph model of @vladmandic/human, run by pure-JS @tensorflow/tfjs ('cpu'
// backend), for the parity tests of its ONNX import. Run with
// `node scripts/generate-objects-golden.mjs`; about 30 s on 2 cores. Needs only dev dependencies
// (@tensorflow/tfjs), @vladmandic/human (for the model files) and sharp. No network.
import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const photosDir = path.join(root, 'test/fixtures/photos');
const goldenPath = path.join(root, 'test/fixtures/golden/objects-golden.json');
const humanDir = path.join(root, 'node_modules/@vladmandic/human');
const modelJson = path.join(humanDir, 'models/centernet.json');
// PNG only: lossless, so every decoder sees the same pixels.
const images = ['box_in_scene.png', 'coffee.png'];
const embedderFeature = 'tower_0/MobilenetV3/expanded_conv_11/add';
const embedderSize = 256;
// Every n-th value of the full heatmap and wh (prime strides walk through all channels).
const heatmapStride = 61;
const whStride = 17;

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs');
const humanVersion = require(path.join(humanDir, 'package.json')).version;

/** Little-endian float32 values as base64, to keep the fixture small and exact. */
const toBase64 = (values) => Buffer.from(Float32Array.from(values).buffer).toString('base64');

async function readRgb(file) {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

/** Loads the graph model from disk without tfjs-node; the input's size is left free. */
async function loadModel() {
  const json = JSON.parse(await readFile(modelJson, 'utf8'));
  const weightData = await readFile(path.join(path.dirname(modelJson), json.weightsManifest[0].paths[0]));
  for (const node of json.modelTopology.node) {
    if (node.op === 'Placeholder') for (const dim of node.attr.shape.shape.dim.slice(1, 3)) dim.size = '-1';
  }
  delete json.signature.inputs['tower_0/images'].tensorShape;
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    }),
  };
  return tf.loadGraphModel(handler);
}

function stats(values) {
  let max = -Infinity;
  let argmax = -1;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (values[i] > max) [max, argmax] = [values[i], i];
  }
  return { max, argmax, mean: sum / values.length };
}

async function goldenFor(model, file) {
  const rgb = await readRgb(path.join(photosDir, file));
  const image = tf.tensor4d(Float32Array.from(rgb.data), [1, rgb.height, rgb.width, 3], 'float32');
  // tf.image.resizeBilinear with alignCorners = false, halfPixelCenters = false, as human does.
  const input = tf.image.resizeBilinear(image, [512, 512]);
  let started = performance.now();
  const [keypoints, wh, detections] = await model.executeAsync(input, ['tower_0/keypoints', 'tower_0/wh', 'tower_0/detections']);
  console.log(`  ${file}: detector in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const heat = await keypoints.data(); // [1, 128, 128, 80], NHWC
  const classMax = new Float32Array(128 * 128);
  for (let cell = 0; cell < classMax.length; cell++) {
    let best = -Infinity;
    for (let c = 0; c < 80; c++) best = Math.max(best, heat[cell * 80 + c]);
    classMax[cell] = best;
  }
  const whValues = await wh.data();
  const pick = (values, stride) => Array.from({ length: Math.ceil(values.length / stride) }, (_, k) => values[k * stride]);

  const small = tf.image.resizeBilinear(image, [embedderSize, embedderSize]);
  started = performance.now();
  const feature = await model.executeAsync(small, embedderFeature);
  const pooled = await tf.mean(feature, [1, 2]).data();
  console.log(`  ${file}: backbone at ${embedderSize} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const result = {
    file,
    width: rgb.width,
    height: rgb.height,
    heatmap: { ...stats(heat), classMax: toBase64(classMax), stride: heatmapStride, sample: toBase64(pick(heat, heatmapStride)) },
    wh: { ...stats(whValues), stride: whStride, sample: toBase64(pick(whValues, whStride)) },
    detections: Array.from({ length: 100 }, (_, i) => Array.from(detections.dataSync().slice(i * 6, i * 6 + 6))),
    embedding: Array.from(pooled),
  };
  tf.dispose([image, input, keypoints, wh, detections, small, feature]);
  return result;
}

async function main() {
  const started = performance.now();
  await tf.setBackend('cpu');
  await tf.ready();
  const model = await loadModel();
  const results = [];
  for (const file of images) results.push(await goldenFor(model, file));
  const golden = {
    generator: 'scripts/generate-objects-golden.mjs',
    humanVersion,
    tfjsVersion: tf.version.tfjs,
    backend: tf.getBackend(),
    model: 'models/centernet.json',
    layout: 'heatmap and wh samples are of the NHWC tensors [1, 128, 128, C], every stride-th value from 0',
    embedder: { feature: embedderFeature, inputSize: embedderSize, pooling: 'mean over H and W of the whole image resized with tf-bilinear' },
    images: results,
  };
  await writeFile(goldenPath, `${JSON.stringify(golden)}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`wrote ${path.relative(root, goldenPath)} in ${seconds} s`);
}

await main();
