import { z } from 'zod';
import { parseDecimal } from '../core/decimal.js';
import type { PackDefaults } from '../core/types.js';

/**
 * A number from JSON as it is, or from the text of a multipart field or query string. Anything
 * else (null, false, "", [], an object) is refused, where z.coerce would quietly read it as 0.
 */
const numeric = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' ? parseDecimal(v) : v), schema);

/** Overrides a gallery or a request may make to its pack's defaults. */
export const recognitionOverridesSchema = z.object({
  threshold: numeric(z.number().min(-1).max(1)).optional().describe('Minimum cosine similarity for a label'),
  topK: numeric(z.number().int().min(1).max(100)).optional().describe('Matches returned per object'),
  maxObjects: numeric(z.number().int().min(1).max(100)).optional().describe('Most objects per image'),
  minScore: numeric(z.number().min(0).max(1)).optional().describe('Minimum detector score'),
  vote: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional()
    .describe('Label by a similarity-weighted vote over the top-k matches that pass the threshold'),
  wholeImageFallback: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional()
    .describe('Use the whole image as one object when nothing is detected'),
  subjects: z
    .enum(['detections', 'proposals'])
    .optional()
    .describe("'detections': the detected boxes are the objects; 'proposals': the best gated boxes plus the whole image are searched and the best matches kept"),
  proposals: numeric(z.number().int().min(0).max(20)).optional().describe("'proposals': most detected boxes searched besides the whole image"),
  proposalMinArea: numeric(z.number().min(0).max(1)).optional().describe("'proposals': smallest box searched, as a fraction of the image area"),
  verify: z
    .union([z.boolean(), z.enum(['true', 'false'])])
    .transform((v) => v === true || v === 'true')
    .optional()
    .describe('Re-rank the top matches by local-feature matching with a geometric check (packs with a verifier)'),
});

export type RecognitionOverrides = z.infer<typeof recognitionOverridesSchema>;

export interface RecognitionOptions extends PackDefaults {
  vote: boolean;
}

/** Pack defaults < gallery settings < request options. */
export function resolveOptions(
  defaults: PackDefaults,
  ...layers: (RecognitionOverrides | undefined)[]
): RecognitionOptions {
  const resolved: RecognitionOptions = { ...defaults, vote: false };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return resolved;
}
