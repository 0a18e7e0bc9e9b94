import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { GalleryRef } from '../../gallery/gallery-types.js';
import type { RecognitionOverrides } from '../../pipeline/recognition-options.js';
import type { AppDeps } from '../app-deps.js';
import { clientGone, imageBytes, validBox, validLabel, validMetadata } from '../request-input.js';
import {
  enrolBody, enrolResponse, entryParams, entryResponse, errorResponse, galleryParams, labelParams, labelsResponse,
  listEntriesQuery, listEntriesResponse, patchEntryBody,
} from '../schemas.js';

/** The gallery as the pipeline sees it (no entry counting on the hot path), tied to its id as the request found it. */
export const pipelineRef = (g: GalleryRef) => ({ name: g.name, id: g.id, pack: g.pack, embedder: g.embedder, settings: g.settings as RecognitionOverrides });

export async function entryRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['entries'];
  const { config } = deps;

  r.post('/v1/galleries/:name/entries', {
    schema: {
      tags, summary: 'Enrol one subject of an image under a label', consumes: ['multipart/form-data', 'application/json'],
      params: galleryParams, body: enrolBody,
      response: { 201: enrolResponse, 409: errorResponse, 413: errorResponse, 415: errorResponse, 422: errorResponse },
    },
  }, async (request, reply) => {
    const gallery = pipelineRef(deps.galleries.getGalleryRef(request.params.name));
    const label = validLabel(request.body.label, config.maxLabelLength);
    const metadata = validMetadata(request.body.metadata, config.maxMetadataBytes);
    const box = validBox(request.body.box);
    const bytes = imageBytes(request.body.image, config);
    const result = await deps.pipeline.enrol(bytes, gallery, { label, metadata, box }, deps.galleries, clientGone(reply.raw));
    return reply.code(201).send({ ...result.entry, score: result.score, timings: result.timings });
  });

  r.get('/v1/galleries/:name/entries', {
    schema: { tags, summary: 'List entries, paged', params: galleryParams, querystring: listEntriesQuery, response: { 200: listEntriesResponse } },
  }, async (request) => deps.galleries.listEntries(request.params.name, request.query));

  r.get('/v1/galleries/:name/entries/:id', {
    schema: { tags, summary: 'One entry', params: entryParams, response: { 200: entryResponse, 404: errorResponse } },
  }, async (request) => deps.galleries.getEntry(request.params.name, request.params.id));

  r.patch('/v1/galleries/:name/entries/:id', {
    schema: {
      tags, summary: 'Relabel an entry or edit its metadata (no re-embedding)', params: entryParams, body: patchEntryBody,
      response: { 200: entryResponse, 409: errorResponse },
    },
  }, async (request) => {
    const { label, metadata } = request.body;
    return deps.galleries.updateEntry(request.params.name, request.params.id, {
      ...(label !== undefined ? { label: validLabel(label, config.maxLabelLength) } : {}),
      ...(metadata !== undefined ? { metadata: validMetadata(metadata, config.maxMetadataBytes) } : {}),
    });
  });

  r.delete('/v1/galleries/:name/entries/:id', {
    schema: { tags, summary: 'Delete an entry', params: entryParams, response: { 204: z.null(), 404: errorResponse } },
  }, async (request, reply) => {
    deps.galleries.deleteEntry(request.params.name, request.params.id);
    return reply.code(204).send(null);
  });

  r.get('/v1/galleries/:name/labels', {
    schema: { tags, summary: 'Labels with their entry counts', params: galleryParams, response: { 200: labelsResponse } },
  }, async (request) => ({ labels: deps.galleries.listLabels(request.params.name) }));

  r.delete('/v1/galleries/:name/labels/:label', {
    schema: { tags, summary: 'Delete every entry of a label', params: labelParams, response: { 200: z.object({ deleted: z.number() }), 404: errorResponse } },
  }, async (request) => ({ deleted: deps.galleries.deleteLabel(request.params.name, request.params.label) }));
}
