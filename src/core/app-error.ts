/**
 * The one error type of the application. Each code is stable (clients match on it), maps to
 * one HTTP status, and is documented in the README's error table (a test holds this).
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, summary: 'The request is malformed (shape, types or values).' },
  IMAGE_MISSING: { status: 400, summary: 'The request carries no image.' },
  IMAGE_EMPTY: { status: 400, summary: 'The image is zero bytes long.' },
  IMAGE_BASE64_INVALID: { status: 400, summary: 'The base64 image string is not valid base64.' },
  IMAGE_DECODE_FAILED: { status: 422, summary: 'The bytes are not a readable image (corrupt, truncated or not an image).' },
  IMAGE_FORMAT_UNSUPPORTED: { status: 415, summary: 'The image format is not accepted (e.g. SVG, PDF).' },
  IMAGE_TOO_LARGE: { status: 413, summary: 'The image exceeds the byte or pixel limit (decompression bomb guard).' },
  IMAGE_TOO_SMALL: { status: 422, summary: 'The image or box is smaller than the model can use.' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body, or a field of it, exceeds the size limit.' },
  REQUEST_TIMEOUT: { status: 408, summary: 'The request was not received in full within the request timeout.' },
  HEADERS_TOO_LARGE: { status: 431, summary: 'The request headers exceed the size the server accepts.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The request content type is not JSON or multipart/form-data.' },
  INVALID_BOX: { status: 400, summary: 'The box is not [x1, y1, x2, y2] inside the image with x1 < x2, y1 < y2.' },
  INVALID_METADATA: { status: 400, summary: 'The metadata is not a JSON object, is too large or nests too deep.' },
  INVALID_LABEL: { status: 400, summary: 'The label is empty, too long or contains control characters.' },
  NO_SUBJECT_FOUND: { status: 422, summary: 'No subject (e.g. no face) was found to enrol.' },
  UNAUTHORIZED: { status: 401, summary: 'The x-api-key header is missing or wrong.' },
  NOT_FOUND: { status: 404, summary: 'No such route.' },
  GALLERY_NOT_FOUND: { status: 404, summary: 'No gallery with this name.' },
  GALLERY_EXISTS: { status: 409, summary: 'A gallery with this name already exists.' },
  ENTRY_NOT_FOUND: { status: 404, summary: 'No entry with this id in the gallery.' },
  LABEL_NOT_FOUND: { status: 404, summary: 'No entry carries this label in the gallery.' },
  DUPLICATE_ENTRY: { status: 409, summary: 'The same image bytes are already enrolled under this label.' },
  PACK_NOT_FOUND: { status: 404, summary: 'No model pack with this name is installed.' },
  EMBEDDER_MISMATCH: { status: 409, summary: 'The gallery index belongs to another embedder (id, dimension or metric).' },
  DIMENSION_MISMATCH: { status: 400, summary: 'A vector does not have the gallery dimension.' },
  OVERLOADED: { status: 503, summary: 'The inference queue is full; retry after the Retry-After seconds.' },
  NOT_READY: { status: 503, summary: 'The service is starting or stopping.' },
  STORAGE_FULL: { status: 507, summary: 'The disk of the data folder is full; nothing was stored.' },
  MODEL_INVALID: { status: 500, summary: 'A model file or manifest is missing, corrupt or inconsistent.' },
  INTERNAL: { status: 500, summary: 'An unexpected error; details are in the server log.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.statusCode = ERROR_CODES[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
