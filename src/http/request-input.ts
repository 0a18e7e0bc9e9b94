import type { ServerResponse } from 'node:http';
import { AppError } from '../core/app-error.js';
import { parseDecimal } from '../core/decimal.js';
import type { Box } from '../core/types.js';
import { decodeBase64Image } from '../imaging/decode.js';

export interface InputLimits {
  maxImageBytes: number;
  maxLabelLength: number;
  maxMetadataBytes: number;
}

/** The image bytes of a multipart file part or a base64 JSON field. */
export function imageBytes(value: unknown, limits: InputLimits): Buffer {
  if (value === undefined || value === null || value === '') {
    if (value === '') throw new AppError('IMAGE_EMPTY', 'the image field is empty');
    throw new AppError('IMAGE_MISSING', "no image: send a multipart file part named 'image' or a JSON field 'image' with base64");
  }
  if (Buffer.isBuffer(value)) {
    if (value.length === 0) throw new AppError('IMAGE_EMPTY', 'the image file is zero bytes long');
    return value;
  }
  if (typeof value === 'string') {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value.slice(0, 64))) {
      throw new AppError('IMAGE_BASE64_INVALID', "'image' is a URL: images are never fetched; send the bytes as a multipart file part or as base64 (or a data: URL)");
    }
    return decodeBase64Image(value, limits.maxImageBytes);
  }
  throw new AppError('BAD_REQUEST', "'image' must be a file part or a base64 string");
}

// Control characters (C0, DEL and C1) other than ordinary spaces make labels unprintable and
// unsearchable.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function validLabel(value: unknown, maxLength: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw new AppError('INVALID_LABEL', 'label must be a non-empty string');
  // A lone surrogate cannot be stored as UTF-8 (it would come back as U+FFFD) nor sent in a URL.
  if (LONE_SURROGATE.test(value)) throw new AppError('INVALID_LABEL', 'label is not well-formed Unicode (a lone surrogate)');
  if ([...value].length > maxLength) throw new AppError('INVALID_LABEL', `label is longer than ${maxLength} characters`);
  if (CONTROL.test(value)) throw new AppError('INVALID_LABEL', 'label must not contain control characters');
  return value.normalize('NFC');
}

/**
 * Deepest nesting of objects and arrays accepted in metadata. Metadata is a flat record in
 * practice; the bound keeps every later JSON.stringify and response serialisation far from the
 * stack limit (16 KB of brackets would otherwise nest 8,000 deep).
 */
export const MAX_METADATA_DEPTH = 32;

/** Whether `value` nests objects and arrays deeper than `limit` (iterative: no recursion to overflow). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

export function validMetadata(value: unknown, maxBytes: number): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new AppError('INVALID_METADATA', 'metadata is not valid JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AppError('INVALID_METADATA', 'metadata must be a JSON object');
  if (nestsDeeperThan(parsed, MAX_METADATA_DEPTH)) throw new AppError('INVALID_METADATA', `metadata nests objects and arrays more than ${MAX_METADATA_DEPTH} deep`);
  if (Buffer.byteLength(JSON.stringify(parsed)) > maxBytes) throw new AppError('INVALID_METADATA', `metadata is larger than ${maxBytes} bytes`);
  return parsed as Record<string, unknown>;
}

/** A box from JSON ([x1, y1, x2, y2]) or multipart ("[x1,y1,x2,y2]" or "x1,y1,x2,y2"). */
export function validBox(value: unknown): Box | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let parts: unknown = value;
  if (typeof value === 'string') {
    const text = value.trim();
    try {
      parts = text.startsWith('[') ? JSON.parse(text) : text.split(',').map(parseDecimal);
    } catch {
      throw new AppError('INVALID_BOX', 'box is not [x1, y1, x2, y2]');
    }
  }
  if (!Array.isArray(parts) || parts.length !== 4 || !parts.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new AppError('INVALID_BOX', 'box must be four finite numbers [x1, y1, x2, y2]');
  }
  const box = parts as Box;
  if (!(box[0] < box[2] && box[1] < box[3])) {
    throw new AppError('INVALID_BOX', 'box needs x1 < x2 and y1 < y2: it is [x1, y1, x2, y2], two corners, not [x, y, width, height]');
  }
  return box;
}

/**
 * Aborts when the client's connection closes before its answer is sent: the request then leaves
 * the inference queue (or is not run when its turn comes) instead of running for no one.
 */
export function clientGone(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (response.destroyed) controller.abort();
  else response.once('close', () => response.writableFinished || controller.abort());
  return controller.signal;
}
