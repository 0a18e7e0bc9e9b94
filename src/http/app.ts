import { randomUUID } from 'node:crypto';
import fastifyMultipart, { type MultipartFile } from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AppError } from '../core/app-error.js';
import type { AppDeps } from './app-deps.js';
import { registerAuth } from './auth.js';
import { clientError, frameworkErrors, registerErrorHandler, type ErrorCounter } from './error-handler.js';
import { Metrics } from './metrics.js';
import { errorResponse } from './schemas.js';
import { entryRoutes } from './routes/entry-routes.js';
import { galleryRoutes } from './routes/gallery-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { recognitionRoutes } from './routes/recognition-routes.js';

/** Builds the whole HTTP app without listening, so tests can inject requests or bind a port. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const metrics = new Metrics({
    galleries: () => deps.galleries.listGalleries(),
    queue: () => ({ inFlight: deps.limiter.inFlight, queued: deps.limiter.queued }),
  });
  const count: ErrorCounter = (code) => metrics.rejected.inc({ code });
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // fastify's own answer while closing has no `code`; the onRequest hook below answers instead.
    return503OnClosing: false,
    frameworkErrors: frameworkErrors(count),
    clientErrorHandler: clientError,
    // A request must arrive in full within this time; Node checks its connections for it every
    // quarter of the timeout (by default every 30 s). Its headers get at most 60 s (Node's
    // default): Node swaps the two timeouts when the headers' is the longer one.
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.ceil(config.requestTimeoutMs / 4)),
    },
    // Labels are path parameters (DELETE .../labels/{label}): room for the longest label with every
    // character percent-encoded (4 UTF-8 bytes, 12 characters), where fastify's default is 100.
    routerOptions: { maxParamLength: Math.max(100, config.maxLabelLength * 12) },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Only JSON and multipart carry requests; anything else is a 415.
  app.removeContentTypeParser('text/plain');
  registerErrorHandler(app, count);
  // While closing, a request that still arrives on an open keep-alive connection is refused with
  // 503 NOT_READY (before auth, so whatever its key), and every answer, including those to
  // requests in flight, ends its connection, so that close() does not wait on clients that hold
  // a connection open.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new AppError('NOT_READY', 'the service is stopping; send the request again to a running instance');
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  registerAuth(app, config.apiKey);
  // fastify would read a compressed body as it is and call it malformed JSON or multipart.
  app.addHook('onRequest', async (request) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `compressed request bodies (content-encoding: ${encoding}) are not accepted; images are compressed already`);
    }
  });

  const fieldSize = config.maxMetadataBytes + config.maxLabelLength * 4 + 1024;
  await app.register(fastifyMultipart, {
    // The parts as objects, turned into plain values by the hook below (as 'keyValues' would),
    // so that a text field cut at `fieldSize` can be refused instead of passed on truncated.
    attachFieldsToBody: true,
    // Every file part becomes a Buffer, whatever its declared type (a text/plain part included).
    onFile: async (part: MultipartFile) => {
      (part as MultipartFile & { value: unknown }).value = await part.toBuffer();
    },
    limits: { fileSize: config.maxImageBytes, files: 1, fields: 20, parts: 21, fieldSize },
  });
  app.addHook('preValidation', async (request) => {
    if (request.isMultipart()) request.body = multipartValues(request.body, fieldSize);
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Spotter', version: '1', description: 'Cascaded image recognition: detect, embed, search an HNSW gallery.' },
      components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } } },
      security: config.apiKey ? [{ apiKey: [] }] : [],
    },
    transform: jsonSchemaTransform,
    transformObject: (documents) => describeImageParts('openapiObject' in documents ? documents.openapiObject : documents.swaggerObject),
  });
  if (config.docs) await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  metrics.register(app);
  // Answers any /v1 route may give, listed in the OpenAPI document beside its own: a malformed
  // request, a missing key (when one is set), an internal error, not ready or overloaded; a
  // gallery, entry or pack not found (every route but the galleries' listing names one); a body
  // that is neither JSON nor multipart for those that take one; a full disk for those that write.
  // (The health routes answer in their own shapes.)
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { response?: Record<number, unknown> } | undefined;
    if (!schema || !route.url.startsWith('/v1/')) return;
    const methods = [route.method].flat();
    const names = route.url !== '/v1/galleries' || methods.includes('POST');
    const writes = route.url.startsWith('/v1/galleries') && methods.some((m) => m === 'POST' || m === 'PATCH' || m === 'DELETE') && !route.url.endsWith('/recognize');
    const takesBody = methods.some((m) => m === 'POST' || m === 'PATCH');
    schema.response = {
      400: errorResponse,
      ...(config.apiKey ? { 401: errorResponse } : {}),
      ...(names ? { 404: errorResponse } : {}),
      ...(takesBody ? { 415: errorResponse } : {}),
      500: errorResponse,
      503: errorResponse,
      ...(writes ? { 507: errorResponse } : {}),
      ...schema.response,
    };
  });

  await app.register(async (scope) => {
    await healthRoutes(scope, deps);
    await galleryRoutes(scope, deps);
    await entryRoutes(scope, deps);
    await recognitionRoutes(scope, deps, (route, timings) => metrics.observeStages(route, timings));
  });
  return app;
}

/** A multipart part as @fastify/multipart attaches it to the body. */
interface AttachedPart {
  type: 'field' | 'file';
  value?: unknown;
  valueTruncated?: boolean;
}

/**
 * Each part's value (a field's text or parsed JSON, a file's bytes), a list for a repeated name;
 * a text field longer than `fieldSize` is refused with 413 rather than passed on cut short.
 */
function multipartValues(body: unknown, fieldSize: number): Record<string, unknown> {
  const valueOf = (name: string, part: AttachedPart): unknown => {
    if (part.type === 'field' && part.valueTruncated) {
      const hint = name === 'image' ? '; send the image as a file part' : '';
      throw new AppError('PAYLOAD_TOO_LARGE', `the multipart field '${name}' is longer than ${fieldSize} bytes${hint}`);
    }
    return part.value;
  };
  const values: Record<string, unknown> = {};
  for (const [name, part] of Object.entries((body ?? {}) as Record<string, AttachedPart | AttachedPart[]>)) {
    values[name] = Array.isArray(part) ? part.map((p) => valueOf(name, p)) : valueOf(name, part);
  }
  return values;
}

type SchemaObject = { properties?: Record<string, unknown>; required?: string[] };
type Operation = { requestBody?: { content?: Record<string, { schema?: SchemaObject }> } };

/**
 * One zod schema validates both bodies a route takes, so `image` (a file part in multipart, a
 * base64 string in JSON) comes out untyped. The document says what each content type carries,
 * which also gives the docs page a file chooser for multipart.
 */
function describeImageParts<T extends { paths?: unknown }>(document: T): T {
  const image = {
    'multipart/form-data': { type: 'string', format: 'binary', description: 'the image file (JPEG, PNG, WebP, GIF, TIFF, AVIF)' },
    'application/json': { type: 'string', description: 'the image as base64, or a data: URL' },
  } as const;
  for (const methods of Object.values((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const operation of Object.values(methods)) {
      const content = operation.requestBody?.content ?? {};
      for (const [type, media] of Object.entries(content)) {
        const schema = media.schema;
        if (!schema?.properties || !('image' in schema.properties) || !(type in image)) continue;
        // The content types share one media object: each gets its own copy.
        content[type] = {
          ...media,
          schema: {
            ...schema,
            properties: { ...schema.properties, image: image[type as keyof typeof image] },
            required: [...new Set([...(schema.required ?? []), 'image'])],
          },
        };
      }
    }
  }
  return document;
}
