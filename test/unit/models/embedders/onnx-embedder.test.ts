import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../../src/core/types.js';
import { loadModelManifest, type EmbedderManifest, type LoadedModelManifest } from '../../../../src/inference/model-manifest.js';
import { OnnxEmbedder } from '../../../../src/models/embedders/onnx-embedder.js';
import {
  clipVisionModel,
  dinov2Model,
  featureMapModel,
  PPSHITU_REC_OUTPUT,
  ppShituRecModel,
  projection,
  solidImage,
  TEST_SOURCE,
  writeModel,
} from '../../../helpers/synthetic-models.js';

const IMAGENET = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] } as const;
const CLIP = { mean: [122.7709, 116.7460, 104.0937], std: [68.5005, 66.6322, 70.3232] } as const;

/** What the synthetic encoders compute for a solid colour: normalised channels x projection(d). */
function expectedTokens(rgb: readonly number[], norm: { mean: readonly number[]; std: readonly number[] }, dimension: number, order = [0, 1, 2]): Float32Array {
  const w = projection(dimension);
  const p = order.map((src, c) => (rgb[src]! - norm.mean[c]!) / norm.std[c]!);
  return Float32Array.from({ length: dimension }, (_, k) => p.reduce((sum, v, c) => sum + v * w[c * dimension + k]!, 0));
}

const unit = (v: Float32Array) => {
  const n = Math.hypot(...v);
  return Array.from(v, (x) => x / n);
};

function expectClose(actual: Float32Array | number[], expected: Float32Array | number[], digits = 4): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

describe('generic ONNX embedder on synthetic encoders with public signatures', () => {
  let dir: string;
  const opened: OnnxEmbedder[] = [];

  async function open(bytes: Uint8Array, manifest: Record<string, unknown>): Promise<OnnxEmbedder> {
    const path = await writeModel(dir, `m${opened.length}`, bytes, { kind: 'embedder', source: TEST_SOURCE, ...manifest });
    const embedder = new OnnxEmbedder((await loadModelManifest(path)) as LoadedModelManifest<EmbedderManifest>, { intraOpThreads: 1 });
    opened.push(embedder);
    await embedder.init();
    return embedder;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'embedders-'));
  });
  afterEach(async () => {
    for (const e of opened.splice(0)) await e.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const shitu = (over: Record<string, unknown> = {}, input: Record<string, unknown> = {}) => ({
    id: 'pp-shituv2-rec-test',
    input: { name: 'x', width: 224, height: 224, layout: 'NCHW', colour: 'RGB', resize: 'stretch', interpolation: 'linear', ...IMAGENET, ...input },
    embedding: { output: PPSHITU_REC_OUTPUT, dimension: 512, metric: 'cosine', normalise: 'l2', ...over },
  });

  it('PP-ShiTuV2 recognition (x -> [N, 512]): one batched run, ImageNet mean/std, L2-normalised', async () => {
    const embedder = await open(ppShituRecModel(), shitu());
    const red: [number, number, number] = [200, 30, 40];
    const blue: [number, number, number] = [20, 60, 220];
    const [a, b] = await embedder.embed([solidImage(300, 120, red), solidImage(50, 80, blue)]);
    expect(embedder.dimension).toBe(512);
    expectClose(a!, unit(expectedTokens(red, IMAGENET, 512)));
    expectClose(b!, unit(expectedTokens(blue, IMAGENET, 512)));
  });

  it('BGR colour order swaps the channels fed to the model', async () => {
    const embedder = await open(ppShituRecModel(), shitu({}, { colour: 'BGR' }));
    const [v] = await embedder.embed([solidImage(64, 64, [200, 30, 40])]);
    expectClose(v!, unit(expectedTokens([200, 30, 40], IMAGENET, 512, [2, 1, 0])));
  });

  it('rejects a wrong signature: input name, output name, dimension', async () => {
    await expect(open(ppShituRecModel({ input: 'image' }), shitu())).rejects.toThrow(/input name "x" is not in the model \(model inputs: image\)/);
    await expect(open(ppShituRecModel(), shitu({ output: 'features' }))).rejects.toThrow(/output name\(s\) "features" not in the model \(model outputs: save_infer_model\/scale_0\.tmp_1\)/);
    await expect(open(ppShituRecModel({ dimension: 384 }), shitu())).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/output "save_infer_model\/scale_0\.tmp_1" has shape \[.+, 384\], pooling 'vector' needs \[N, 512\]/),
    });
  });

  const dino = (embedding: Record<string, unknown>) => ({
    id: 'dinov2-test',
    input: { name: 'pixel_values', width: 224, height: 224, layout: 'NCHW', colour: 'RGB', resize: 'centre-crop', shortestEdge: 256, interpolation: 'cubic', ...IMAGENET },
    embedding: { output: 'last_hidden_state', dimension: 384, metric: 'cosine', normalise: 'l2', pooling: 'cls', ...embedding },
  });

  it('DINOv2 (transformers.js): CLS token, mean of patch tokens, or pooler_output as given', async () => {
    const colour: [number, number, number] = [180, 90, 30];
    const patches = expectedTokens(colour, IMAGENET, 384);
    const cls = patches.map((v) => 2 * v + 1);
    const image = solidImage(320, 240, colour);
    const [fromCls] = await (await open(dinov2Model(), dino({}))).embedRaw([image]);
    expectClose(fromCls!, cls);
    const [fromMean] = await (await open(dinov2Model(), dino({ pooling: 'mean-tokens', skipTokens: 1 }))).embedRaw([image]);
    expectClose(fromMean!, patches);
    const [fromAll] = await (await open(dinov2Model(), dino({ pooling: 'mean-tokens' }))).embedRaw([image]);
    expectClose(fromAll!, patches.map((v, k) => (cls[k]! + 256 * v) / 257));
    const [pooler] = await (await open(dinov2Model(), dino({ output: 'pooler_output', pooling: 'vector' }))).embedRaw([image]);
    expectClose(pooler!, cls);
  });

  it('centre-crop keeps only the centre: a framed image embeds like its centre colour', async () => {
    // 300 x 200, shorter side to 256 then a 224 crop = the centre 175 x 175 (x 62..237, y 12..187).
    const framed: RgbImage = solidImage(300, 200, [0, 0, 255]);
    for (let y = 0; y < 200; y++) for (let x = 50; x < 250; x++) framed.data.set([255, 0, 0], (y * 300 + x) * 3);
    const embedder = await open(dinov2Model(), dino({}));
    const [a, b] = await embedder.embed([framed, solidImage(64, 64, [255, 0, 0])]);
    expectClose(a!, b!, 3);
  });

  it('rejects pooling that does not fit the output: CLS of a [N, D] vector, wrong width', async () => {
    await expect(open(dinov2Model(), dino({ output: 'pooler_output' }))).rejects.toThrow(/output "pooler_output" has shape \[\w+, 384\], pooling 'cls' needs \[N, tokens, 384\]/);
    await expect(open(dinov2Model(), dino({ dimension: 768 }))).rejects.toThrow(/pooling 'cls' needs \[N, tokens, 768\]/);
  });

  it('CLIP ViT-B/32 vision (transformers.js): image_embeds [N, 512] as given', async () => {
    const manifest = {
      id: 'clip-test',
      input: { name: 'pixel_values', width: 224, height: 224, layout: 'NCHW', colour: 'RGB', resize: 'centre-crop', interpolation: 'cubic', ...CLIP },
      embedding: { output: 'image_embeds', dimension: 512, metric: 'cosine', normalise: 'l2' },
    };
    const embedder = await open(clipVisionModel(), manifest);
    const colour: [number, number, number] = [10, 200, 90];
    const cls = expectedTokens(colour, CLIP, 768).map((v) => 2 * v + 1);
    const expected = Float32Array.from({ length: 512 }, (_, k) => cls[k]! + (k < 256 ? 0.5 * cls[k + 512]! : 0));
    const [v] = await embedder.embed([solidImage(400, 300, colour)]);
    expectClose(v!, unit(expected));
    await expect(open(clipVisionModel(), { ...manifest, embedding: { ...manifest.embedding, output: 'last_hidden_state' } })).rejects.toThrow(
      /has shape \[\w+, 50, 768\], pooling 'vector' needs \[N, 512\]/,
    );
  });

  it('CNN feature maps: spatial-mean pooling over [N, D, H, W]', async () => {
    const manifest = {
      id: 'feature-map-test',
      input: { name: 'input', width: 224, height: 224, layout: 'NCHW', colour: 'RGB', resize: 'letterbox', padValue: 0, interpolation: 'linear', mean: [0, 0, 0], std: [255, 255, 255] },
      embedding: { output: 'features', dimension: 3, metric: 'cosine', normalise: 'l2', pooling: 'spatial-mean' },
    };
    const [v] = await (await open(featureMapModel(), manifest)).embedRaw([solidImage(224, 224, [51, 102, 255])]);
    expectClose(v!, [0.2, 0.4, 1]);
  });

  it('letterbox pads with padValue (sharp and tf-bilinear resizers alike)', async () => {
    for (const interpolation of ['linear', 'tf-bilinear']) {
      const manifest = {
        id: `letterbox-${interpolation}`,
        input: { name: 'input', width: 224, height: 224, layout: 'NCHW', colour: 'RGB', resize: 'letterbox', padValue: 255, interpolation, mean: [0, 0, 0], std: [255, 255, 255] },
        embedding: { output: 'features', dimension: 3, metric: 'cosine', normalise: 'l2', pooling: 'spatial-mean' },
      };
      // 224 x 112 centred in 224 x 224: half the pixels are the image, half are padding of 255.
      const [v] = await (await open(featureMapModel(), manifest)).embedRaw([solidImage(224, 112, [51, 102, 255])]);
      expectClose(v!, [0.6, 0.7, 1], 3);
    }
  });
});
