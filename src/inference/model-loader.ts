import { AppError } from '../core/app-error.js';
import { checkSessionAgainstManifest, loadModelManifest, type LoadedModelManifest } from './model-manifest.js';
import { OnnxSession, type SessionOptions } from './onnx-session.js';

export interface OpenedModel extends LoadedModelManifest {
  session: OnnxSession;
}

/**
 * Validates a model manifest and its file, creates the session and checks the input and output
 * names against the manifest; a session that does not match is released before the error.
 */
export async function openModel(manifestPath: string, sessionOptions: SessionOptions = {}): Promise<OpenedModel> {
  const loaded = await loadModelManifest(manifestPath);
  return openLoadedModel(loaded, sessionOptions);
}

export async function openLoadedModel(loaded: LoadedModelManifest, sessionOptions: SessionOptions = {}): Promise<OpenedModel> {
  let session: OnnxSession;
  try {
    session = await OnnxSession.create(loaded.modelPath, sessionOptions);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AppError('MODEL_INVALID', `model file ${loaded.modelPath} cannot be loaded by onnxruntime: ${reason}`, { cause });
  }
  try {
    checkSessionAgainstManifest(session, loaded.manifest);
  } catch (error) {
    await session.dispose();
    throw error;
  }
  return { ...loaded, session };
}
