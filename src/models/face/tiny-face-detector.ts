import { AppError } from '../../core/app-error.js';
import type { DetectorManifest, LoadedModelManifest } from '../../inference/model-manifest.js';
import type { FloatTensor, SessionOptions } from '../../inference/onnx-session.js';
import { FaceDetectorBase, type Candidate } from './face-detector-base.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Decodes a Tiny-YOLOv2 grid [1, A * 5, G, G] (channel = anchor * 5 + field, fields tx, ty, tw,
 * th, objectness) as face-api does: score = sigmoid(obj), centre = (cell + sigmoid(t)) / G,
 * size = exp(t) * anchor / G. Boxes come back in input pixels.
 */
export function decodeTinyYoloGrid(
  grid: FloatTensor,
  anchors: readonly (readonly [number, number])[],
  minScore: number,
  inputWidth: number,
  inputHeight: number,
): Candidate[] {
  const [, channels, rows, cols] = grid.dims as [number, number, number, number];
  if (channels !== anchors.length * 5 || rows !== cols) {
    throw new Error(`tiny-yolo decode: grid [${grid.dims.join(', ')}] does not fit ${anchors.length} anchors`);
  }
  const cells = rows * cols;
  const at = (anchor: number, field: number, row: number, col: number) =>
    grid.data[(anchor * 5 + field) * cells + row * cols + col]!;
  const out: Candidate[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      for (const [a, [aw, ah]] of anchors.entries()) {
        const score = sigmoid(at(a, 4, row, col));
        if (!(score > minScore)) continue;
        const cx = (col + sigmoid(at(a, 0, row, col))) / cols;
        const cy = (row + sigmoid(at(a, 1, row, col))) / rows;
        const w = (Math.exp(at(a, 2, row, col)) * aw) / cols;
        const h = (Math.exp(at(a, 3, row, col)) * ah) / rows;
        out.push({
          box: [(cx - w / 2) * inputWidth, (cy - h / 2) * inputHeight, (cx + w / 2) * inputWidth, (cy + h / 2) * inputHeight],
          score,
        });
      }
    }
  }
  return out;
}

/** face-api's TinyFaceDetector (decoder 'tiny-yolo-face'): faster, less accurate than SSD. */
export class TinyFaceDetector extends FaceDetectorBase {
  static readonly decoder = 'tiny-yolo-face';
  private readonly anchors: readonly (readonly [number, number])[];

  constructor(model: LoadedModelManifest<DetectorManifest>, sessionOptions?: SessionOptions) {
    super(model, sessionOptions);
    const anchors = model.manifest.decoding.anchors;
    if (!anchors?.length) {
      throw new AppError('MODEL_INVALID', `manifest ${model.manifest.id}: decoder tiny-yolo-face needs decoding.anchors`);
    }
    this.anchors = anchors;
  }

  protected decode([grid]: FloatTensor[], minScore: number): Candidate[] {
    const { width, height } = this.model.manifest.input;
    return decodeTinyYoloGrid(grid!, this.anchors, minScore, width, height);
  }
}
