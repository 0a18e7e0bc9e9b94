import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/app-error.js';
import type { Detector, Embedder, Pack } from '../core/types.js';
import {
  loadModelManifest,
  loadPackManifest,
  NO_DETECTOR,
  type DetectorManifest,
  type EmbedderManifest,
  type LoadedModelManifest,
} from '../inference/model-manifest.js';
import type { OnnxSession, SessionOptions } from '../inference/onnx-session.js';
import { DECODER_FAMILIES } from './decoders/decoder-registry.js';
import { OnnxDetector } from './decoders/onnx-detector.js';
import { WholeImageDetector } from './decoders/whole-image-detector.js';
import { OnnxEmbedder } from './embedders/onnx-embedder.js';
import { greyImage } from './model-feeds.js';
import { CenternetDetector } from './objects/centernet-detector.js';
import { SsdFaceDetector } from './face/ssd-face-detector.js';
import { TinyFaceDetector } from './face/tiny-face-detector.js';

type DetectorFactory = (model: LoadedModelManifest<DetectorManifest>, options: SessionOptions) => Detector & Sessioned;
type EmbedderFactory = (model: LoadedModelManifest<EmbedderManifest>, options: SessionOptions) => Embedder & Sessioned;
interface Sessioned {
  readonly onnxSession: OnnxSession | undefined;
}

/** Detectors run by the generic OnnxDetector, one per decoder family (decoders/decoder-registry.ts). */
const GENERIC_DETECTORS: Record<string, DetectorFactory> = Object.fromEntries(
  Object.entries(DECODER_FAMILIES).map(([name, family]) => [name, (m: LoadedModelManifest<DetectorManifest>, o: SessionOptions) => new OnnxDetector(m, family, o)]),
);

/** Decoder name (manifest `decoding.decoder`) to detector class. */
const DETECTORS: Record<string, DetectorFactory> = {
  ...GENERIC_DETECTORS,
  [SsdFaceDetector.decoder]: (m, o) => new SsdFaceDetector(m, o),
  [TinyFaceDetector.decoder]: (m, o) => new TinyFaceDetector(m, o),
  [CenternetDetector.decoder]: (m, o) => new CenternetDetector(m, o),
};

/**
 * Embedder implementation (manifest `embedding.implementation`, 'onnx' unless named) to class.
 * The generic one takes all its pre- and post-processing from the manifest.
 */
const EMBEDDERS: Record<string, EmbedderFactory> = {
  onnx: (m, o) => new OnnxEmbedder(m, o),
};

/** Names the manifests may use, for error messages and `models list`. */
export const DETECTOR_DECODERS: readonly string[] = Object.keys(DETECTORS).sort();
export const EMBEDDER_IMPLEMENTATIONS: readonly string[] = Object.keys(EMBEDDERS).sort();

export type LoadedPack = Pack;

export interface LoadPackOptions extends SessionOptions {
  /**
   * Run the detector and the embedder once after loading, on a grey image and through the same
   * preprocessing, extra inputs and decoding as requests, so that a model that does not fit its
   * manifest fails here.
   */
  warmUp?: boolean;
  /** Use this detector manifest (the pack's `detector` or one of its `alternativeDetectors`). */
  detector?: string;
}

async function loadKind<K extends 'detector' | 'embedder'>(
  path: string,
  kind: K,
): Promise<LoadedModelManifest<K extends 'detector' ? DetectorManifest : EmbedderManifest>> {
  const loaded = await loadModelManifest(path);
  if (loaded.manifest.kind !== kind) {
    throw new AppError('MODEL_INVALID', `${path} describes a ${loaded.manifest.kind}, the pack uses it as ${kind}`);
  }
  return loaded as LoadedModelManifest<K extends 'detector' ? DetectorManifest : EmbedderManifest>;
}

/**
 * Reads `<modelsDir>/<packName>/pack.json` and its model manifests, checks the model files,
 * creates the detector and embedder named by the manifests and initialises them.
 */
export async function loadPack(modelsDir: string, packName: string, options: LoadPackOptions = {}): Promise<LoadedPack> {
  const { pack, dir } = await loadPackManifest(modelsDir, packName);
  const detectorFile = options.detector ?? pack.detector;
  if (detectorFile !== pack.detector && !pack.alternativeDetectors?.includes(detectorFile)) {
    throw new AppError('MODEL_INVALID', `pack ${pack.name} has no detector manifest ${detectorFile}`);
  }
  const sessionOptions: SessionOptions = {
    intraOpThreads: options.intraOpThreads,
    interOpThreads: options.interOpThreads,
    sideBySide: options.sideBySide,
    executionProviders: options.executionProviders,
  };
  const detector = await createDetector(dir, detectorFile, sessionOptions);
  const embedderModel = await loadKind(join(dir, pack.embedder), 'embedder');
  const makeEmbedder = EMBEDDERS[embedderModel.manifest.embedding.implementation];
  if (!makeEmbedder) {
    throw new AppError(
      'MODEL_INVALID',
      `${embedderModel.manifestPath}: unknown embedder implementation "${embedderModel.manifest.embedding.implementation}" (known: ${EMBEDDER_IMPLEMENTATIONS.join(', ')})`,
    );
  }
  const embedder = makeEmbedder(embedderModel, sessionOptions);
  try {
    await detector.init();
    await embedder.init();
    if (options.warmUp) {
      const grey = greyImage();
      await detector.detect(grey);
      await embedder.embed([grey]);
    }
  } catch (error) {
    await embedder.dispose();
    await detector.dispose();
    throw error;
  }
  return { name: pack.name, detector, embedder, defaults: pack.defaults };
}

/** The pack's detector: none (the whole image), or the class its manifest's decoder names. */
async function createDetector(dir: string, file: string, sessionOptions: SessionOptions): Promise<Detector & Sessioned> {
  if (file === NO_DETECTOR) return new WholeImageDetector();
  const model = await loadKind(join(dir, file), 'detector');
  const make = DETECTORS[model.manifest.decoding.decoder];
  if (!make) {
    throw new AppError('MODEL_INVALID', `${model.manifestPath}: unknown decoder "${model.manifest.decoding.decoder}" (known: ${DETECTOR_DECODERS.join(', ')})`);
  }
  return make(model, sessionOptions);
}

/** Names of the packs installed under `modelsDir` (folders with a pack.json), sorted. */
export async function listPacks(modelsDir: string): Promise<string[]> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const info = await stat(join(modelsDir, entry.name, 'pack.json')).catch(() => undefined);
    if (info?.isFile()) names.push(entry.name);
  }
  return names.sort();
}
