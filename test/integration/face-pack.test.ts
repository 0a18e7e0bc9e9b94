import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareModels } from '../../src/cli/prepare-models.js';
import type { Pack, RgbImage } from '../../src/core/types.js';
import { cropImage } from '../../src/imaging/crop.js';
import { loadModelManifest } from '../../src/inference/model-manifest.js';
import { buildFaceModel, FACE_API_PACKAGE, FACE_MODEL_BUILDS } from '../../src/models/face/face-model-builds.js';
import { listPacks, loadPack } from '../../src/models/pack-loader.js';

const root = resolve(import.meta.dirname, '../..');
const modelsDir = join(root, 'models');
const photosDir = join(root, 'test/fixtures/photos');

async function readRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The same pixels through sharp again (e.g. blurred, re-encoded), decoded back to RGB. */
async function transformed(image: RgbImage, edit: (s: Sharp) => Sharp): Promise<RgbImage> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  return readRgb(await edit(sharp(image.data, { raw })).png().toBuffer());
}

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(cosine(a, a));

describe('face pack (real models, onnxruntime, sharp)', () => {
  let pack: Pack;
  let astronaut: RgbImage;

  beforeAll(async () => {
    await prepareModels({ modelsDir });
    pack = await loadPack(modelsDir, 'face', { warmUp: true });
    astronaut = await readRgb(join(photosDir, 'astronaut.png'));
  }, 120_000);

  afterAll(async () => {
    await pack?.detector.dispose();
    await pack?.embedder.dispose();
  });

  it('is listed and loads with its defaults', async () => {
    expect(await listPacks(modelsDir)).toContain('face');
    expect(pack.name).toBe('face');
    expect(pack.embedder.dimension).toBe(128);
    expect(pack.embedder.metric).toBe('cosine');
    expect(pack.defaults.threshold).toBeGreaterThan(0.85);
    expect(pack.defaults.threshold).toBeLessThan(0.95);
  });

  it('unknown pack is PACK_NOT_FOUND', async () => {
    await expect(loadPack(modelsDir, 'no-such-pack')).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
    await expect(loadPack(modelsDir, '../face')).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
  });

  it('finds exactly the one face in astronaut.png where face-api does', async () => {
    const found = await pack.detector.detect(astronaut);
    expect(found).toHaveLength(1);
    const [x1, y1, x2, y2] = found[0]!.box;
    expect(found[0]!.score).toBeCloseTo(0.965, 2);
    expect(x1).toBeCloseTo(181, 0);
    expect(y1).toBeCloseTo(73, 0);
    expect(x2 - x1).toBeCloseTo(83, 0);
    expect(y2 - y1).toBeCloseTo(102, 0);
  });

  it('finds no face in coffee.png', async () => {
    expect(await pack.detector.detect(await readRgb(join(photosDir, 'coffee.png')))).toEqual([]);
  });

  it('the alternative tiny detector also finds the astronaut face', async () => {
    const tiny = await loadPack(modelsDir, 'face', { detector: 'tiny-face-detector.json' });
    try {
      expect(tiny.detector.id).toBe('face-api-tiny-face-detector');
      const found = await tiny.detector.detect(astronaut);
      expect(found).toHaveLength(1);
      expect(found[0]!.box[0]).toBeGreaterThan(150);
      expect(found[0]!.box[2]).toBeLessThan(290);
    } finally {
      await tiny.detector.dispose();
      await tiny.embedder.dispose();
    }
  });

  it('embeds to unit vectors of dimension 128; one batch equals separate runs', async () => {
    const [face] = await pack.detector.detect(astronaut);
    const crops = [await cropImage(astronaut, face!.box), await readRgb(join(photosDir, 'chelsea.png'))];
    const batch = await pack.embedder.embed(crops);
    expect(batch).toHaveLength(2);
    for (const v of batch) {
      expect(v).toHaveLength(128);
      expect(Math.abs(norm(v) - 1)).toBeLessThan(1e-5);
    }
    for (const [i, crop] of crops.entries()) {
      const [single] = await pack.embedder.embed([crop]);
      expect(Math.max(...single!.map((v, k) => Math.abs(v - batch[i]![k]!)))).toBeLessThan(1e-5);
    }
    expect(await pack.embedder.embed([])).toEqual([]);
  });

  it('the same face after crop, blur and rescale stays above the threshold; other subjects fall below', async () => {
    const threshold = pack.defaults.threshold;
    const [face] = await pack.detector.detect(astronaut);
    const reference = await cropImage(astronaut, face!.box);
    const blurred = await transformed(astronaut, (s) => s.blur(1.5));
    const smaller = await transformed(astronaut, (s) => s.resize(307).modulate({ brightness: 1.1 }));
    const [smallFace] = await pack.detector.detect(smaller);
    const chelsea = await readRgb(join(photosDir, 'chelsea.png'));
    const same = [
      await cropImage(astronaut, face!.box, { margin: 0.1 }),
      await cropImage(blurred, face!.box),
      await cropImage(smaller, smallFace!.box),
    ];
    const others = [await cropImage(chelsea, [100, 20, 300, 220]), await readRgb(join(photosDir, 'Blender_Suzanne1.jpg'))];
    const [ref, ...rest] = await pack.embedder.embed([reference, ...same, ...others]);
    const sims = rest.map((v) => cosine(ref!, v));
    for (const s of sims.slice(0, same.length)) expect(s).toBeGreaterThan(threshold + 0.03);
    for (const s of sims.slice(same.length)) expect(s).toBeLessThan(threshold);
  });

  it('builds are deterministic and reproduce the manifests sha256', async () => {
    const faceApiDir = join(root, 'node_modules', FACE_API_PACKAGE);
    const manifests = await Promise.all(
      ['ssd-mobilenetv1-face.json', 'tiny-face-detector.json', 'face-recognition-resnet.json'].map((f) =>
        loadModelManifest(join(modelsDir, 'face', f), { verifySha256: false }),
      ),
    );
    for (const build of FACE_MODEL_BUILDS) {
      const first = createHash('sha256').update(await buildFaceModel(build, faceApiDir)).digest('hex');
      const second = createHash('sha256').update(await buildFaceModel(build, faceApiDir)).digest('hex');
      expect(second, build.file).toBe(first);
      expect(manifests.find((m) => m.manifest.file === build.file)?.manifest.sha256, build.file).toBe(first);
    }
  });

  it('prepareModels fails on a sha256 mismatch, and --update-manifests rewrites only the sha256', async () => {
    const temp = await mkdtemp(join(tmpdir(), 'face-models-'));
    try {
      await mkdir(join(temp, 'face'));
      for (const f of ['pack.json', 'ssd-mobilenetv1-face.json', 'tiny-face-detector.json', 'face-recognition-resnet.json']) {
        await copyFile(join(modelsDir, 'face', f), join(temp, 'face', f));
      }
      const tinyPath = join(temp, 'face', 'tiny-face-detector.json');
      const original = await readFile(tinyPath, 'utf8');
      const good = (JSON.parse(original) as { sha256: string }).sha256;
      await writeFile(tinyPath, original.replace(good, 'a'.repeat(64)));
      await expect(prepareModels({ modelsDir: temp })).rejects.toThrow(
        new RegExp(`tiny-face-detector.onnx .* has sha256 ${good}, but .* expects ${'a'.repeat(64)}`),
      );
      const updated = await prepareModels({ modelsDir: temp, updateManifests: true });
      expect(updated.find((r) => r.file === 'tiny-face-detector.onnx')?.status).toBe('built-manifest-updated');
      expect(await readFile(tinyPath, 'utf8')).toBe(original);
      const again = await prepareModels({ modelsDir: temp });
      expect(again.map((r) => r.status)).toEqual(['up-to-date', 'up-to-date', 'up-to-date']);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });
});
