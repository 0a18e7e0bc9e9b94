import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detrModel, solidImage } from '../../../helpers/synthetic-models.js';
import { DecoderHarness, IMAGENET } from './decoder-harness.js';

const input = { name: 'pixel_values', width: 640, height: 640, layout: 'NCHW', colour: 'RGB', resize: 'stretch', interpolation: 'linear', ...IMAGENET };
const detrManifest = {
  id: 'detr-test',
  input: { ...input, extraInputs: [{ name: 'pixel_mask', value: 'ones-mask', type: 'int64' }] },
  decoding: { decoder: 'detr', outputs: ['logits', 'pred_boxes'], nmsIou: 1, minScore: 0.5, maxDetections: 100 },
};

describe('detr decoder (softmax with a no-object class, normalised cxcywh)', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('feeds an int64 pixel_mask and decodes the queries that beat "no object"', async () => {
    const model = detrModel('detr', [
      { query: 7, box: [0.5, 0.5, 0.2, 0.4], classId: 17, logit: 5 },
      { query: 9, box: [0.1, 0.1, 0.1, 0.1], classId: 3, logit: 1 },
    ]);
    const detector = await harness.open(model, detrManifest);
    const found = await detector.detect(solidImage(800, 600, [100, 100, 100]));
    expect(found).toHaveLength(1);
    expect(found[0]!.classId).toBe(17);
    expect(found[0]!.score).toBeCloseTo(Math.exp(5) / (Math.exp(5) + 91), 5);
    found[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([320, 180, 480, 420][i]!, 3));
  });

  it('names a pixel_mask declared with the wrong element type', async () => {
    const wrong = { ...detrManifest, input: { ...input, extraInputs: [{ name: 'pixel_mask', value: 'ones-mask' }] } };
    await expect(harness.open(detrModel('detr', []), wrong)).rejects.toThrow(/extra input "pixel_mask" is int64 in the model, the manifest declares float32/);
  });

  it('names an input that the model does not have', async () => {
    const wrong = { ...detrManifest, input: { ...detrManifest.input, name: 'images' } };
    await expect(harness.open(detrModel('detr', []), wrong)).rejects.toThrow(/input name "images" is not in the model \(model inputs: pixel_values, pixel_mask\)/);
  });
});

describe('rt-detr decoder (sigmoid logits, normalised cxcywh)', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  const rtManifest = { id: 'rt-detr-test', input, decoding: { decoder: 'rt-detr', outputs: ['logits', 'pred_boxes'], nmsIou: 0.7, minScore: 0.5, maxDetections: 300 } };

  it('decodes sigmoid scores per query', async () => {
    const model = detrModel('rt-detr', [
      { query: 0, box: [0.25, 0.25, 0.5, 0.5], classId: 62, logit: 2 },
      { query: 1, box: [0.75, 0.75, 0.1, 0.1], classId: 1, logit: -1 },
    ]);
    const detector = await harness.open(model, rtManifest);
    const found = await detector.detect(solidImage(320, 320, [0, 0, 0]));
    expect(found).toHaveLength(1);
    expect(found[0]!.classId).toBe(62);
    expect(found[0]!.score).toBeCloseTo(1 / (1 + Math.exp(-2)), 5);
    found[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([0, 0, 160, 160][i]!, 3));
  });

  it('rejects a DETR model (classes + 1 columns) declared with 80 RT-DETR classes', async () => {
    const classes = Array.from({ length: 80 }, (_, i) => `c${i}`);
    const wrong = { ...rtManifest, input: detrManifest.input, decoding: { ...rtManifest.decoding, classes } };
    await expect(harness.open(detrModel('detr', []), wrong)).rejects.toThrow(/logits has shape \[\w+, 100, 92\], expected \[\*, 100, 80\]/);
  });
});
