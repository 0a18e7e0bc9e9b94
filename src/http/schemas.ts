import { z } from 'zod';
import { recognitionOverridesSchema } from '../pipeline/recognition-options.js';

/** The request and response shapes of API v1; they validate requests and generate /openapi.json. */

export const galleryNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'gallery names are 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit');

export const galleryParams = z.object({ name: galleryNameSchema });
export const entryParams = z.object({ name: galleryNameSchema, id: z.string().min(1).max(64) });
export const labelParams = z.object({ name: galleryNameSchema, label: z.string().min(1).max(10_000) });

export const boxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]).describe('[x1, y1, x2, y2] in image pixels');

export const gallerySettingsSchema = recognitionOverridesSchema.strict();

export const createGalleryBody = z
  .object({
    name: galleryNameSchema,
    pack: z.string().min(1).max(64).optional().describe('Model pack; the default pack when omitted'),
    settings: gallerySettingsSchema.optional(),
  })
  .strict();

export const patchGalleryBody = z.object({ settings: gallerySettingsSchema }).strict();

export const galleryResponse = z.object({
  name: z.string(),
  pack: z.string(),
  embedder: z.object({ embedderId: z.string(), dimension: z.number(), metric: z.string() }),
  settings: z.record(z.string(), z.unknown()),
  packLoaded: z.boolean().describe('whether the gallery\'s pack is loaded (SPOTTER_PACKS); if not, the gallery cannot be searched or enrolled into'),
  effective: z
    .object({
      threshold: z.number(), topK: z.number(), maxObjects: z.number(), minScore: z.number(), vote: z.boolean(), wholeImageFallback: z.boolean(),
      subjects: z.string(), proposals: z.number(), proposalMinArea: z.number(), verify: z.boolean(),
    })
    .nullable()
    .describe('pack defaults < gallery settings; null while the pack is not loaded'),
  entryCount: z.number(),
  labelCount: z.number(),
  localFeatureCount: z.number().describe('entries enrolled with local features, which verification (verify: true) can check'),
  createdAt: z.string(),
});

/** An image is a file part (multipart) or a base64 string / data URL (JSON). */
const imageField = z.any().optional().describe('multipart: the image file part; JSON: base64 string or data: URL');
const jsonObjectOrString = z.union([z.record(z.string(), z.unknown()), z.string(), z.null()]);

// Request bodies are strict: a misspelt option ("topk") or a field the service does not take
// (a caller's "id") is refused with 400 rather than silently ignored.
export const enrolBody = z
  .object({
    image: imageField,
    label: z.string().describe('Free text, any language; 1 to SPOTTER_MAX_LABEL_LENGTH characters'),
    metadata: jsonObjectOrString.optional().describe('JSON object (a JSON string in multipart); keep your own ids here: entry ids are assigned by the service'),
    box: z.union([boxSchema, z.string()]).optional().describe('Enrol this region instead of the most confident detection'),
  })
  .strict();

export const entryResponse = z.object({
  id: z.string(),
  label: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  box: boxSchema,
  imageSha256: z.string(),
  createdAt: z.string(),
});

export const enrolResponse = entryResponse.extend({
  score: z.number().describe("the detector's confidence in the enrolled box, 0 to 1; 1 for a box given by the caller or the whole image"),
  timings: z.record(z.string(), z.number()),
});

export const listEntriesQuery = z.object({
  label: z.string().max(10_000).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
});

export const listEntriesResponse = z.object({ entries: z.array(entryResponse), nextCursor: z.string().nullable() });

export const patchEntryBody = z
  .object({ label: z.string().optional(), metadata: z.record(z.string(), z.unknown()).nullable().optional() })
  .strict()
  .refine((b) => b.label !== undefined || b.metadata !== undefined, 'give label and/or metadata');

export const labelsResponse = z.object({ labels: z.array(z.object({ label: z.string(), count: z.number() })) });

export const recognizeBody = recognitionOverridesSchema.extend({ image: imageField }).strict();
/** /v1/detect: the detector's boxes, so only the detector's options. */
export const detectBody = recognitionOverridesSchema.pick({ maxObjects: true, minScore: true }).extend({ image: imageField }).strict();
/** /v1/embed: the subjects a recognition would search, so the options that choose them. */
export const embedBody = recognitionOverridesSchema
  .pick({ maxObjects: true, minScore: true, wholeImageFallback: true, subjects: true, proposals: true, proposalMinArea: true })
  .extend({ image: imageField })
  .strict();
export const detectQuery = z.object({ pack: z.string().min(1).max(64).optional() });

const similarity = z.number().describe('cosine similarity of the embeddings, -1 to 1');
const matchSchema = z.object({
  label: z.string(),
  similarity,
  entryId: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable().describe("the entry's metadata, as enrolled"),
});
const timingsSchema = z.record(z.string(), z.number()).describe('milliseconds per stage');
/** A subject that was searched or embedded: a detection, or the whole image. */
const detectedObject = z.object({
  box: boxSchema,
  score: z.number().describe("the detector's confidence, 0 to 1; 1 for the whole image searched as a subject"),
  className: z.string().optional().describe("the detector's class, where it has classes"),
});

export const recognizeResponse = z.object({
  width: z.number(),
  height: z.number(),
  objects: z.array(detectedObject.extend({
    label: z.string().nullable().describe("the best match's label when it passes the threshold (or wins the vote), else null: unknown"),
    similarity: similarity.nullable().describe('similarity of the best match; null when the gallery is empty'),
    matches: z.array(matchSchema).describe('the top-k gallery entries, best first'),
    verified: z.object({ inliers: z.number() }).optional().describe('present when local-feature verification confirmed the label'),
  })),
  timings: timingsSchema,
});
export const detectResponse = z.object({
  width: z.number(),
  height: z.number(),
  objects: z.array(detectedObject.extend({ score: z.number().describe("the detector's confidence, 0 to 1") })),
  timings: timingsSchema,
});
export const embedResponse = z.object({
  width: z.number(),
  height: z.number(),
  objects: z.array(detectedObject.extend({ vector: z.array(z.number()) })),
  timings: timingsSchema,
});

export const errorResponse = z.object({ statusCode: z.number(), code: z.string(), error: z.string(), message: z.string() });
