import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Open without an API key (see auth.ts): `security: []` says so in the OpenAPI document.
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive', security: [] } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['health'], summary: 'Models and galleries are loaded', security: [] } }, async (_request, reply) => {
    const state = deps.readiness();
    return reply.code(state.ready ? 200 : 503).send({ status: state.ready ? 'ready' : 'not ready', ...state });
  });
}
