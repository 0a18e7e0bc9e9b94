import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app-deps.js';
import { clientGone, imageBytes } from '../request-input.js';
import {
  detectBody, detectQuery, detectResponse, embedBody, embedResponse, errorResponse, galleryParams, recognizeBody, recognizeResponse,
} from '../schemas.js';
import { pipelineRef } from './entry-routes.js';

export async function recognitionRoutes(app: FastifyInstance, deps: AppDeps, observe: (route: string, timings: Record<string, number>) => void): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['recognition'];
  const consumes = ['multipart/form-data', 'application/json'];
  const errors = { 400: errorResponse, 413: errorResponse, 415: errorResponse, 422: errorResponse, 503: errorResponse };
  // A gallery made with another embedder than its pack's now (EMBEDDER_MISMATCH).
  const mismatch = { 409: errorResponse };

  r.post('/v1/galleries/:name/recognize', {
    schema: { tags, summary: 'Detect, embed and look up every subject of an image', consumes, params: galleryParams, body: recognizeBody, response: { 200: recognizeResponse, ...errors, ...mismatch } },
  }, async (request, reply) => {
    const gallery = pipelineRef(deps.galleries.getGalleryRef(request.params.name));
    const { image, ...options } = request.body;
    const result = await deps.pipeline.recognize(imageBytes(image, deps.config), gallery, options, clientGone(reply.raw));
    observe('recognize', result.timings);
    return result;
  });

  // Pack-level debugging endpoints: the same cascade without a gallery.
  const packRoutes = [
    { name: 'detect' as const, summary: "The pack's detector boxes (debugging, clients)", body: detectBody, response: detectResponse },
    { name: 'embed' as const, summary: 'Embed the subjects a recognition would search (detections, or proposals and the whole image); returns each vector', body: embedBody, response: embedResponse },
  ];
  for (const route of packRoutes) {
    r.post(`/v1/${route.name}`, {
      schema: { tags, summary: route.summary, consumes, querystring: detectQuery, body: route.body, response: { 200: route.response, ...errors } },
    }, async (request, reply) => {
      const { image, ...options } = request.body;
      const pack = request.query.pack ?? deps.config.defaultPack;
      const result = await deps.pipeline[route.name](imageBytes(image, deps.config), pack, options, clientGone(reply.raw));
      observe(route.name, result.timings);
      return result;
    });
  }
}
