import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_IMAGES } from '../helpers/bad-images.js';
import { multipart, photo, startTestApp, type TestApp } from '../helpers/test-app.js';

interface Case {
  name: string;
  status: number;
  code: string;
  request: () => InjectOptions;
}

const API_KEY = 'test-key-0123456789abcdef';
const auth = { 'x-api-key': API_KEY };
const png = photo('astronaut.png');
const b64 = png.toString('base64');
const enrol = '/v1/galleries/people/entries';
const recognize = '/v1/galleries/people/recognize';
const json = (url: string, payload: unknown, method: 'POST' | 'PATCH' = 'POST'): InjectOptions => ({ method, url, payload: payload as InjectOptions['payload'], headers: auth });
const form = (url: string, fields: Record<string, string>, image?: Buffer): InjectOptions & { payload: Buffer } => {
  const m = multipart(fields, image ? { image: { data: image } } : {});
  return { method: 'POST' as const, url, payload: m.payload, headers: { ...auth, ...m.headers } };
};

/** Every way a client can get it wrong, with the status and stable code it must get back. */
const HTTP_CASES: Case[] = [
  { name: 'no API key', status: 401, code: 'UNAUTHORIZED', request: () => ({ url: '/v1/galleries' }) },
  { name: 'wrong API key', status: 401, code: 'UNAUTHORIZED', request: () => ({ url: '/v1/galleries', headers: { 'x-api-key': 'nope' } }) },
  { name: 'unknown gallery', status: 404, code: 'GALLERY_NOT_FOUND', request: () => json('/v1/galleries/nobody/recognize', { image: b64 }) },
  { name: 'invalid gallery name', status: 400, code: 'BAD_REQUEST', request: () => json('/v1/galleries', { name: '../etc' }) },
  { name: 'gallery exists', status: 409, code: 'GALLERY_EXISTS', request: () => json('/v1/galleries', { name: 'people', pack: 'face' }) },
  { name: 'unknown pack', status: 404, code: 'PACK_NOT_FOUND', request: () => json('/v1/galleries', { name: 'things', pack: 'nope' }) },
  { name: 'unknown field in gallery body', status: 400, code: 'BAD_REQUEST', request: () => json('/v1/galleries', { name: 'x1', colour: 'red' }) },
  { name: 'threshold out of range', status: 400, code: 'BAD_REQUEST', request: () => json(recognize, { image: b64, threshold: 7 }) },
  { name: 'topK not a number', status: 400, code: 'BAD_REQUEST', request: () => json(recognize, { image: b64, topK: 'many' }) },
  { name: 'no image (JSON)', status: 400, code: 'IMAGE_MISSING', request: () => json(recognize, {}) },
  { name: 'no image (multipart)', status: 400, code: 'IMAGE_MISSING', request: () => form(recognize, { topK: '3' }) },
  { name: 'empty base64 image', status: 400, code: 'IMAGE_EMPTY', request: () => json(recognize, { image: '' }) },
  { name: 'bad base64', status: 400, code: 'IMAGE_BASE64_INVALID', request: () => json(recognize, { image: 'not*base64!' }) },
  { name: 'image is a number', status: 400, code: 'BAD_REQUEST', request: () => json(recognize, { image: 42 }) },
  { name: 'empty file part', status: 400, code: 'IMAGE_EMPTY', request: () => form(recognize, {}, Buffer.alloc(0)) },
  { name: 'invalid JSON', status: 400, code: 'BAD_REQUEST', request: () => ({ method: 'POST', url: recognize, payload: '{"image": ', headers: { ...auth, 'content-type': 'application/json' } }) },
  { name: 'text/plain body', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', request: () => ({ method: 'POST', url: recognize, payload: 'hello', headers: { ...auth, 'content-type': 'text/plain' } }) },
  { name: 'raw image/png body', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', request: () => ({ method: 'POST', url: recognize, payload: png, headers: { ...auth, 'content-type': 'image/png' } }) },
  { name: 'multipart without boundary', status: 400, code: 'BAD_REQUEST', request: () => ({ method: 'POST', url: recognize, payload: 'x', headers: { ...auth, 'content-type': 'multipart/form-data' } }) },
  { name: 'truncated multipart', status: 400, code: 'BAD_REQUEST', request: () => { const f = form(recognize, {}, png); return { ...f, payload: f.payload.subarray(0, 2000) }; } },
  { name: 'body over the size limit', status: 413, code: 'PAYLOAD_TOO_LARGE', request: () => json(recognize, { image: 'A'.repeat(3 * 1024 * 1024) }) },
  { name: 'file part over the image limit', status: 413, code: 'IMAGE_TOO_LARGE', request: () => form(recognize, {}, Buffer.alloc(2 * 1024 * 1024 + 10, 1)) },
  { name: 'missing label', status: 400, code: 'BAD_REQUEST', request: () => json(enrol, { image: b64 }) },
  { name: 'blank label', status: 400, code: 'INVALID_LABEL', request: () => json(enrol, { image: b64, label: '   ' }) },
  { name: 'label too long', status: 400, code: 'INVALID_LABEL', request: () => json(enrol, { image: b64, label: 'x'.repeat(201) }) },
  { name: 'label with control characters', status: 400, code: 'INVALID_LABEL', request: () => json(enrol, { image: b64, label: 'a\u0000b' }) },
  { name: 'metadata not JSON', status: 400, code: 'INVALID_METADATA', request: () => form(enrol, { label: 'a', metadata: '{nope' }, png) },
  { name: 'metadata an array', status: 400, code: 'INVALID_METADATA', request: () => form(enrol, { label: 'a', metadata: '[1,2]' }, png) },
  { name: 'box with three numbers', status: 400, code: 'INVALID_BOX', request: () => json(enrol, { image: b64, label: 'a', box: '1,2,3' }) },
  { name: 'box outside the image', status: 400, code: 'INVALID_BOX', request: () => json(enrol, { image: b64, label: 'a', box: [0, 0, 900, 900] }) },
  { name: 'inverted box', status: 400, code: 'INVALID_BOX', request: () => json(enrol, { image: b64, label: 'a', box: [50, 50, 10, 10] }) },
  { name: 'no face to enrol', status: 422, code: 'NO_SUBJECT_FOUND', request: () => json(enrol, { image: photo('coffee.png').toString('base64'), label: 'cup' }) },
  { name: 'unknown entry', status: 404, code: 'ENTRY_NOT_FOUND', request: () => ({ url: `${enrol}/00000000-0000-0000-0000-000000000000`, headers: auth }) },
  { name: 'PATCH with nothing to change', status: 400, code: 'BAD_REQUEST', request: () => json(`${enrol}/x`, {}, 'PATCH') },
  { name: 'bad cursor', status: 400, code: 'BAD_REQUEST', request: () => ({ url: `${enrol}?cursor=%%%`, headers: auth }) },
  { name: 'limit too large', status: 400, code: 'BAD_REQUEST', request: () => ({ url: `${enrol}?limit=100000`, headers: auth }) },
  { name: 'unknown label', status: 404, code: 'LABEL_NOT_FOUND', request: () => ({ method: 'DELETE', url: '/v1/galleries/people/labels/nobody', headers: auth }) },
  { name: 'unknown route', status: 404, code: 'NOT_FOUND', request: () => ({ url: '/v2/anything', headers: auth }) },
  { name: 'path not valid percent-encoded UTF-8', status: 400, code: 'BAD_REQUEST', request: () => ({ url: '/v1/galleries/%FF', headers: auth }) },
  { name: 'unknown label as long as labels may be, percent-encoded', status: 404, code: 'LABEL_NOT_FOUND', request: () => ({ method: 'DELETE', url: `/v1/galleries/people/labels/${encodeURIComponent('\u{1F600}'.repeat(200))}`, headers: auth }) },
  { name: 'base64 image in a multipart text field', status: 413, code: 'PAYLOAD_TOO_LARGE', request: () => form(recognize, { image: b64 }) },
  { name: 'threshold null', status: 400, code: 'BAD_REQUEST', request: () => json(recognize, { image: b64, threshold: null }) },
  { name: 'topK false', status: 400, code: 'BAD_REQUEST', request: () => json(recognize, { image: b64, topK: false }) },
  { name: 'label with a lone surrogate', status: 400, code: 'INVALID_LABEL', request: () => json(enrol, { image: b64, label: 'a\ud800b' }) },
  { name: 'label with a C1 control character', status: 400, code: 'INVALID_LABEL', request: () => json(enrol, { image: b64, label: 'a\u009bb' }) },
  { name: 'metadata nested 5000 deep', status: 400, code: 'INVALID_METADATA', request: () => ({ ...json(enrol, {}), payload: `{"image":"${b64}","label":"a","metadata":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`, headers: { ...auth, 'content-type': 'application/json' } }) },
  { name: 'gzip-encoded body', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', request: () => ({ ...json(recognize, { image: b64 }), headers: { ...auth, 'content-encoding': 'gzip' } }) },
  { name: 'box with an empty coordinate', status: 400, code: 'INVALID_BOX', request: () => form(enrol, { label: 'a', box: '1,,300,400' }, png) },
];

describe('bad input gets a clear 4xx with a stable code', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ apiKey: API_KEY, maxBodyBytes: 2 * 1024 * 1024, maxImageBytes: 2 * 1024 * 1024, maxImagePixels: 4_000_000, maxImageSide: 4000 });
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries', payload: { name: 'people', pack: 'face' }, headers: auth });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  it.each(HTTP_CASES)('$name -> $status $code', async (c) => {
    const res = await t.app.inject(c.request());
    expect(res.statusCode, res.body).toBe(c.status);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: c.status, code: c.code });
    expect(typeof body.message).toBe('string');
    expect(typeof body.error).toBe('string');
  });

  it.each(BAD_IMAGES)('image: $name -> $expectStatus $expectCode', async (c) => {
    const bytes = typeof c.bytes === 'function' ? await c.bytes() : c.bytes;
    for (const request of [form(recognize, {}, bytes), json(recognize, { image: bytes.toString('base64') })]) {
      const res = await t.app.inject(request);
      expect(res.statusCode, `${c.name}: ${res.body}`).toBe(c.expectStatus);
      expect(res.json().code).toBe(c.expectCode);
    }
  });

  it('still serves after all of that', async () => {
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const res = await t.app.inject(json(recognize, { image: b64 }));
    expect(res.statusCode).toBe(200);
    expect(res.json().objects).toHaveLength(1);
  });

  it('counts every refusal under its stable code in /metrics', async () => {
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    const counted = [...metrics.matchAll(/^spotter_errors_total\{code="([A-Z0-9_]+)"\} \d+/gm)].map((m) => m[1]);
    for (const c of HTTP_CASES) expect(counted).toContain(c.code);
    expect(metrics).not.toMatch(/spotter_errors_total\{code="(FST_|INTERNAL)/);
  });
});
