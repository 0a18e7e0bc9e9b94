import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app-deps.js';

const readiness = z.object({
  status: z.enum(['ready', 'not ready']),
  ready: z.boolean(),
  packs: z.array(z.object({ name: z.string(), detector: z.string(), embedder: z.string(), dimension: z.number() })),
  galleries: z.number(),
  problem: z.string().optional().describe('why the service is not ready although it has started (an unreadable database, shutting down)'),
});

export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Open without an API key (see auth.ts): `security: []` says so in the OpenAPI document.
  r.get('/healthz', {
    schema: { tags: ['health'], summary: 'The process is alive', security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  r.get('/readyz', {
    schema: { tags: ['health'], summary: 'Models and galleries are loaded', security: [], response: { 200: readiness, 503: readiness } },
  }, async (_request, reply) => {
    const state = deps.readiness();
    return reply.code(state.ready ? 200 : 503).send({ status: state.ready ? ('ready' as const) : ('not ready' as const), ...state });
  });
}
