import { AppError } from '../core/app-error.js';
import type { Box } from '../core/types.js';
import type { EmbedderBinding, LocalFeatures } from './gallery-types.js';

/** Also a safe file name: it names the gallery's snapshot file. */
const GALLERY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function checkGalleryName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !GALLERY_NAME.test(name)) {
    throw new AppError(
      'BAD_REQUEST',
      'A gallery name is 1-64 characters of A-Z, a-z, 0-9, "_", "." or "-", starting with a letter or digit.',
    );
  }
}

export function checkLabel(label: unknown): asserts label is string {
  if (typeof label !== 'string' || label.trim().length === 0 || CONTROL_CHARS.test(label)) {
    throw new AppError('INVALID_LABEL', 'A label is a non-empty string without control characters.');
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function checkMetadata(metadata: unknown): asserts metadata is Record<string, unknown> | null {
  if (metadata !== null && !isPlainObject(metadata)) {
    throw new AppError('INVALID_METADATA', 'Metadata is a JSON object or null.');
  }
}

export function checkSettings(settings: unknown): asserts settings is Record<string, unknown> {
  if (!isPlainObject(settings)) throw new AppError('BAD_REQUEST', 'Gallery settings are a JSON object.');
}

export function checkBox(box: unknown): asserts box is Box {
  const ok =
    Array.isArray(box) &&
    box.length === 4 &&
    box.every((v) => typeof v === 'number' && Number.isFinite(v)) &&
    (box[0] as number) < (box[2] as number) &&
    (box[1] as number) < (box[3] as number);
  if (!ok) throw new AppError('INVALID_BOX', 'A box is [x1, y1, x2, y2] with x1 < x2 and y1 < y2.');
}

export function checkSha256(sha: unknown): asserts sha is string {
  if (typeof sha !== 'string' || !SHA256_HEX.test(sha)) {
    throw new AppError('BAD_REQUEST', 'imageSha256 is 64 lowercase hex characters.');
  }
}

/** 1000 ORB keypoints take 40 KB; a record far beyond that is a bug, not features. */
const MAX_LOCAL_FEATURE_BYTES = 4 * 1024 * 1024;

export function checkLocalFeatures(features: LocalFeatures): void {
  const { verifier, data } = features;
  if (typeof verifier !== 'string' || verifier.length === 0 || verifier.length > 128) {
    throw new AppError('BAD_REQUEST', 'Local features name their verifier in 1-128 characters.');
  }
  if (!(data instanceof Uint8Array) || data.byteLength === 0 || data.byteLength > MAX_LOCAL_FEATURE_BYTES) {
    throw new AppError('BAD_REQUEST', `Local features are 1 to ${MAX_LOCAL_FEATURE_BYTES} bytes.`);
  }
}

export function checkBinding(binding: EmbedderBinding): void {
  const ok =
    typeof binding?.embedderId === 'string' &&
    binding.embedderId.length > 0 &&
    Number.isInteger(binding.dimension) &&
    binding.dimension > 0 &&
    binding.metric === 'cosine';
  if (!ok) {
    throw new AppError('BAD_REQUEST', 'An embedder binding is {embedderId, dimension > 0, metric: "cosine"}.');
  }
}

export function sameBinding(a: EmbedderBinding, b: EmbedderBinding): boolean {
  return a.embedderId === b.embedderId && a.dimension === b.dimension && a.metric === b.metric;
}

export function describeBinding(b: EmbedderBinding): string {
  return `${b.embedderId} (${b.dimension}-D, ${b.metric})`;
}

export function checkEntryFields(label: unknown, box: unknown, sha: unknown, metadata: unknown): void {
  checkLabel(label);
  checkBox(box);
  checkSha256(sha);
  checkMetadata(metadata);
}

export function metadataJson(metadata: Record<string, unknown> | null): string | null {
  if (metadata === null) return null;
  try {
    return JSON.stringify(metadata);
  } catch (err) {
    throw new AppError('INVALID_METADATA', 'Metadata must be serialisable as JSON.', { cause: err });
  }
}
