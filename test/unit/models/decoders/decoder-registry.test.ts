import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shapeProblem } from '../../../../src/models/decoders/decoder-types.js';
import { DECODER_FAMILIES } from '../../../../src/models/decoders/decoder-registry.js';
import { WholeImageDetector } from '../../../../src/models/decoders/whole-image-detector.js';
import { DETECTOR_DECODERS } from '../../../../src/models/pack-loader.js';
import { solidImage, yoloV8Model } from '../../../helpers/synthetic-models.js';
import { DecoderHarness } from './decoder-harness.js';

describe('detector decoder registry', () => {
  const harness = new DecoderHarness();
  beforeEach(() => harness.setUp());
  afterEach(() => harness.tearDown());

  it('offers every family to pack manifests, next to the face detectors', () => {
    expect(Object.keys(DECODER_FAMILIES).sort()).toEqual(['detr', 'picodet-nms', 'picodet-raw', 'rt-detr', 'yolo-v11', 'yolo-v5', 'yolo-v8']);
    expect(DETECTOR_DECODERS).toEqual(expect.arrayContaining([...Object.keys(DECODER_FAMILIES), 'ssd-face', 'tiny-yolo-face']));
  });

  it('rejects a manifest listing more outputs than the decoder reads', async () => {
    const manifest = {
      id: 'two-outputs',
      input: { name: 'images', width: 640, height: 640, layout: 'NCHW', colour: 'RGB', resize: 'stretch', mean: [0, 0, 0], std: [255, 255, 255] },
      decoding: { decoder: 'yolo-v8', outputs: ['output0', 'output1'], nmsIou: 0.5, minScore: 0.5, maxDetections: 10 },
    };
    await expect(harness.open(yoloV8Model([]), manifest)).rejects.toThrow(/decoder yolo-v8 reads 1 output\(s\) \(predictions: .*\), the manifest lists 2/);
  });

  it('shapeProblem accepts symbolic dimensions and names the first mismatch', () => {
    expect(shapeProblem('rows', ['N', 6], [null, 6])).toBeUndefined();
    expect(shapeProblem('rows', [3, 7], [null, 6])).toBe('rows has shape [3, 7], expected [*, 6]');
    expect(shapeProblem('rows', [3], [null, 6])).toBe('rows has shape [3], expected [*, 6]');
  });

  it('the whole-image detector ("detector": "none") returns the image as one subject', async () => {
    const detector = new WholeImageDetector();
    await detector.init();
    expect(await detector.detect(solidImage(30, 20, [0, 0, 0]))).toEqual([{ box: [0, 0, 30, 20], score: 1 }]);
  });
});
