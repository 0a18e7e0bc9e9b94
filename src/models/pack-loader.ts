import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../core/app-error.js';
import type { Detector, Embedder, Pack } from '../core/types.js';
import {
  loadModelManifest,
  loadPackManifest,
  type DetectorManifest,
  type EmbedderManifest,
  type LoadedModelManifest,
} from '../inference/model-manifest.js';
import { warmUp, type OnnxSession, type SessionOptions } from '../inference/onnx-session.js';
import { FaceEmbedder } from './face/face-embedder.js';
import { SsdFaceDetector } from './face/ssd-face-detector.js';
import { TinyFaceDetector } from './face/tiny-face-detector.js';

type DetectorFactory = (model: LoadedModelManifest<DetectorManifest>, options: SessionOptions) => Detector & Sessioned;
type EmbedderFactory = (model: LoadedModelManifest<EmbedderManifest>, options: SessionOptions) => Embedder & Sessioned;
interface Sessioned {
  readonly onnxSession: OnnxSession | undefined;
}

/** Decoder name (manifest `decoding.decoder`) to detector class. */
const DETECTORS: Record<string, DetectorFactory> = {
  [SsdFaceDetector.decoder]: (m, o) => new SsdFaceDetector(m, o),
  [TinyFaceDetector.decoder]: (m, o) => new TinyFaceDetector(m, o),
};

/** Embedders take all their preprocessing from the manifest, so one class serves the kind. */
const EMBEDDERS: Record<string, EmbedderFactory> = {
  embedder: (m, o) => new FaceEmbedder(m, o),
};

export type LoadedPack = Pack;

export interface LoadPackOptions extends SessionOptions {
  /** Run each session once on zeros after loading. */
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
    executionProviders: options.executionProviders,
  };
  const detectorModel = await loadKind(join(dir, detectorFile), 'detector');
  const embedderModel = await loadKind(join(dir, pack.embedder), 'embedder');
  const makeDetector = DETECTORS[detectorModel.manifest.decoding.decoder];
  if (!makeDetector) {
    const known = Object.keys(DETECTORS).join(', ');
    throw new AppError('MODEL_INVALID', `${detectorModel.manifestPath}: unknown decoder "${detectorModel.manifest.decoding.decoder}" (known: ${known})`);
  }
  const detector = makeDetector(detectorModel, sessionOptions);
  const embedder = EMBEDDERS[embedderModel.manifest.kind]!(embedderModel, sessionOptions);
  try {
    await detector.init();
    await embedder.init();
    if (options.warmUp) {
      for (const part of [detector, embedder]) if (part.onnxSession) await warmUp(part.onnxSession);
    }
  } catch (error) {
    await embedder.dispose();
    await detector.dispose();
    throw error;
  }
  return { name: pack.name, detector, embedder, defaults: pack.defaults };
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
