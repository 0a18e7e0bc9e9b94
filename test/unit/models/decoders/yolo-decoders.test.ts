import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { solidImage, yoloV5Model, yoloV8Model } from '../../../helpers/synthetic-models.js';
import { DecoderHarness } from './decoder-harness.js';

/** Ultralytics preprocessing: letterbox with grey 114, RGB, 0..1. */
const input = { name: 'images', width: 640, height: 640, layout: 'NCHW', colour: 'RGB', resize: 'letterbox', padValue: 114, interpolation: 'linear', mean: [0, 0, 0], std: [255, 255, 255] };
const manifest = (decoder: string, extra: Record<string, unknown> = {}) => ({
  id: `${decoder}-test`,
  input,
  decoding: { decoder, outputs: ['output0'], nmsIou: 0.45, minScore: 0.25, maxDetections: 100, ...extra },
});

describe('yolo-v8 / yolo-v11 decoder ([1, 4 + classes, anchors])', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('decodes centre boxes through the letterbox back to the source image', async () => {
    const model = yoloV8Model([
      { anchor: 10, cx: 320, cy: 320, w: 64, h: 64, classId: 39, score: 0.8 },
      { anchor: 11, cx: 322, cy: 320, w: 64, h: 64, classId: 39, score: 0.7 },
      { anchor: 8000, cx: 100, cy: 200, w: 40, h: 20, classId: 0, score: 0.2 },
    ]);
    const detector = await harness.open(model, manifest('yolo-v8'));
    // 1280 x 720 letterboxed into a 1280 x 1280 square (280 rows above), scaled by 1/2.
    const found = await detector.detect(solidImage(1280, 720, [50, 60, 70]));
    expect(found).toHaveLength(1);
    expect(found[0]!.classId).toBe(39);
    expect(found[0]!.score).toBeCloseTo(0.8, 5);
    found[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([576, 296, 704, 424][i]!, 3));
  });

  it('names classes from the manifest, and the same graph loads as yolo-v11', async () => {
    const model = yoloV8Model([{ anchor: 3, cx: 100, cy: 100, w: 50, h: 50, classId: 1, score: 0.9 }], { classes: 2 });
    const detector = await harness.open(model, manifest('yolo-v11', { classes: ['box', 'bottle'] }));
    const [found] = await detector.detect(solidImage(640, 640, [0, 0, 0]));
    expect(found).toMatchObject({ classId: 1, className: 'bottle' });
  });

  it('rejects a v5-layout model with a hint to use yolo-v5', async () => {
    await expect(harness.open(yoloV5Model([]), manifest('yolo-v8'))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringMatching(/predictions has shape \[1, 25200, 85\].*use decoder yolo-v5/),
    });
  });

  it('rejects a class list that does not match the model', async () => {
    await expect(harness.open(yoloV8Model([]), manifest('yolo-v8', { classes: ['a', 'b'] }))).rejects.toThrow(
      /predictions has shape \[1, 84, 8400\], expected \[\*, 6, \*\]/,
    );
  });
});

describe('yolo-v5 decoder ([1, anchors, 5 + classes])', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('scores objectness x class probability', async () => {
    const model = yoloV5Model([
      { anchor: 100, cx: 320, cy: 320, w: 100, h: 200, classId: 2, score: 0.9, objectness: 0.8 },
      { anchor: 200, cx: 100, cy: 100, w: 10, h: 10, classId: 5, score: 0.9, objectness: 0.2 },
    ]);
    const detector = await harness.open(model, manifest('yolo-v5'));
    const found = await detector.detect(solidImage(640, 640, [1, 2, 3]));
    expect(found).toHaveLength(1);
    expect(found[0]!.classId).toBe(2);
    expect(found[0]!.score).toBeCloseTo(0.72, 5);
    found[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([270, 220, 370, 420][i]!, 3));
  });

  it('rejects a v8-layout model with a hint to use yolo-v8', async () => {
    await expect(harness.open(yoloV8Model([]), manifest('yolo-v5'))).rejects.toThrow(/shape \[1, 84, 8400\].*use decoder yolo-v8/);
  });
});
