import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCatalog, readCatalogEntry } from '../../src/cli/models/catalog.js';
import { importPack } from '../../src/cli/models/import.js';
import { listModels } from '../../src/cli/models/list.js';
import { loadPack, DETECTOR_DECODERS } from '../../src/models/pack-loader.js';
import { dinov2Model, picodetNmsModel, ppShituRecModel, sha256, yoloV8Model } from '../helpers/synthetic-models.js';
import { photo, startTestApp, type TestApp } from '../helpers/test-app.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Bring-your-own-models end to end: the shipped catalog manifests, ONNX files with the public
 * signatures (synthetic weights), `models import`, and the real app serving the installed packs.
 */
describe('model packs from the catalog, installed with models import and served', () => {
  let root: string;
  let modelsDir: string;
  let catalogDir: string;
  const files: Record<string, string> = {};
  let app: TestApp | undefined;
  const dataDir = () => join(root, 'data');
  const start = async (packs: string) => {
    app = await startTestApp({ modelsDir, packs, defaultPack: packs.split(',')[0] }, dataDir());
    return app;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'spotter-byom-'));
    modelsDir = join(root, 'models');
    catalogDir = join(modelsDir, 'catalog');
    await mkdir(dataDir(), { recursive: true });
    await cp(join(ROOT, 'models', 'catalog'), catalogDir, { recursive: true });
    const write = async (name: string, bytes: Uint8Array) => {
      files[name] = join(root, name);
      await writeFile(files[name], bytes);
    };
    // PicoDet rows in 640 x 640 input pixels: one box at 100..540 on both axes.
    await write('det.onnx', picodetNmsModel([[0, 0.9, 100, 100, 540, 540]]));
    await write('rec.onnx', ppShituRecModel());
    await write('rec-384.onnx', ppShituRecModel({ dimension: 384 }));
    await write('dino.onnx', dinov2Model());
    await write('yolo.onnx', yoloV8Model([]));
  });

  afterAll(async () => {
    await app?.close({ keepData: true });
    await rm(root, { recursive: true, force: true });
  });

  it('ships catalog entries that validate, for pp-shituv2, dinov2-small and clip-vit-b32', async () => {
    expect(await listCatalog(catalogDir)).toEqual(['clip-vit-b32', 'dinov2-small', 'pp-shituv2']);
    for (const name of await listCatalog(catalogDir)) {
      const entry = await readCatalogEntry(catalogDir, name);
      expect(entry.pack.name).toBe(name);
      for (const { manifest } of entry.models) if (manifest.kind === 'detector') expect(DETECTOR_DECODERS).toContain(manifest.decoding.decoder);
    }
  });

  it('a requested pack that is in the catalog but not installed fails naming the pull command', async () => {
    await expect(start('clip-vit-b32')).rejects.toMatchObject({
      code: 'PACK_NOT_FOUND',
      message: expect.stringContaining('not installed: run `npm run models -- pull clip-vit-b32 --allow-network --trust-unpinned`'),
    });
    await expect(start('pp-shituv2')).rejects.toThrow('`npm run models -- import pp-shituv2 --detector DET.onnx --embedder EMB.onnx`');
    app = undefined;
  });

  it('refuses to install files that do not fit the manifests, and installs nothing', async () => {
    await expect(importPack({ modelsDir, catalogDir, name: 'pp-shituv2', detector: files['det.onnx'], embedder: files['yolo.onnx'] })).rejects.toThrow(
      /input name "x" is not in the model \(model inputs: images\)/,
    );
    await expect(importPack({ modelsDir, catalogDir, name: 'pp-shituv2', embedder: files['rec.onnx'] })).rejects.toThrow(/needs --detector FILE\.onnx/);
    expect((await listModels(modelsDir, catalogDir)).filter((r) => r.installed)).toEqual([]);
  });

  it('imports PP-ShiTuV2 and DINOv2 exports, recording the sha256 of the files', async () => {
    const log: string[] = [];
    await importPack({ modelsDir, catalogDir, name: 'pp-shituv2', detector: files['det.onnx'], embedder: files['rec.onnx'], log: (l) => log.push(l) });
    await importPack({ modelsDir, catalogDir, name: 'dinov2-small', embedder: files['dino.onnx'] });
    expect(log.join('\n')).toMatch(/verified: detector pp-shituv2-picodet-lcnet-x2\.5-mainbody, embedder pp-shituv2-pplcnetv2-base-rec \(512-D\)/);
    const rec = JSON.parse(await readFile(join(modelsDir, 'pp-shituv2', 'pplcnetv2-rec.json'), 'utf8')) as { sha256: string };
    expect(rec.sha256).toBe(sha256(await readFile(files['rec.onnx']!)));
    const rows = await listModels(modelsDir, catalogDir);
    expect(rows.map((r) => [r.name, r.installed, r.install])).toEqual([
      ['dinov2-small', true, undefined],
      ['pp-shituv2', true, undefined],
      ['clip-vit-b32', false, 'pull clip-vit-b32 --allow-network --trust-unpinned'],
    ]);
  });

  it('serves the imported packs: PicoDet boxes in image pixels, whole-image DINOv2, enrol and recognise', async () => {
    const t = await start('pp-shituv2,dinov2-small');
    const fruits = photo('fruits.jpg');
    const { width = 0, height = 0 } = await sharp(fruits).metadata();
    expect((await t.app.inject({ method: 'POST', url: '/v1/galleries', payload: { name: 'shelf', pack: 'pp-shituv2' } })).statusCode).toBe(201);
    const enrolled = await t.app.inject({ method: 'POST', url: '/v1/galleries/shelf/entries', payload: { label: 'fruit bowl', image: fruits.toString('base64') } });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    const box = enrolled.json().box as number[];
    [100 * (width / 640), 100 * (height / 640), 540 * (width / 640), 540 * (height / 640)].forEach((v, i) => expect(Math.abs(box[i]! - v)).toBeLessThan(1));
    const found = await t.app.inject({ method: 'POST', url: '/v1/galleries/shelf/recognize', payload: { image: fruits.toString('base64') } });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().objects[0].matches[0]).toMatchObject({ label: 'fruit bowl' });
    expect(found.json().objects[0].matches[0].similarity).toBeCloseTo(1, 4);

    expect((await t.app.inject({ method: 'POST', url: '/v1/galleries', payload: { name: 'photos', pack: 'dinov2-small' } })).json().embedder).toMatchObject({ embedderId: 'dinov2-small-cls', dimension: 384 });
    const whole = await t.app.inject({ method: 'POST', url: '/v1/galleries/photos/entries', payload: { label: 'coffee', image: photo('coffee.png').toString('base64') } });
    expect(whole.statusCode, whole.body).toBe(201);
    const meta = await sharp(photo('coffee.png')).metadata();
    expect(whole.json().box).toEqual([0, 0, meta.width, meta.height]);
    await t.close({ keepData: true });
    app = undefined;
  });

  it('a gallery built with one embedder is never searched with another (EMBEDDER_MISMATCH)', async () => {
    // Re-install pp-shituv2 with a user's own 384-D recognition model (own manifests, --replace).
    const own = join(root, 'own-pack');
    await cp(join(catalogDir, 'pp-shituv2'), own, { recursive: true });
    const recPath = join(own, 'pplcnetv2-rec.json');
    const rec = JSON.parse(await readFile(recPath, 'utf8')) as { id: string; embedding: { dimension: number } };
    await writeFile(recPath, JSON.stringify({ ...rec, id: 'my-rec-384', embedding: { ...rec.embedding, dimension: 384 } }));
    await expect(importPack({ modelsDir, catalogDir, name: 'pp-shituv2', manifestsDir: own, detector: files['det.onnx'], embedder: files['rec-384.onnx'] })).rejects.toThrow(
      /already installed .* pass --replace/,
    );
    await importPack({ modelsDir, catalogDir, name: 'pp-shituv2', manifestsDir: own, detector: files['det.onnx'], embedder: files['rec-384.onnx'], replace: true });
    const t = await start('pp-shituv2');
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries/shelf/recognize', payload: { image: photo('fruits.jpg').toString('base64') } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'EMBEDDER_MISMATCH', message: expect.stringMatching(/512-D vectors of 'pp-shituv2-pplcnetv2-base-rec'.*'my-rec-384' \(384-D\)/) });
  });

  it('an installed file that changed is refused by its sha256 at load', async () => {
    await app?.close({ keepData: true });
    app = undefined;
    const path = join(modelsDir, 'dinov2-small', 'dinov2-small.onnx');
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await writeFile(path, bytes);
    await expect(loadPack(modelsDir, 'dinov2-small')).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/dinov2-small\.onnx .* has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/) });
  });
});
