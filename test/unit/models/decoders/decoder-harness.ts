import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelManifest, type DetectorManifest, type LoadedModelManifest } from '../../../../src/inference/model-manifest.js';
import { DECODER_FAMILIES } from '../../../../src/models/decoders/decoder-registry.js';
import { OnnxDetector } from '../../../../src/models/decoders/onnx-detector.js';
import { TEST_SOURCE, writeModel } from '../../../helpers/synthetic-models.js';

/** A temp folder for model files, and a way to open a synthetic detector from a manifest. */
export class DecoderHarness {
  private dir = '';
  private readonly opened: OnnxDetector[] = [];

  async setUp(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'decoders-'));
  }

  async tearDown(): Promise<void> {
    for (const d of this.opened) await d.dispose();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Writes the model and manifest, validates both, creates and initialises the detector. */
  async open(bytes: Uint8Array, manifest: Record<string, unknown>, base = 'model'): Promise<OnnxDetector> {
    const path = await writeModel(this.dir, base, bytes, { kind: 'detector', source: TEST_SOURCE, ...manifest });
    const loaded = (await loadModelManifest(path)) as LoadedModelManifest<DetectorManifest>;
    const family = DECODER_FAMILIES[loaded.manifest.decoding.decoder];
    if (!family) throw new Error(`no decoder family ${loaded.manifest.decoding.decoder}`);
    const detector = new OnnxDetector(loaded, family, { intraOpThreads: 1 });
    this.opened.push(detector);
    await detector.init();
    return detector;
  }
}

export const IMAGENET = { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] };
