import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { bootstrap, type Runtime } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';

export const PHOTOS = join(import.meta.dirname, '..', 'fixtures', 'photos');
export const photo = (name: string): Buffer => readFileSync(join(PHOTOS, name));

export interface TestApp {
  app: FastifyInstance;
  runtime: Runtime;
  dataDir: string;
  close(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * The real app (real models, real store in a temp folder) without a port. `beforeReady` may add
 * a test's own hooks, which fastify accepts only before the app is ready.
 */
export async function startTestApp(overrides: Record<string, unknown> = {}, dataDir?: string, beforeReady?: (app: FastifyInstance) => void): Promise<TestApp> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'spotter-test-'));
  const config = loadConfig({}, { dataDir: dir, logLevel: 'silent', intraOpThreads: 2, ...overrides });
  const runtime = await bootstrap(config, { logger: pino({ level: 'silent' }) });
  const app = await buildApp(runtime);
  beforeReady?.(app);
  await app.ready();
  return {
    app,
    runtime,
    dataDir: dir,
    async close(options = {}) {
      await app.close();
      await runtime.dispose();
      if (!options.keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A multipart/form-data body built by hand, so tests control every byte. */
export { multipartBody as multipart } from '../../src/cli/shared/multipart-body.js';
