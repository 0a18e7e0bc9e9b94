import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCatalog } from '../../src/cli/models/catalog.js';
import { importPack } from '../../src/cli/models/import.js';
import { loadPack } from '../../src/models/pack-loader.js';
import { convPatchModel, ppShituRecModel, solidImage } from '../helpers/synthetic-models.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Own models checked against their manifests when they are installed: the name the pack gets,
 * the declared image input against the manifest's layout and size, a run at the manifest's size
 * (not 1 x 1 for symbolic dimensions), and batch-1 exports embedding several crops.
 */
describe('models import: names, image inputs and batch-1 embedders', () => {
  let root: string;
  let modelsDir: string;
  let catalogDir: string;
  const files: Record<string, string> = {};

  /** A folder with pack.json (no detector) and emb.json, the embedder manifest changed by `input` and `embedding`. */
  const manifests = async (folder: string, input: Record<string, unknown> = {}, embedding: Record<string, unknown> = {}) => {
    const dir = join(root, folder);
    await mkdir(dir, { recursive: true });
    const pack = JSON.parse(await readFile(join(catalogDir, 'dinov2-small', 'pack.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'pack.json'), JSON.stringify({ ...pack, embedder: 'emb.json' }));
    const emb = JSON.parse(await readFile(join(catalogDir, 'pp-shituv2', 'pplcnetv2-rec.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    await writeFile(join(dir, 'emb.json'), JSON.stringify({ ...emb, input: { ...emb.input, ...input }, embedding: { ...emb.embedding, ...embedding } }));
    return dir;
  };
  const installed = async (name: string) => (await stat(join(modelsDir, name)).catch(() => undefined)) !== undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'spotter-model-checks-'));
    modelsDir = join(root, 'models');
    catalogDir = join(modelsDir, 'catalog');
    await cp(join(ROOT, 'models', 'catalog'), catalogDir, { recursive: true });
    for (const [name, bytes] of Object.entries({ rec: ppShituRecModel(), rec1: ppShituRecModel({ batch: 1 }), patches: convPatchModel() })) {
      files[name] = join(root, `${name}.onnx`);
      await writeFile(files[name], bytes);
    }
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a name that cannot be a pack folder before writing anything, and never replaces the catalog', async () => {
    const dir = await manifests('plain');
    for (const name of ['catalog', 'MyPack', '../outside', '.hidden']) {
      await expect(importPack({ modelsDir, catalogDir, name, manifestsDir: dir, embedder: files.rec, replace: true })).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringContaining(`cannot install a pack named "${name}"`),
      });
    }
    expect(await listCatalog(catalogDir)).toEqual(['clip-vit-b32', 'dinov2-small', 'pp-shituv2']);
    expect(await installed('../outside')).toBe(false);
    expect(await installed('MyPack')).toBe(false);
  });

  it("refuses a model whose image input does not fit the manifest's layout or size, and installs nothing", async () => {
    const nhwc = await manifests('nhwc', { layout: 'NHWC' });
    await expect(importPack({ modelsDir, catalogDir, name: 'nhwc', manifestsDir: nhwc, embedder: files.rec })).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('input "x" is [p2o.DynamicDimension.0, 3, 224, 224] in the model, but the manifest\'s NHWC 224x224 input is [N, 224, 224, 3]'),
    });
    const small = await manifests('small', { width: 160, height: 160 });
    await expect(importPack({ modelsDir, catalogDir, name: 'small', manifestsDir: small, embedder: files.rec })).rejects.toThrow(/\(height and width differ; check layout, width and height\)/);
    expect(await installed('nhwc')).toBe(false);
    expect(await installed('small')).toBe(false);
  });

  it('runs the install check at the manifest size, so a model with symbolic height and width installs', async () => {
    const dir = await manifests('patches', { name: 'pixel_values' }, { output: 'embeds', dimension: 3 });
    const log: string[] = [];
    await importPack({ modelsDir, catalogDir, name: 'patches', manifestsDir: dir, embedder: files.patches, log: (l) => log.push(l) });
    expect(log.join('\n')).toContain('load and run');
    const pack = await loadPack(modelsDir, 'patches', { intraOpThreads: 1 });
    try {
      const [vector] = await pack.embedder.embed([solidImage(300, 200, [200, 100, 50])]);
      expect(vector).toHaveLength(3);
    } finally {
      await pack.detector.dispose();
      await pack.embedder.dispose();
    }
  });

  it('embeds several crops with a batch-1 export, one run each, as the batched export does in one', async () => {
    await importPack({ modelsDir, catalogDir, name: 'batched', manifestsDir: await manifests('batched'), embedder: files.rec });
    await importPack({ modelsDir, catalogDir, name: 'single', manifestsDir: await manifests('single'), embedder: files.rec1 });
    const crops = [solidImage(64, 64, [250, 10, 10]), solidImage(90, 40, [10, 250, 10]), solidImage(30, 70, [10, 10, 250])];
    const batched = await loadPack(modelsDir, 'batched', { intraOpThreads: 1 });
    const single = await loadPack(modelsDir, 'single', { intraOpThreads: 1 });
    try {
      const want = await batched.embedder.embed(crops);
      const got = await single.embedder.embed(crops);
      expect(got).toHaveLength(3);
      for (const [i, vector] of got.entries()) {
        for (const [k, v] of vector.entries()) expect(v).toBeCloseTo(want[i]![k]!, 6);
      }
    } finally {
      for (const pack of [batched, single]) {
        await pack.detector.dispose();
        await pack.embedder.dispose();
      }
    }
  });
});
