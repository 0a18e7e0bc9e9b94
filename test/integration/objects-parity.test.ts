import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareModels } from '../../src/cli/prepare-models.js';
import type { RgbImage } from '../../src/core/types.js';
import { toTensor } from '../../src/imaging/tensor.js';
import { openModel, type OpenedModel } from '../../src/inference/model-loader.js';
import { loadModelManifest, type DetectorManifest, type LoadedModelManifest } from '../../src/inference/model-manifest.js';
import { CenternetDetector } from '../../src/models/objects/centernet-detector.js';
import { decodeCenternet } from '../../src/models/objects/centernet-decode.js';
import { buildObjectsModel, HUMAN_PACKAGE, OBJECTS_MODEL_BUILDS } from '../../src/models/objects/objects-model-builds.js';

/**
 * Parity of the ONNX import of human's CenterNet with the TFJS graph model itself: golden outputs
 * made by scripts/generate-objects-golden.mjs (tfjs 4.22, cpu backend) on the same pixels.
 */
const root = resolve(import.meta.dirname, '../..');
const packDir = join(root, 'models', 'objects');
const humanDir = join(root, 'node_modules', HUMAN_PACKAGE);

interface GoldenImage {
  file: string;
  width: number;
  height: number;
  heatmap: { max: number; classMax: string; stride: number; sample: string };
  wh: { stride: number; sample: string };
  detections: number[][];
  embedding: number[];
}
interface Golden {
  humanVersion: string;
  images: GoldenImage[];
}

const floats = (base64: string) => {
  const bytes = Buffer.from(base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};

async function readRgb(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Value `i` of an NHWC [1, H, W, C] tensor, read from the NCHW [1, C, H, W] one. */
const nhwcAt = (nchw: Float32Array, channels: number, cells: number, i: number) => nchw[(i % channels) * cells + Math.floor(i / channels)]!;

describe('objects pack models match the TFJS graph model', () => {
  let golden: Golden;
  let detectorModel: OpenedModel;
  let embedderModel: OpenedModel;

  beforeAll(async () => {
    golden = JSON.parse(await readFile(join(root, 'test/fixtures/golden/objects-golden.json'), 'utf8')) as Golden;
    await prepareModels({ modelsDir: join(root, 'models'), packs: ['objects'] });
    detectorModel = await openModel(join(packDir, 'centernet-mobilenetv3.json'), { intraOpThreads: 2 });
    embedderModel = await openModel(join(packDir, 'centernet-backbone-embedder.json'), { intraOpThreads: 2 });
  }, 120_000);

  afterAll(async () => {
    await detectorModel?.session.dispose();
    await embedderModel?.session.dispose();
  });

  it('golden fixture comes from the human version the models are built from', async () => {
    const version = (JSON.parse(await readFile(join(humanDir, 'package.json'), 'utf8')) as { version: string }).version;
    expect(golden.humanVersion).toBe(version);
  });

  it('heatmap within 1e-4 and wh within 0.01 px of tfjs, and decodes to tfjs detections', async () => {
    for (const image of golden.images) {
      const rgb = await readRgb(join(root, 'test/fixtures/photos', image.file));
      const { input } = detectorModel.manifest;
      const tensor = await toTensor([rgb], input);
      const out = await detectorModel.session.run({ [input.name]: { data: tensor.data, dims: tensor.dims } });
      const heatmap = out.heatmap!;
      const wh = out.wh!;
      expect(heatmap.dims).toEqual([1, 80, 128, 128]);
      const cells = 128 * 128;
      let worst = 0;
      floats(image.heatmap.classMax).forEach((want, cell) => {
        let best = -Infinity;
        for (let c = 0; c < 80; c++) best = Math.max(best, heatmap.data[c * cells + cell]!);
        worst = Math.max(worst, Math.abs(best - want));
      });
      floats(image.heatmap.sample).forEach((want, k) => {
        worst = Math.max(worst, Math.abs(nhwcAt(heatmap.data, 80, cells, k * image.heatmap.stride) - want));
      });
      expect(worst, `${image.file} heatmap`).toBeLessThanOrEqual(1e-4);
      let worstWh = 0;
      floats(image.wh.sample).forEach((want, k) => {
        worstWh = Math.max(worstWh, Math.abs(nhwcAt(wh.data, 4, cells, k * image.wh.stride) - want));
      });
      expect(worstWh, `${image.file} wh`).toBeLessThanOrEqual(0.01);

      // The graph's own tail (3x3 peaks, TopK 100, boxes from wh), per class as TF does it.
      const decoded = decodeCenternet(heatmap, wh, 4, { minScore: 0, maxCandidates: 100, classAgnostic: false });
      expect(decoded).toHaveLength(100);
      decoded.forEach((d, i) => {
        const [x1, y1, x2, y2, score, classId] = image.detections[i]!;
        expect(d.classId, `${image.file} #${i}`).toBe(classId);
        expect(Math.abs(d.score - score!), `${image.file} #${i} score`).toBeLessThanOrEqual(1e-4);
        d.box.forEach((v, k) => expect(Math.abs(v - [x1, y1, x2, y2][k]!), `${image.file} #${i} box`).toBeLessThanOrEqual(0.01));
      });
    }
  });

  it('embedder output matches the pooled tfjs backbone feature', async () => {
    for (const image of golden.images) {
      const rgb = await readRgb(join(root, 'test/fixtures/photos', image.file));
      const { input, embedding } = embedderModel.manifest.kind === 'embedder' ? embedderModel.manifest : (undefined as never);
      // The golden resized with tf.image.resizeBilinear; the pack itself resizes crops with sharp.
      const tensor = await toTensor([rgb], { ...input, interpolation: 'tf-bilinear' });
      const out = (await embedderModel.session.run({ [input.name]: { data: tensor.data, dims: tensor.dims } }))[embedding.output]!;
      expect(out.dims).toEqual([1, 88]);
      const worst = Math.max(...image.embedding.map((want, i) => Math.abs(out.data[i]! - want)));
      expect(worst, image.file).toBeLessThanOrEqual(1e-4);
    }
  });

  it('the detector reports class-agnostic boxes inside the image with COCO hints', async () => {
    const loaded = (await loadModelManifest(join(packDir, 'centernet-mobilenetv3.json'))) as LoadedModelManifest<DetectorManifest>;
    const detector = new CenternetDetector(loaded, { intraOpThreads: 2 });
    await detector.init();
    try {
      const rgb = await readRgb(join(root, 'test/fixtures/photos/coffee.png'));
      const found = await detector.detect(rgb, { minScore: 0.2 });
      expect(found.length).toBeGreaterThan(0);
      expect(found[0]!.className).toBe('cup');
      expect(found[0]!.score).toBeCloseTo(0.4583, 3);
      for (const d of found) {
        expect(d.score).toBeGreaterThan(0.2);
        expect(d.box[0]).toBeGreaterThanOrEqual(0);
        expect(d.box[2]).toBeLessThanOrEqual(rgb.width);
        expect(d.box[3]).toBeLessThanOrEqual(rgb.height);
      }
      for (let i = 1; i < found.length; i++) expect(found[i]!.score).toBeLessThanOrEqual(found[i - 1]!.score);
    } finally {
      await detector.dispose();
    }
  });

  it('builds are deterministic and match the manifests', async () => {
    for (const build of OBJECTS_MODEL_BUILDS) {
      const first = createHash('sha256').update(await buildObjectsModel(build, humanDir)).digest('hex');
      const second = createHash('sha256').update(await buildObjectsModel(build, humanDir)).digest('hex');
      expect(second, build.file).toBe(first);
      const manifestFile = build.file.replace(/\.onnx$/, '.json');
      const manifest = JSON.parse(await readFile(join(packDir, manifestFile), 'utf8')) as { sha256: string };
      expect(manifest.sha256, build.file).toBe(first);
    }
  });
});
