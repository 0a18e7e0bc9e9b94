import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../core/app-error.js';

/** Paths that stay open even when an API key is configured. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * When an API key is set, every request except health, metrics and docs needs `x-api-key`.
 * Both sides are hashed first, so the comparison is constant-time whatever the lengths.
 */
export function registerAuth(app: FastifyInstance, apiKey: string | undefined): void {
  if (!apiKey) return;
  const expected = digest(apiKey);
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '';
    if (OPEN_PATHS.has(path) || path === '/docs' || path.startsWith('/docs/')) return;
    const given = request.headers['x-api-key'];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      throw new AppError('UNAUTHORIZED', given === undefined ? 'missing x-api-key header' : 'wrong x-api-key');
    }
  });
}
