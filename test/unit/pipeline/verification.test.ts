import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/core/types.js';
import type { GreyImage } from '../../../src/imaging/grey.js';
import type { RecognizedObject } from '../../../src/pipeline/pipeline-types.js';
import { subjectFeatures, verifyObjects, type VerificationStage } from '../../../src/pipeline/verification.js';

const rgb = (width: number, height: number): RgbImage => ({ data: Buffer.alloc(width * height * 3, 128), width, height });

/** A verifier that records the grey images it is given and finds every candidate everywhere. */
function stage(minSide?: number): VerificationStage & { extracted: GreyImage[] } {
  const extracted: GreyImage[] = [];
  return {
    extracted,
    verifier: {
      id: 'fake',
      ...(minSide === undefined ? {} : { minSide }),
      extract: async (image) => {
        extracted.push(image);
        return Uint8Array.of(1);
      },
      match: async () => ({ inliers: 100, corners: [[10, 10], [90, 10], [90, 90], [10, 90]] }),
    },
    store: { localFeatures: () => Uint8Array.of(1) },
  };
}

const object = (label: string | null): RecognizedObject => ({
  box: [0, 0, 10, 10], score: 0.9, label, similarity: 0.5, matches: [{ entryId: 'e1', label: 'box', similarity: 0.5, metadata: null }],
});

describe('subjectFeatures', () => {
  it('takes features of a crop the verifier can use, from its grey image at most 640 a side', async () => {
    const s = stage(63);
    expect(await subjectFeatures(s, rgb(1280, 200))).toEqual({ verifier: 'fake', data: Uint8Array.of(1) });
    expect(s.extracted.map((g) => [g.width, g.height])).toEqual([[640, 100]]);
  });

  it.each([
    [16384, 16],
    [16, 16384],
    [62, 400],
    [16, 16],
  ])('has none for a %ix%i crop, too small or thin in grey for the verifier, and never asks it', async (width, height) => {
    const s = stage(63);
    expect(await subjectFeatures(s, rgb(width, height))).toBeUndefined();
    expect(s.extracted).toEqual([]);
  });

  it('asks a verifier that names no minimum about any image', async () => {
    const s = stage();
    expect(await subjectFeatures(s, rgb(16384, 16))).toBeDefined();
    expect(s.extracted.map((g) => [g.width, g.height])).toEqual([[640, 1]]);
  });
});

describe('verifyObjects', () => {
  it('checks a query the verifier can use', async () => {
    const s = stage(63);
    const [found] = await verifyObjects(s, 'g', rgb(100, 100), [object(null)], [object(null)]);
    expect(found).toMatchObject({ label: 'box', verified: { inliers: 100 } });
  });

  it('leaves the objects as they are for a query too thin for the verifier', async () => {
    const s = stage(63);
    const selected = [object(null)];
    expect(await verifyObjects(s, 'g', rgb(16384, 16), selected, selected)).toBe(selected);
    expect(s.extracted).toEqual([]);
  });
});
