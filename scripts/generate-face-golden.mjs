// Writes test/fixtures/golden/face-golden.json (and face-crop-150.png): reference outputs of
// @vladmandic/face-api itself on pure-JS tfjs ('cpu' backend), for parity tests of the ONNX
// rebuilds of its networks. Run once with `node scripts/generate-face-golden.mjs`; takes about a
// minute on 2 cores. Needs only dev dependencies (@tensorflow/tfjs) plus face-api and sharp.
import Module, { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const photosDir = path.join(root, 'test/fixtures/photos');
const goldenDir = path.join(root, 'test/fixtures/golden');
const faceApiDir = path.join(root, 'node_modules/@vladmandic/face-api');
const modelDir = path.join(faceApiDir, 'model');
const cropFile = 'face-crop-150.png';
// PNG only: lossless, so every decoder sees the same pixels.
const images = ['astronaut.png', 'coffee.png', 'chelsea.png'];
const ssdOptions = { minConfidence: 0.5, maxResults: 100 };
const tinyOptions = { inputSize: 416, scoreThreshold: 0.5 };

// The CommonJS node-wasm bundle is the one that loads in Node without tfjs-node, but it also
// requires the wasm backend, which is not installed and not used here: hand it an empty module.
const require = createRequire(import.meta.url);
const originalLoad = Module._load;
Module._load = function load(request, ...rest) {
  if (request === '@tensorflow/tfjs-backend-wasm') return {};
  return originalLoad.call(this, request, ...rest);
};
const faceapi = require(path.join(faceApiDir, 'dist/face-api.node-wasm.js'));
Module._load = originalLoad;
const { tf } = faceapi;
const faceApiVersion = require(path.join(faceApiDir, 'package.json')).version;

async function readRgb(file) {
  const { data, info } = await sharp(file)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected 3 channels, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

// face-api casts its input to float32 anyway; feeding float32 keeps the uint8 values exact.
function toTensor(rgb) {
  return tf.tensor3d(Float32Array.from(rgb.data), [rgb.height, rgb.width, 3], 'float32');
}

function toGolden(detections) {
  return detections.map((d) => ({
    box: [d.box.x, d.box.y, d.box.x + d.box.width, d.box.y + d.box.height],
    score: d.score,
  }));
}

async function detectAll(rgbs, detect) {
  const results = [];
  for (const [file, rgb] of rgbs) {
    const input = toTensor(rgb);
    const started = performance.now();
    const detections = await detect(input);
    input.dispose();
    const ms = performance.now() - started;
    console.log(`  ${file}: ${detections.length} face(s) in ${ms.toFixed(0)} ms`);
    results.push({ file, width: rgb.width, height: rgb.height, detections: toGolden(detections) });
  }
  return results;
}

// A square around the face box, 20% larger than its longer side, clamped to the image.
function cropRegion([x1, y1, x2, y2], width, height) {
  const side = Math.min(Math.round(Math.max(x2 - x1, y2 - y1) * 1.2), width, height);
  const left = Math.min(Math.max(Math.round((x1 + x2) / 2 - side / 2), 0), width - side);
  const top = Math.min(Math.max(Math.round((y1 + y2) / 2 - side / 2), 0), height - side);
  return { left, top, width: side, height: side };
}

async function main() {
  const started = performance.now();
  await tf.setBackend('cpu');
  await tf.ready();
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);

  const rgbs = [];
  for (const file of images) rgbs.push([file, await readRgb(path.join(photosDir, file))]);

  console.log('ssdMobilenetv1', ssdOptions);
  const ssdImages = await detectAll(rgbs, (input) =>
    faceapi.detectAllFaces(input, new faceapi.SsdMobilenetv1Options(ssdOptions)));
  console.log('tinyFaceDetector', tinyOptions);
  const tinyImages = await detectAll(rgbs, (input) =>
    faceapi.detectAllFaces(input, new faceapi.TinyFaceDetectorOptions(tinyOptions)));

  const astronaut = ssdImages.find((image) => image.file === 'astronaut.png');
  if (astronaut?.detections.length !== 1) throw new Error('expected exactly one face in astronaut.png');
  await mkdir(goldenDir, { recursive: true });
  const cropPath = path.join(goldenDir, cropFile);
  await sharp(path.join(photosDir, 'astronaut.png'))
    .removeAlpha()
    .extract(cropRegion(astronaut.detections[0].box, astronaut.width, astronaut.height))
    .resize(150, 150)
    .png()
    .toFile(cropPath);

  // Read the PNG back so the descriptor is computed on exactly the stored pixels.
  const crop = await readRgb(cropPath);
  if (crop.width !== 150 || crop.height !== 150) throw new Error('crop is not 150x150');
  const cropTensor = toTensor(crop);
  const embedStarted = performance.now();
  const descriptor = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(cropTensor);
  cropTensor.dispose();
  console.log(`faceRecognitionNet: descriptor in ${(performance.now() - embedStarted).toFixed(0)} ms`);

  const golden = {
    generator: 'scripts/generate-face-golden.mjs',
    faceApiVersion,
    tfjsVersion: tf.version.tfjs,
    backend: tf.getBackend(),
    embedder: { input: cropFile, descriptor: Array.from(descriptor) },
    ssd: { ...ssdOptions, images: ssdImages },
    tiny: { ...tinyOptions, images: tinyImages },
  };
  const jsonPath = path.join(goldenDir, 'face-golden.json');
  await writeFile(jsonPath, `${JSON.stringify(golden, null, 2)}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`wrote ${path.relative(root, jsonPath)} and ${path.relative(root, cropPath)} in ${seconds} s`);
}

await main();
