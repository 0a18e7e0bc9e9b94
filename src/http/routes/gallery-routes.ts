import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GalleryInfo } from '../../gallery/gallery-types.js';
import { embedderOf } from '../../pipeline/pipeline-types.js';
import { resolveOptions, type RecognitionOverrides } from '../../pipeline/recognition-options.js';
import { explicitOptions } from '../../pipeline/subject-proposals.js';
import type { AppDeps } from '../app-deps.js';
import { createGalleryBody, errorResponse, galleryParams, galleryResponse, patchGalleryBody } from '../schemas.js';

export async function galleryRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['galleries'];
  // A gallery whose pack is not loaded (left out of SPOTTER_PACKS) is still listed and can be
  // read, edited or deleted; it has no effective settings until its pack is loaded again.
  const view = (g: GalleryInfo) => {
    const pack = deps.pipeline.loadedPack(g.pack);
    return { ...g, packLoaded: pack !== undefined, effective: pack ? explicitOptions(resolveOptions(pack.defaults, g.settings as RecognitionOverrides)) : null };
  };

  r.post('/v1/galleries', {
    schema: { tags, summary: 'Create a gallery bound to a model pack', body: createGalleryBody, response: { 201: galleryResponse, 409: errorResponse } },
  }, async (request, reply) => {
    const packName = request.body.pack ?? deps.config.defaultPack;
    const pack = deps.pipeline.pack(packName);
    const gallery = deps.galleries.createGallery({
      name: request.body.name,
      pack: pack.name,
      embedder: embedderOf(pack),
      settings: request.body.settings ?? {},
    });
    return reply.code(201).send(view(gallery));
  });

  r.get('/v1/galleries', {
    schema: { tags, summary: 'List galleries', response: { 200: z.object({ galleries: z.array(galleryResponse) }) } },
  }, async () => ({ galleries: deps.galleries.listGalleries().map(view) }));

  r.get('/v1/galleries/:name', {
    schema: { tags, summary: 'A gallery: pack, counts, thresholds', params: galleryParams, response: { 200: galleryResponse, 404: errorResponse } },
  }, async (request) => view(deps.galleries.getGallery(request.params.name)));

  r.patch('/v1/galleries/:name', {
    schema: { tags, summary: 'Replace the gallery settings (threshold, topK, ...)', params: galleryParams, body: patchGalleryBody, response: { 200: galleryResponse } },
  }, async (request) => view(deps.galleries.updateGallerySettings(request.params.name, request.body.settings)));

  r.delete('/v1/galleries/:name', {
    schema: { tags, summary: 'Delete a gallery and all its entries', params: galleryParams, response: { 204: z.null(), 404: errorResponse } },
  }, async (request, reply) => {
    deps.galleries.deleteGallery(request.params.name);
    return reply.code(204).send(null);
  });
}

