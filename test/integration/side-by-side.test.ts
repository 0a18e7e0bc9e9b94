import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnnxSession } from '../../src/inference/onnx-session.js';
import { photo, startTestApp, type TestApp } from '../helpers/test-app.js';

interface Recognized {
  objects: { box: number[]; label: string | null; similarity: number }[];
}

/**
 * Requests at the models together run on the narrow copies of the models (one thread each),
 * alone on the wide one (two threads): the answers must not depend on which.
 */
describe('recognition side by side (inference concurrency 2)', () => {
  let t: TestApp;
  const recognize = async (name: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/recognize', payload: { image: photo(name).toString('base64') } });
    expect(res.statusCode).toBe(200);
    return res.json<Recognized>();
  };

  beforeAll(async () => {
    t = await startTestApp({ packs: 'face', defaultPack: 'face', inferenceConcurrency: 2 });
    await t.app.inject({ method: 'POST', url: '/v1/galleries', payload: { name: 'people', pack: 'face' } });
    const enrolled = await t.app.inject({ method: 'POST', url: '/v1/galleries/people/entries', payload: { label: 'Eileen Collins', image: photo('astronaut.png').toString('base64') } });
    expect(enrolled.statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  it('answers requests that meet at the models as it answers one alone', async () => {
    const alone = await recognize('astronaut.png');
    const detector = (t.runtime.packs.get('face')!.detector as unknown as { onnxSession: OnnxSession }).onnxSession;
    expect(detector.replicas).toBe(1);
    const together = await Promise.all(['astronaut.png', 'astronaut.png', 'chelsea.png', 'astronaut.png'].map(recognize));
    await detector.sideBySideReady();
    expect(detector.replicas).toBe(3);
    // Once the narrow copies are open, runs beside others go to them.
    const again = await Promise.all(['astronaut.png', 'astronaut.png', 'astronaut.png'].map(recognize));
    for (const r of [...together.filter((_, i) => i !== 2), ...again]) {
      expect(r.objects).toHaveLength(alone.objects.length);
      r.objects.forEach((o, i) => {
        const a = alone.objects[i]!;
        expect(o.label).toBe('Eileen Collins');
        expect(o.similarity).toBeCloseTo(a.similarity, 5);
        o.box.forEach((v, k) => expect(v).toBeCloseTo(a.box[k]!, 2));
      });
    }
    expect(together[2]!.objects.every((o) => o.label === null)).toBe(true);
  });
});
