import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openModel } from '../../../src/inference/model-loader.js';
import { imageInputProblem, loadModelManifest, loadPackManifest, packNameProblem, parseModelManifest } from '../../../src/inference/model-manifest.js';
import { OnnxGraphBuilder } from '../../../src/models/onnx/onnx-graph-builder.js';

function model(): Uint8Array {
  const g = new OnnxGraphBuilder('m');
  g.input('input', ['batch', 3, 150, 150]);
  g.op('Relu', ['input'], {}, 'descriptor');
  g.output('descriptor', ['batch', 3, 150, 150]);
  return g.toBytes({ producer: 'test', version: '1' });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function manifest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'test-embedder',
    kind: 'embedder',
    file: 'model.onnx',
    sha256: sha256(model()),
    input: { name: 'input', width: 150, height: 150, layout: 'NCHW', colour: 'RGB', resize: 'pad-centre', mean: [0, 0, 0], std: [1, 1, 1] },
    embedding: { output: 'descriptor', dimension: 128, metric: 'cosine', normalise: 'l2' },
    source: { package: 'test', version: '1.0.0', files: ['x'], licence: 'MIT', url: 'https://example.com/' },
    ...over,
  };
}

describe('model manifests', () => {
  let dir: string;
  const write = async (m: Record<string, unknown>) => {
    await writeFile(join(dir, 'm.json'), JSON.stringify(m));
    return join(dir, 'm.json');
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifest-'));
    await writeFile(join(dir, 'model.onnx'), model());
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a valid manifest, fills defaults and verifies the file', async () => {
    const loaded = await loadModelManifest(await write(manifest()));
    expect(loaded.modelPath).toBe(join(dir, 'model.onnx'));
    expect(loaded.manifest.input.interpolation).toBe('tf-bilinear');
    const opened = await openModel(loaded.manifestPath);
    expect(opened.session.inputNames).toEqual(['input']);
    await opened.session.dispose();
  });

  it('names every invalid field', () => {
    const bad = manifest({ kind: 'embedder', sha256: 'abc', input: { ...(manifest().input as object), layout: 'CHW' } });
    expect(() => parseModelManifest(bad)).toThrow(/sha256: must be 64 lower-case hex digits.*input\.layout/);
    expect(() => parseModelManifest(bad)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
    expect(() => parseModelManifest(manifest({ file: '../x.onnx' }))).toThrow(/file: must be a plain file name/);
  });

  it('MODEL_INVALID when the manifest is missing or not JSON', async () => {
    await expect(loadModelManifest(join(dir, 'none.json'))).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/cannot be read/) });
    await writeFile(join(dir, 'bad.json'), '{');
    await expect(loadModelManifest(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
  });

  it('MODEL_INVALID when the model file is missing', async () => {
    const path = await write(manifest({ file: 'gone.onnx' }));
    await expect(loadModelManifest(path)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/gone\.onnx .* is missing/) });
  });

  it('MODEL_INVALID with expected and actual sha256 on a mismatch', async () => {
    const wrong = 'f'.repeat(64);
    const path = await write(manifest({ sha256: wrong }));
    await expect(loadModelManifest(path)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining(`has sha256 ${sha256(model())}, expected ${wrong}`),
    });
    await expect(loadModelManifest(path, { verifySha256: false })).resolves.toBeDefined();
  });

  it('MODEL_INVALID when the input or output name is not in the model', async () => {
    const input = await write(manifest({ input: { ...(manifest().input as object), name: 'image' } }));
    await expect(openModel(input)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/input name "image" is not in the model \(model inputs: input\)/) });
    const output = await write(manifest({ embedding: { output: 'emb', dimension: 128, metric: 'cosine', normalise: 'l2' } }));
    await expect(openModel(output)).rejects.toThrow(/output name\(s\) "emb" not in the model/);
  });

  it("MODEL_INVALID when the model's image input does not fit the manifest's layout and size", async () => {
    const nhwc = await write(manifest({ input: { ...(manifest().input as object), layout: 'NHWC' } }));
    await expect(openModel(nhwc)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('input "input" is [batch, 3, 150, 150] in the model, but the manifest\'s NHWC 150x150 input is [N, 150, 150, 3] (height and channels differ;'),
    });
    const small = await write(manifest({ input: { ...(manifest().input as object), width: 120 } }));
    await expect(openModel(small)).rejects.toThrow(/\(width differs; check layout, width and height\)/);
  });

  it('checks a declared image input dimension by dimension: symbolic ones fit, a fixed batch must be 1', () => {
    const input = { layout: 'NCHW' as const, width: 224, height: 224 };
    expect(imageInputProblem(['batch', 3, 224, 224], input)).toBeUndefined();
    expect(imageInputProblem([1, 3, 'h', 'w'], input)).toBeUndefined();
    expect(imageInputProblem(undefined, input)).toBeUndefined();
    expect(imageInputProblem([], input)).toBeUndefined();
    expect(imageInputProblem([1, 224, 224, 3], input)).toMatch(/channels and width differ/);
    expect(imageInputProblem(['n', 3, 640, 640], { layout: 'NCHW', width: 320, height: 320 })).toMatch(/height and width differ/);
    expect(imageInputProblem([1, 5, 5, 5], input)).toMatch(/\(channels, height and width differ;/);
    expect(imageInputProblem([4, 3, 224, 224], input)).toMatch(/a fixed batch of 4 is not supported/);
    expect(imageInputProblem(['n', 224, 224], input)).toMatch(/is \[n, 224, 224\] in the model, but the manifest's NCHW 224x224 input is \[N, 3, 224, 224\]/);
    expect(imageInputProblem(['n', 224, 224, 3], { layout: 'NHWC', width: 224, height: 224 })).toBeUndefined();
  });

  it('refuses input sizes no image model takes', () => {
    expect(() => parseModelManifest(manifest({ input: { ...(manifest().input as object), width: 100_000 } }))).toThrow(/input\.width/);
  });

  it('MODEL_INVALID when onnxruntime cannot read the file', async () => {
    const junk = Buffer.from('not a model');
    await writeFile(join(dir, 'junk.onnx'), junk);
    const path = await write(manifest({ file: 'junk.onnx', sha256: sha256(junk) }));
    await expect(openModel(path)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/cannot be loaded by onnxruntime/) });
  });
});

describe('pack manifests', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'packs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('PACK_NOT_FOUND for a missing pack or a name that could leave the folder', async () => {
    await expect(loadPackManifest(dir, 'face')).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
    await expect(loadPackManifest(dir, '../etc')).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
    await expect(loadPackManifest(dir, 'catalog')).rejects.toMatchObject({ code: 'PACK_NOT_FOUND' });
    expect(packNameProblem('pp-shituv2_2')).toBeUndefined();
    for (const name of ['', 'Face', '.hidden', '-x', 'a/b', 'a.b', 'catalog']) expect(packNameProblem(name)).toBeDefined();
  });

  it('reads a valid pack.json and rejects an invalid one with MODEL_INVALID', async () => {
    await mkdir(join(dir, 'p'));
    const pack = {
      name: 'p',
      detector: 'd.json',
      embedder: 'e.json',
      defaults: { threshold: 0.9, topK: 5, maxObjects: 10, minScore: 0.5, wholeImageFallback: false },
    };
    await writeFile(join(dir, 'p', 'pack.json'), JSON.stringify(pack));
    expect((await loadPackManifest(dir, 'p')).pack.defaults.threshold).toBe(0.9);
    await writeFile(join(dir, 'p', 'pack.json'), JSON.stringify({ ...pack, defaults: { ...pack.defaults, topK: 0 } }));
    await expect(loadPackManifest(dir, 'p')).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/defaults\.topK/) });
  });

  it("refuses a pack.json whose name is not its folder's", async () => {
    await mkdir(join(dir, 'p'));
    await writeFile(join(dir, 'p', 'pack.json'), JSON.stringify({ name: 'Other Name!', detector: 'd.json', embedder: 'e.json', defaults: { threshold: 0.9, topK: 5, maxObjects: 10, minScore: 0.5, wholeImageFallback: false } }));
    await expect(loadPackManifest(dir, 'p')).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('names the pack "Other Name!", but its folder is "p"') });
  });
});
