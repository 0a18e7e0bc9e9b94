import type { Box } from '../../core/types.js';
import { CliError } from './cli-main.js';

/** An error response of the service: its stable code and message. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiGallery {
  name: string;
  pack: string;
  embedder: { embedderId: string; dimension: number; metric: string };
  entryCount: number;
  labelCount: number;
  /** null while the gallery's pack is not loaded by the service. */
  effective: { threshold: number; topK: number } | null;
}

export interface ApiEntry {
  id: string;
  label: string;
  metadata: Record<string, unknown> | null;
  box: Box;
  imageSha256: string;
}

export interface ApiRecognized {
  width: number;
  height: number;
  objects: { box: Box; score: number; matches: { entryId: string; label: string; similarity: number }[]; verified?: { inliers: number } }[];
}

const MAX_RETRIES = 20;

/** The few calls the CLIs make to a running service (fetch; x-api-key when a key is set). */
export class ApiClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly apiKey?: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async getGallery(name: string): Promise<ApiGallery | null> {
    try {
      return (await this.call('GET', `/v1/galleries/${encodeURIComponent(name)}`)) as ApiGallery;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'GALLERY_NOT_FOUND') return null;
      throw error;
    }
  }

  async createGallery(name: string, pack: string | undefined): Promise<ApiGallery> {
    return (await this.call('POST', '/v1/galleries', { name, ...(pack ? { pack } : {}) })) as ApiGallery;
  }

  async deleteGallery(name: string): Promise<void> {
    await this.call('DELETE', `/v1/galleries/${encodeURIComponent(name)}`);
  }

  /** Every entry of the gallery, page by page. */
  async *entries(name: string): AsyncGenerator<ApiEntry> {
    let cursor: string | null = null;
    do {
      const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await this.call('GET', `/v1/galleries/${encodeURIComponent(name)}/entries?${query}`)) as { entries: ApiEntry[]; nextCursor: string | null };
      yield* page.entries;
      cursor = page.nextCursor;
    } while (cursor);
  }

  async enrol(name: string, image: Buffer, filename: string, label: string, metadata: Record<string, unknown> | null): Promise<{ id: string; score: number }> {
    const form = new FormData();
    form.append('label', label);
    if (metadata) form.append('metadata', JSON.stringify(metadata));
    form.append('image', new Blob([new Uint8Array(image)]), filename);
    return (await this.call('POST', `/v1/galleries/${encodeURIComponent(name)}/entries`, form)) as { id: string; score: number };
  }

  async recognize(name: string, image: Buffer, filename: string, topK: number): Promise<ApiRecognized> {
    const form = new FormData();
    form.append('topK', String(topK));
    form.append('image', new Blob([new Uint8Array(image)]), filename);
    return (await this.call('POST', `/v1/galleries/${encodeURIComponent(name)}/recognize`, form)) as ApiRecognized;
  }

  /** OVERLOADED (503) is waited out per Retry-After; other errors become ApiError. */
  private async call(method: string, path: string, body?: FormData | Record<string, unknown>): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (this.apiKey) headers['x-api-key'] = this.apiKey;
    if (body !== undefined && !(body instanceof FormData)) headers['content-type'] = 'application/json';
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.base}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: body instanceof FormData ? body : JSON.stringify(body) }),
        });
      } catch (error) {
        // The service is gone or unreachable: every further call would fail the same way.
        throw new CliError(`cannot reach the service at ${this.base}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
      }
      const text = await response.text();
      const parsed = text ? safeJson(text) : null;
      if (response.ok) return parsed;
      const err = (parsed ?? {}) as { code?: string; message?: string };
      if (response.status === 503 && err.code === 'OVERLOADED' && attempt < MAX_RETRIES) {
        const seconds = Number(response.headers.get('retry-after') ?? '1');
        await new Promise((r) => setTimeout(r, 1000 * (Number.isFinite(seconds) && seconds > 0 ? seconds : 1)));
        continue;
      }
      if (response.status === 401) throw new CliError(`the service refused the API key (${err.message ?? 'unauthorized'}); set SPOTTER_API_KEY or pass --api-key`);
      throw new ApiError(response.status, err.code ?? `HTTP_${response.status}`, err.message ?? (text.slice(0, 200) || response.statusText));
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}
