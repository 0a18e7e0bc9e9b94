import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photo, startTestApp, type TestApp } from '../helpers/test-app.js';

/** A full inference queue answers 503 + Retry-After at once instead of queueing without bound. */
describe('inference queue limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ inferenceConcurrency: 1, queueSize: 1 });
  });
  afterAll(async () => t?.close());

  it('rejects what does not fit and serves the rest', async () => {
    const payload = { image: photo('astronaut.png').toString('base64') };
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', payload })),
    );
    const ok = responses.filter((r) => r.statusCode === 200);
    const rejected = responses.filter((r) => r.statusCode === 503);
    expect(ok.length + rejected.length).toBe(6);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    for (const r of rejected) {
      expect(r.json().code).toBe('OVERLOADED');
      expect(r.headers['retry-after']).toBe('1');
    }
    const after = await t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', payload });
    expect(after.statusCode).toBe(200);
  });
});

/** Decoded pixels in flight are bounded: an image that would exceed the budget is refused before its decode. */
describe('pixels in flight', () => {
  let t: TestApp;
  beforeAll(async () => {
    // astronaut.png is 512x512 = 262,144 pixels: one fits, a second at the same time does not.
    t = await startTestApp({ inferenceConcurrency: 2, queueSize: 8, maxPixelsInFlight: 300_000 });
  });
  afterAll(async () => t?.close());

  it('refuses what would exceed the budget with 503 OVERLOADED and serves the rest', async () => {
    const payload = { image: photo('astronaut.png').toString('base64') };
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', payload })),
    );
    const ok = responses.filter((r) => r.statusCode === 200);
    const refused = responses.filter((r) => r.statusCode === 503);
    expect(ok.length + refused.length).toBe(4);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) {
      expect(r.json()).toMatchObject({ code: 'OVERLOADED', message: expect.stringMatching(/pixels/) });
      expect(r.headers['retry-after']).toBe('1');
    }
    expect(t.runtime.limiter.pixelsInFlight).toBe(0);
    const after = await t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', payload });
    expect(after.statusCode).toBe(200);
  });
});
