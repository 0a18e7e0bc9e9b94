import { describe, expect, it } from 'vitest';
import { recognitionOverridesSchema, resolveOptions } from '../../../src/pipeline/recognition-options.js';

const defaults = { threshold: 0.9, topK: 5, maxObjects: 10, minScore: 0.5, wholeImageFallback: false };

describe('resolveOptions', () => {
  it('layers pack defaults < gallery settings < request, ignoring undefined', () => {
    const gallery = recognitionOverridesSchema.parse({ threshold: 0.8, topK: 3 });
    const request = recognitionOverridesSchema.parse({ topK: '7', vote: 'true' });
    expect(resolveOptions(defaults, gallery, request)).toEqual({ ...defaults, threshold: 0.8, topK: 7, vote: true });
    expect(resolveOptions(defaults, undefined, { threshold: undefined })).toEqual({ ...defaults, vote: false });
  });

  it('rejects out-of-range values', () => {
    expect(recognitionOverridesSchema.safeParse({ threshold: 2 }).success).toBe(false);
    expect(recognitionOverridesSchema.safeParse({ topK: 0 }).success).toBe(false);
    expect(recognitionOverridesSchema.safeParse({ maxObjects: 1.5 }).success).toBe(false);
  });
});
