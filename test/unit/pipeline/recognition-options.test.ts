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

  it('takes numbers as JSON numbers or decimal text, and refuses anything else instead of reading it as 0', () => {
    expect(recognitionOverridesSchema.parse({ threshold: 0.5, topK: ' 3 ', minScore: '.25', proposalMinArea: '1e-2' })).toEqual({
      threshold: 0.5, topK: 3, minScore: 0.25, proposalMinArea: 0.01,
    });
    for (const bad of [null, false, true, '', ' ', [], [0.99], {}, '0x1', 'Infinity', '1,5']) {
      expect(recognitionOverridesSchema.safeParse({ threshold: bad }).success, JSON.stringify(bad)).toBe(false);
      expect(recognitionOverridesSchema.safeParse({ topK: bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
