import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, photo, startTestApp, type TestApp } from '../helpers/test-app.js';

/** The service end to end through the real app: real models, real sharp, real SQLite and HNSW. */
describe('recognition API (face pack)', () => {
  let t: TestApp;
  let entryId: string;
  const astronaut = photo('astronaut.png');
  let variants: Record<string, Buffer>;

  beforeAll(async () => {
    t = await startTestApp();
    variants = {
      cropped: await sharp(astronaut).extract({ left: 90, top: 10, width: 300, height: 320 }).png().toBuffer(),
      rotated: await sharp(astronaut).rotate(12, { background: '#808080' }).png().toBuffer(),
      blurred: await sharp(astronaut).blur(1.5).png().toBuffer(),
      recompressed: await sharp(astronaut).resize(384).jpeg({ quality: 40 }).toBuffer(),
    };
  });
  afterAll(async () => t?.close());

  const recognize = async (image: Buffer, gallery = 'people') => {
    const res = await t.app.inject({ method: 'POST', url: `/v1/galleries/${gallery}/recognize`, payload: { image: image.toString('base64') } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };

  it('creates a gallery bound to the face embedder', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries', payload: { name: 'people', pack: 'face' } });
    expect(res.statusCode, res.body).toBe(201);
    const g = res.json();
    expect(g).toMatchObject({ name: 'people', pack: 'face', entryCount: 0 });
    expect(g.embedder.dimension).toBe(128);
    expect(g.effective.wholeImageFallback).toBe(false);
  });

  it('enrols the face of astronaut.png (multipart) and refuses the same bytes twice', async () => {
    const form = multipart({ label: 'Eileen Collins', metadata: '{"mission":"STS-93"}' }, { image: { data: astronaut, type: 'image/png' } });
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/entries', ...form });
    expect(res.statusCode, res.body).toBe(201);
    const entry = res.json();
    expect(entry.label).toBe('Eileen Collins');
    expect(entry.metadata).toEqual({ mission: 'STS-93' });
    // face-api finds the face at about x 181, y 73, w 83, h 102.
    expect(entry.box[0]).toBeGreaterThan(170);
    expect(entry.box[2]).toBeLessThan(280);
    entryId = entry.id;

    const again = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/entries', ...multipart({ label: 'Eileen Collins' }, { image: { data: astronaut } }) });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('DUPLICATE_ENTRY');
  });

  it('refuses to enrol a photo without a face', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/entries', payload: { label: 'cup', image: photo('coffee.png').toString('base64') } });
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe('NO_SUBJECT_FOUND');
  });

  it.each(['cropped', 'rotated', 'blurred', 'recompressed'])('recognises the face in a %s copy', async (name) => {
    const result = await recognize(variants[name]!);
    expect(result.objects).toHaveLength(1);
    const [object] = result.objects;
    expect(object.label).toBe('Eileen Collins');
    expect(object.matches[0].entryId).toBe(entryId);
    expect(object.similarity).toBeGreaterThan(0.8);
    expect(result.timings.total).toBeGreaterThan(0);
  });

  it("gives each match the entry's metadata, and every effective setting of the gallery", async () => {
    const [object] = (await recognize(variants.cropped!)).objects;
    expect(object.matches[0]).toEqual({ label: 'Eileen Collins', similarity: object.similarity, entryId, metadata: { mission: 'STS-93' } });
    const gallery = (await t.app.inject({ url: '/v1/galleries/people' })).json();
    expect(gallery.effective).toMatchObject({ subjects: 'detections', verify: false, proposals: 4, proposalMinArea: 0.04 });
  });

  it('refuses fields and options it does not take, instead of ignoring them', async () => {
    const image = astronaut.toString('base64');
    const typo = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/recognize', payload: { image, topk: 1 } });
    expect(typo.statusCode).toBe(400);
    expect(typo.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('topk') });
    const form = multipart({ label: 'Eileen Collins', id: 'emp-42' }, { image: { data: astronaut } });
    const id = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/entries', ...form });
    expect(id.statusCode).toBe(400);
    expect(id.json().message).toContain('id');
    const detectOnly = await t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', payload: { image, threshold: 0.5 } });
    expect(detectOnly.statusCode).toBe(400);
    expect(detectOnly.json().message).toContain('threshold');
  });

  it('says what to do with two images in one request, an image URL or a box given as [x, y, width, height]', async () => {
    const two = multipart({}, { image: { data: astronaut } });
    const boundary = /boundary=(\S+)/.exec(two.headers['content-type'])![1]!;
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="b.png"\r\nContent-Type: image/png\r\n\r\n`),
      astronaut,
      Buffer.from('\r\n'),
      two.payload,
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/recognize', headers: two.headers, payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^one image per request/);
    const url = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/recognize', payload: { image: 'https://example.com/a.jpg' } });
    expect(url.statusCode).toBe(400);
    expect(url.json()).toMatchObject({ code: 'IMAGE_BASE64_INVALID', message: expect.stringContaining('images are never fetched') });
    const box = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/entries', payload: { label: 'x', image: astronaut.toString('base64'), box: [300, 100, 200, 150] } });
    expect(box.statusCode).toBe(400);
    expect(box.json().message).toContain('not [x, y, width, height]');
  });

  it('finds no object in a photo without a face', async () => {
    const result = await recognize(photo('coffee.png'));
    expect(result.objects).toEqual([]);
  });

  it('lists entries and labels', async () => {
    const list = (await t.app.inject({ url: '/v1/galleries/people/entries?limit=10' })).json();
    expect(list.entries.map((e: { id: string }) => e.id)).toEqual([entryId]);
    expect(list.nextCursor ?? null).toBeNull();
    const labels = (await t.app.inject({ url: '/v1/galleries/people/labels' })).json();
    expect(labels.labels).toEqual([{ label: 'Eileen Collins', count: 1 }]);
  });

  it('relabels through PATCH without re-embedding', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `/v1/galleries/people/entries/${entryId}`, payload: { label: 'Commander Collins' } });
    expect(res.statusCode, res.body).toBe(200);
    const result = await recognize(variants.blurred!);
    expect(result.objects[0].label).toBe('Commander Collins');
  });

  it('keeps everything across a restart on the same data folder', async () => {
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestApp({}, dataDir);
    const g = (await t.app.inject({ url: '/v1/galleries/people' })).json();
    expect(g.entryCount).toBe(1);
    const result = await recognize(variants.cropped!);
    expect(result.objects[0].label).toBe('Commander Collins');
  });

  it('lists a gallery whose pack is not loaded, without effective settings, and refuses to search it', async () => {
    const dataDir = t.dataDir;
    await t.close({ keepData: true });
    t = await startTestApp({ packs: 'objects', defaultPack: 'objects' }, dataDir);
    try {
      const list = await t.app.inject({ url: '/v1/galleries' });
      expect(list.statusCode, list.body).toBe(200);
      expect(list.json().galleries).toContainEqual(expect.objectContaining({ name: 'people', pack: 'face', packLoaded: false, effective: null, entryCount: 1 }));
      expect((await t.app.inject({ url: '/v1/galleries/people' })).json()).toMatchObject({ packLoaded: false, effective: null });
      const search = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/recognize', payload: { image: variants.cropped!.toString('base64') } });
      expect(search.statusCode).toBe(404);
      expect(search.json().code).toBe('PACK_NOT_FOUND');
    } finally {
      await t.close({ keepData: true });
      t = await startTestApp({}, dataDir);
    }
    expect((await t.app.inject({ url: '/v1/galleries/people' })).json()).toMatchObject({ packLoaded: true, effective: { topK: expect.any(Number) } });
  });

  it('forgets a deleted entry', async () => {
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/galleries/people/entries/${entryId}` });
    expect(del.statusCode).toBe(204);
    const result = await recognize(variants.cropped!);
    expect(result.objects).toHaveLength(1);
    expect(result.objects[0].label).toBeNull();
    expect(result.objects[0].matches).toEqual([]);
    const gone = await t.app.inject({ url: `/v1/galleries/people/entries/${entryId}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('ENTRY_NOT_FOUND');
  });

  it('detects and embeds without a gallery', async () => {
    const form = multipart({}, { image: { data: astronaut } });
    const det = await t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', ...form });
    expect(det.statusCode, det.body).toBe(200);
    expect(det.json()).toMatchObject({ width: 512, height: 512 });
    expect(det.json().objects).toHaveLength(1);
    const emb = await t.app.inject({ method: 'POST', url: '/v1/embed?pack=face', payload: { image: astronaut.toString('base64') } });
    const vector: number[] = emb.json().objects[0].vector;
    expect(vector).toHaveLength(128);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 4);
  });

  it('is not ready, with the reason, when its gallery store cannot be read', async () => {
    const dataDir = t.dataDir;
    await t.runtime.galleries.dispose();
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ready: false, problem: expect.stringMatching(/gallery database cannot be read/) });
    await t.close({ keepData: true });
    t = await startTestApp({}, dataDir);
    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().packs).toContainEqual(expect.objectContaining({ name: 'face', dimension: 128 }));
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.body).toContain('spotter_stage_duration_seconds');
    expect(metrics.body).toContain('spotter_gallery_entries{gallery="people"}');
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/v1/galleries', '/v1/galleries/{name}/recognize', '/v1/galleries/{name}/entries/{id}']));
    expect(spec.paths['/healthz'].get.security).toEqual([]);
    expect(Object.keys(spec.paths['/v1/galleries/{name}/entries/{id}'].get.responses)).toEqual(expect.arrayContaining(['200', '400', '404', '500', '503']));
    expect(spec.paths['/readyz'].get.security).toEqual([]);
    expect(Object.keys(spec.paths['/readyz'].get.responses)).toEqual(expect.arrayContaining(['200', '503']));
    expect(Object.keys(spec.paths['/v1/galleries/{name}/recognize'].post.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '422']));
    expect(Object.keys(spec.paths['/v1/galleries/{name}/entries'].post.responses)).toEqual(expect.arrayContaining(['201', '404', '409', '507']));
    expect(Object.keys(spec.paths['/v1/galleries'].get.responses)).not.toContain('404');
    expect(Object.keys(spec.paths['/v1/galleries/{name}/entries/{id}'].patch.responses)).toEqual(expect.arrayContaining(['409', '415']));
    expect(Object.keys(spec.paths['/v1/galleries'].post.responses)).toContain('415');
    expect(spec.paths['/v1/detect'].post.requestBody.content['application/json'].schema.properties).not.toHaveProperty('threshold');
    const enrol = spec.paths['/v1/galleries/{name}/entries'].post.requestBody.content;
    expect(enrol['multipart/form-data'].schema.properties.image).toMatchObject({ type: 'string', format: 'binary' });
    expect(enrol['application/json'].schema.properties.image).toMatchObject({ type: 'string' });
    expect(enrol['application/json'].schema.properties.image).not.toHaveProperty('format');
    expect(enrol['application/json'].schema.required).toEqual(expect.arrayContaining(['label', 'image']));
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});
