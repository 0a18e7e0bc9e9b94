import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, photo, startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Subjects at the edge of what the service takes: a caller's box must be no smaller than a whole
 * image may be (16 px a side), and an image or box too thin for local features is enrolled
 * without them rather than failing, in a gallery that verifies (the objects pack's default).
 */
const VERIFIER = 'orb1000-ratio0.75-ransac5';

describe('thin and tiny subjects', () => {
  let t: TestApp;
  const scene = photo('box_in_scene.png');
  /** Strips as long as an image may be and as thin, in both orientations, cut from a real photo. */
  const strips: Record<string, Buffer> = {};

  beforeAll(async () => {
    t = await startTestApp();
    for (const [name, width, height] of [['wide', 16384, 16], ['tall', 16, 16384]] as const) {
      strips[name] = await sharp(scene).resize(width, height, { fit: 'fill' }).png().toBuffer();
    }
    for (const payload of [{ name: 'shelf' }, { name: 'people', pack: 'face' }]) {
      const res = await t.app.inject({ method: 'POST', url: '/v1/galleries', payload });
      expect(res.statusCode, res.body).toBe(201);
    }
  }, 120_000);
  afterAll(async () => t?.close());

  const enrol = (gallery: string, fields: Record<string, string>, image: Buffer) =>
    t.app.inject({ method: 'POST', url: `/v1/galleries/${gallery}/entries`, ...multipart(fields, { image: { data: image } }) });
  const recognize = async (image: Buffer) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries/shelf/recognize', payload: { image: image.toString('base64') } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const gallery = async () => (await t.app.inject({ url: '/v1/galleries/shelf' })).json();

  it.each([
    ['0,0,512,1', '512x1'],
    ['0,0,1,384', '1x384'],
    ['0,0,1,1', '1x1'],
    ['[10,20,25,120]', '15x100'],
    ['0,0,512,15.5', '512x15.5'],
  ])('refuses box %s (a side under 16 px) with 422 IMAGE_TOO_SMALL', async (box, size) => {
    const res = await enrol('shelf', { label: 'x', box }, scene);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().code).toBe('IMAGE_TOO_SMALL');
    expect(res.json().message).toContain(`is ${size}, a side is shorter than 16`);
  });

  it('refuses a 1 px box in a face gallery too (JSON), and stores nothing', async () => {
    const res = await t.app.inject({
      method: 'POST', url: '/v1/galleries/people/entries', payload: { label: 'x', box: [0, 0, 1, 1], image: photo('astronaut.png').toString('base64') },
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().code).toBe('IMAGE_TOO_SMALL');
    expect((await t.app.inject({ url: '/v1/galleries/people' })).json().entryCount).toBe(0);
    expect((await gallery()).entryCount).toBe(0);
  });

  it('still refuses a box outside the image as INVALID_BOX', async () => {
    const res = await enrol('shelf', { label: 'x', box: '0,0,513,1' }, scene);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('INVALID_BOX');
  });

  it('enrols a box of exactly 16 px a side, without local features (too small for ORB)', async () => {
    const res = await enrol('shelf', { label: 'sliver', box: '100,100,116,300' }, scene);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().box).toEqual([100, 100, 116, 300]);
    expect(t.runtime.galleries.localFeatures('shelf', res.json().id, VERIFIER)).toBeUndefined();
  });

  it.each(['wide', 'tall'])('enrols a %s 16384 x 16 image without a box: 201, stored without local features', async (name) => {
    const res = await enrol('shelf', { label: `strip-${name}` }, strips[name]!);
    expect(res.statusCode, res.body).toBe(201);
    const entry = res.json();
    expect(entry.box).toEqual(name === 'wide' ? [0, 0, 16384, 16] : [0, 0, 16, 16384]);
    expect(t.runtime.galleries.localFeatures('shelf', entry.id, VERIFIER)).toBeUndefined();
  });

  it('recognises a strip by its embedding (nothing to verify), with no error', async () => {
    const result = await recognize(strips.wide!);
    expect(result.objects[0].label).toBe('strip-wide');
    expect(result.objects[0].verified).toBeUndefined();
  });

  it('a normal enrolment still has features, and verification still finds it among entries without', async () => {
    const res = await enrol('shelf', { label: 'bastoncini' }, photo('box.png'));
    expect(res.statusCode, res.body).toBe(201);
    expect(t.runtime.galleries.localFeatures('shelf', res.json().id, VERIFIER)?.byteLength).toBeGreaterThan(1000);
    const g = await gallery();
    expect(g).toMatchObject({ entryCount: 4, localFeatureCount: 1 });
    const result = await recognize(scene);
    expect(result.objects[0].label).toBe('bastoncini');
    expect(result.objects[0].verified.inliers).toBeGreaterThanOrEqual(15);
  });
});
