import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PICODET_RAW_OUTPUTS, picodetNmsModel, picodetRawModel, solidImage } from '../../../helpers/synthetic-models.js';
import { DecoderHarness, IMAGENET } from './decoder-harness.js';

/** PP-ShiTu's mainbody detector settings (PaddleClas inference_general.yaml). */
const input = {
  name: 'image', width: 640, height: 640, layout: 'NCHW', colour: 'RGB', resize: 'stretch', interpolation: 'cubic', ...IMAGENET,
  extraInputs: [{ name: 'scale_factor', value: 'scale-factor' }, { name: 'im_shape', value: 'im-shape' }],
};
const nmsManifest = {
  id: 'picodet-nms-test',
  input,
  decoding: { decoder: 'picodet-nms', outputs: ['multiclass_nms3_0.tmp_0', 'multiclass_nms3_0.tmp_2'], nmsIou: 0.5, minScore: 0.2, maxDetections: 5, classes: ['foreground'] },
};

describe('picodet-nms decoder (paddle2onnx export with NMS inside)', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('feeds image, scale_factor and im_shape, and maps rows back to source pixels', async () => {
    const detector = await harness.open(
      picodetNmsModel([
        [0, 0.9, 64, 64, 320, 320],
        [0, 0.1, 0, 0, 10, 10],
        [-1, 0.95, 0, 0, 640, 640],
        [0, 0.8, 400, 400, 600, 600],
        [0, 0.99, 0, 0, 50, 50],
      ], { count: 4 }),
      nmsManifest,
    );
    // 1280 x 960 stretched to 640 x 640: scale_factor = [640 / 960, 640 / 1280].
    const found = await detector.detect(solidImage(1280, 960, [90, 120, 200]));
    expect(found).toHaveLength(2);
    expect(found[0]!.score).toBeCloseTo(0.9, 5);
    expect(found[0]!.className).toBe('foreground');
    found[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([128, 96, 640, 480][i]!, 3));
    found[1]!.box.forEach((v, i) => expect(v).toBeCloseTo([800, 600, 1200, 900][i]!, 3));
  });

  it('stops at the count and skips the class -1 padding row', async () => {
    const detector = await harness.open(picodetNmsModel([[-1, 0.99, 0, 0, 640, 640], [0, 0.5, 0, 0, 320, 320]], { count: 1 }), nmsManifest);
    expect(await detector.detect(solidImage(64, 64, [0, 0, 0]))).toEqual([]);
  });

  it('rejects a manifest that lists the outputs in the wrong order, naming the shapes', async () => {
    const swapped = { ...nmsManifest, decoding: { ...nmsManifest.decoding, outputs: ['multiclass_nms3_0.tmp_2', 'multiclass_nms3_0.tmp_0'] } };
    await expect(harness.open(picodetNmsModel([[0, 0.9, 0, 0, 10, 10]]), swapped)).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/rows has shape \[1\], expected \[\*, 6\].*decoder expects rows \[N, 6\]/),
    });
  });

  it('rejects a manifest that does not feed im_shape', async () => {
    const partial = { ...nmsManifest, input: { ...input, extraInputs: [{ name: 'scale_factor', value: 'scale-factor' }] } };
    await expect(harness.open(picodetNmsModel([[0, 0.9, 0, 0, 10, 10]]), partial)).rejects.toThrow(/model input\(s\) "im_shape" are not fed; declare them in input\.extraInputs/);
  });
});

describe('picodet-raw decoder (export without NMS; NMS in Spotter)', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  const rawManifest = {
    id: 'picodet-raw-test',
    input: { ...input, extraInputs: [{ name: 'scale_factor', value: 'scale-factor' }] },
    decoding: { decoder: 'picodet-raw', outputs: [...PICODET_RAW_OUTPUTS], nmsIou: 0.6, minScore: 0.3, maxDetections: 10 },
  };

  it('takes the best class per anchor and suppresses overlapping anchors', async () => {
    const boxes = [[100, 100, 300, 300], [102, 100, 300, 302], [400, 400, 500, 500], [0, 0, 20, 20]];
    const scores = [[0.9, 0.7, 0.2, 0.1], [0.1, 0.8, 0.6, 0.2]];
    const detector = await harness.open(picodetRawModel(boxes, scores), rawManifest);
    const found = await detector.detect(solidImage(640, 320, [10, 10, 10]));
    expect(found.map((d) => [d.classId, Number(d.score.toFixed(2))])).toEqual([[0, 0.9], [1, 0.6]]);
    found[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([100, 50, 300, 150][i]!, 3));
  });

  it('rejects declared classes that do not match the scores output', async () => {
    const wrong = { ...rawManifest, decoding: { ...rawManifest.decoding, classes: ['a', 'b', 'c'] } };
    await expect(harness.open(picodetRawModel([[0, 0, 1, 1]], [[0.5], [0.5]]), wrong)).rejects.toThrow(
      /scores has shape \[1, 2, 8500\], expected \[\*, 3, 8500\]/,
    );
  });
});
