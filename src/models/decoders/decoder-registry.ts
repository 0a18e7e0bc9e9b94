import type { DecoderFamily } from './decoder-types.js';
import { detr, rtDetr } from './detr-decoders.js';
import { picodetNms, picodetRaw } from './picodet-decoders.js';
import { yoloV5, yoloV8 } from './yolo-decoders.js';

/**
 * Decoder name (a manifest's `decoding.decoder`) to output family, for detectors that the
 * generic OnnxDetector runs. Detectors with their own class (the face pack's SSD and tiny
 * YOLO, CenterNet) are registered in pack-loader's table instead. Adding a family is one file
 * and one line here.
 */
export const DECODER_FAMILIES: Readonly<Record<string, DecoderFamily>> = {
  'picodet-nms': picodetNms,
  'picodet-raw': picodetRaw,
  'yolo-v8': yoloV8,
  'yolo-v11': yoloV8,
  'yolo-v5': yoloV5,
  detr,
  'rt-detr': rtDetr,
};
