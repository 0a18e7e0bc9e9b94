import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photo, startTestApp, type TestApp } from '../helpers/test-app.js';

const payload = { image: photo('astronaut.png').toString('base64') };
const detect = (t: TestApp) => t.app.inject({ method: 'POST', url: '/v1/detect?pack=face', payload });

/**
 * Sends `n` detections of astronaut.png at once: each answer is 200 or 503 OVERLOADED with
 * Retry-After, at least `minOk` are served and at least one is refused, and the service serves
 * again afterwards. Returns the refusals' messages.
 */
async function burst(t: TestApp, n: number, minOk: number): Promise<string[]> {
  const responses = await Promise.all(Array.from({ length: n }, () => detect(t)));
  const ok = responses.filter((r) => r.statusCode === 200);
  const refused = responses.filter((r) => r.statusCode === 503);
  expect(ok.length + refused.length).toBe(n);
  expect(ok.length).toBeGreaterThanOrEqual(minOk);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  for (const r of refused) {
    expect(r.json().code).toBe('OVERLOADED');
    expect(r.headers['retry-after']).toBe('1');
  }
  expect((await detect(t)).statusCode).toBe(200);
  return refused.map((r) => r.json().message as string);
}

/** A full inference queue answers 503 + Retry-After at once instead of queueing without bound. */
describe('inference queue limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ inferenceConcurrency: 1, queueSize: 1 });
  });
  afterAll(async () => t?.close());

  it('rejects what does not fit and serves the rest', async () => {
    await burst(t, 6, 2);
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
    for (const message of await burst(t, 4, 1)) expect(message).toMatch(/pixels/);
    expect(t.runtime.limiter.pixelsInFlight).toBe(0);
  });
});
