import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareModels } from '../../src/cli/prepare-models.js';
import type { Box, Detector, RgbImage } from '../../src/core/types.js';
import { loadModelManifest, type DetectorManifest, type EmbedderManifest, type LoadedModelManifest } from '../../src/inference/model-manifest.js';
import { OnnxEmbedder } from '../../src/models/embedders/onnx-embedder.js';
import { SsdFaceDetector } from '../../src/models/face/ssd-face-detector.js';
import { TinyFaceDetector } from '../../src/models/face/tiny-face-detector.js';

/**
 * Parity of the ONNX rebuilds with face-api itself: golden outputs made by
 * scripts/generate-face-golden.mjs (face-api 1.7.15 on pure-JS tfjs) on the same pixels.
 */
const root = resolve(import.meta.dirname, '../..');
const modelsDir = join(root, 'models');
const packDir = join(modelsDir, 'face');
const goldenDir = join(root, 'test/fixtures/golden');
const photosDir = join(root, 'test/fixtures/photos');

interface GoldenImage {
  file: string;
  width: number;
  height: number;
  detections: { box: Box; score: number }[];
}
interface Golden {
  faceApiVersion: string;
  embedder: { input: string; descriptor: number[] };
  ssd: { minConfidence: number; maxResults: number; images: GoldenImage[] };
  tiny: { inputSize: number; scoreThreshold: number; images: GoldenImage[] };
}

async function readRgb(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function loadDetector<M>(file: string): Promise<LoadedModelManifest<M & DetectorManifest>> {
  return (await loadModelManifest(join(packDir, file))) as LoadedModelManifest<M & DetectorManifest>;
}

/** face-api clamps to the padded square, the detectors clamp to the image: compare clamped. */
const clampToImage = (box: Box, w: number, h: number): Box => [
  Math.min(Math.max(box[0], 0), w),
  Math.min(Math.max(box[1], 0), h),
  Math.min(Math.max(box[2], 0), w),
  Math.min(Math.max(box[3], 0), h),
];

async function expectDetectorParity(detector: Detector, images: GoldenImage[], options: { minScore: number; maxDetections: number }) {
  for (const golden of images) {
    const image = await readRgb(join(photosDir, golden.file));
    expect([image.width, image.height]).toEqual([golden.width, golden.height]);
    const found = await detector.detect(image, options);
    expect(found.length, golden.file).toBe(golden.detections.length);
    golden.detections.forEach((want, i) => {
      const got = found[i]!;
      const wantBox = clampToImage(want.box, golden.width, golden.height);
      got.box.forEach((v, k) => expect(Math.abs(v - wantBox[k]!), `${golden.file} box[${k}]`).toBeLessThanOrEqual(1));
      expect(Math.abs(got.score - want.score), `${golden.file} score`).toBeLessThanOrEqual(1e-3);
    });
  }
}

describe('face models match face-api', () => {
  let golden: Golden;
  const disposers: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    golden = JSON.parse(await readFile(join(goldenDir, 'face-golden.json'), 'utf8')) as Golden;
    await prepareModels({ modelsDir });
  }, 120_000);

  afterAll(async () => {
    for (const dispose of disposers) await dispose();
  });

  it('golden fixture comes from the face-api version the models are built from', async () => {
    const manifest = await loadModelManifest(join(packDir, 'face-recognition-resnet.json'));
    expect(golden.faceApiVersion).toBe(manifest.manifest.source.version);
  });

  it('embedder: raw descriptor within 1e-4 of face-api on the 150x150 crop', async () => {
    const model = (await loadModelManifest(join(packDir, 'face-recognition-resnet.json'))) as LoadedModelManifest<EmbedderManifest>;
    const embedder = new OnnxEmbedder(model);
    await embedder.init();
    disposers.push(() => embedder.dispose());
    const crop = await readRgb(join(goldenDir, golden.embedder.input));
    expect([crop.width, crop.height]).toEqual([150, 150]);
    const [raw] = await embedder.embedRaw([crop]);
    expect(raw!.length).toBe(golden.embedder.descriptor.length);
    const maxDiff = Math.max(...golden.embedder.descriptor.map((v, i) => Math.abs(v - raw![i]!)));
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('SSD MobileNetV1: same detections, boxes within 1 px, scores within 1e-3', async () => {
    const detector = new SsdFaceDetector(await loadDetector('ssd-mobilenetv1-face.json'));
    await detector.init();
    disposers.push(() => detector.dispose());
    await expectDetectorParity(detector, golden.ssd.images, {
      minScore: golden.ssd.minConfidence,
      maxDetections: golden.ssd.maxResults,
    });
  });

  it('Tiny Face Detector: same detections, boxes within 1 px, scores within 1e-3', async () => {
    const model = await loadDetector('tiny-face-detector.json');
    expect(model.manifest.input.width).toBe(golden.tiny.inputSize);
    const detector = new TinyFaceDetector(model);
    await detector.init();
    disposers.push(() => detector.dispose());
    await expectDetectorParity(detector, golden.tiny.images, { minScore: golden.tiny.scoreThreshold, maxDetections: 100 });
  });
});
