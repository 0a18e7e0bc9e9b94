import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Runtime } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { buildApp } from '../../src/http/app.js';
import { RecognitionPipeline } from '../../src/pipeline/recognition-pipeline.js';
import { OrbVerifier } from '../../src/verification/orb-verifier.js';
import { photo } from '../helpers/test-app.js';

/**
 * The first thing users try: enrol box.png, recognise box_in_scene.png, through the HTTP API with
 * the objects pack (the default for a new gallery). The pooled embedding alone ranks a grey
 * Blender render above the box in that scene; local-feature verification finds it. The runtime
 * is bootstrap's, verification included, and a restart must keep every entry verifiable.
 */
const EVAL = join(import.meta.dirname, '..', 'fixtures', 'objects-eval');

describe('objects pack: box.png enrolled, box_in_scene.png recognised (HTTP)', () => {
  let runtime: Runtime;
  let app: FastifyInstance;
  let dataDir: string;
  const start = async () => {
    const config = loadConfig({}, { dataDir, logLevel: 'silent', intraOpThreads: 2, packs: 'objects' });
    runtime = await bootstrap(config, { logger: pino({ level: 'silent' }) });
    app = await buildApp(runtime);
    await app.ready();
  };
  const stop = async () => {
    await app?.close();
    await runtime?.dispose();
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'spotter-objects-'));
    await start();
  }, 120_000);

  afterAll(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = async (url: string, payload: Record<string, unknown>, status = 200) => {
    const res = await app.inject({ method: 'POST', url, payload });
    expect(res.statusCode, res.body).toBe(status);
    return res.json();
  };

  it('a gallery created without a pack uses the objects pack, which verifies by default', async () => {
    const g = await post('/v1/galleries', { name: 'shelf' }, 201);
    expect(g.pack).toBe('objects');
    expect(g.effective.verify).toBe(true);
    expect(g.embedder.dimension).toBe(88);
  });

  it("/v1/detect gives the detector's boxes only; /v1/embed also the whole image a recognition searches", async () => {
    const image = photo('coffee.png').toString('base64');
    const detected = await post('/v1/detect', { image });
    expect(detected.objects.length).toBeGreaterThan(0);
    for (const o of detected.objects) {
      expect(o.className).toEqual(expect.any(String));
      expect(o.box).not.toEqual([0, 0, 600, 400]);
    }
    const embedded = await post('/v1/embed', { image });
    expect(embedded.objects).toContainEqual(expect.objectContaining({ box: [0, 0, 600, 400], score: 1 }));
  });

  it('enrols box.png as a whole image, with its local features stored beside the entry', async () => {
    const entry = await post('/v1/galleries/shelf/entries', { label: 'bastoncini', image: photo('box.png').toString('base64') }, 201);
    expect(entry.box).toEqual([0, 0, 324, 223]);
    expect(runtime.galleries.localFeatures('shelf', entry.id, 'orb1000-ratio0.75-ransac5')?.byteLength).toBeGreaterThan(1000);
    const g = (await app.inject({ method: 'GET', url: '/v1/galleries/shelf' })).json();
    expect(g.localFeatureCount).toBe(1);
  });

  it('recognises box_in_scene.png as the box and boxes it where it lies', async () => {
    const result = await post('/v1/galleries/shelf/recognize', { image: photo('box_in_scene.png').toString('base64') });
    const [top] = result.objects;
    expect(top.label).toBe('bastoncini');
    // The box lies at about x 110-285, y 160-300 of the 512x384 scene.
    expect(top.box[0]).toBeGreaterThan(80);
    expect(top.box[2]).toBeLessThan(310);
    expect(top.box[1]).toBeGreaterThan(130);
    expect(top.box[3]).toBeLessThan(330);
    expect(result.timings.verify).toBeGreaterThan(0);
  });

  it('with more products enrolled, still picks the box, and rejects an unenrolled product', async () => {
    const gallery = readFileSync(join(EVAL, 'gallery.txt'), 'utf8').trim().split('\n').map((l) => l.split('\t') as [string, string]);
    for (const [path, label] of gallery.filter(([, label]) => label !== 'bastoncini box')) {
      await post('/v1/galleries/shelf/entries', { label, image: readFileSync(join(EVAL, path)).toString('base64') }, 201);
    }
    const scene = await post('/v1/galleries/shelf/recognize', { image: photo('box_in_scene.png').toString('base64') });
    expect(scene.objects[0].label).toBe('bastoncini');
    const unknown = await post('/v1/galleries/shelf/recognize', { image: readFileSync(join(EVAL, 'queries/unknown-basmati-box-1.jpg')).toString('base64') });
    expect(unknown.objects.every((o: { label: string | null }) => o.label === null)).toBe(true);
  });

  it('embedding alone finds the box only through a 0.11-score proposal; verification does not need it', async () => {
    // The only proposal around the box scores 0.11, just above the pack's minScore 0.1. Gate it
    // out and the pooled embedding of the other boxes and of the whole scene prefers other items.
    const image = photo('box_in_scene.png').toString('base64');
    const byEmbedding = await post('/v1/galleries/shelf/recognize', { image, verify: false });
    expect(byEmbedding.objects[0].label).toBe('bastoncini');
    const plain = await post('/v1/galleries/shelf/recognize', { image, verify: false, minScore: 0.15 });
    expect(plain.objects[0].label).not.toBe('bastoncini');
    const verified = await post('/v1/galleries/shelf/recognize', { image, verify: true, minScore: 0.15 });
    expect(verified.objects[0].label).toBe('bastoncini');
  });

  it('a failing verifier does not fail the request: the answer is by embedding alone, and the failure is reported', async () => {
    const broken = new OrbVerifier();
    await broken.dispose();
    const errors: unknown[] = [];
    const config = runtime.config;
    const pipeline = new RecognitionPipeline({
      packs: runtime.packs, index: runtime.galleries, limiter: runtime.limiter,
      limits: { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels, maxDimension: config.maxImageSide },
      verification: { verifier: broken, store: runtime.galleries, onError: (e) => errors.push(e) },
    });
    const result = await pipeline.recognize(photo('box_in_scene.png'), runtime.galleries.getGalleryRef('shelf'));
    expect(result.objects[0]?.label).toBe('bastoncini');
    expect(result.objects[0]?.verified).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/after dispose/);
  });

  it('after a restart every entry is still verified, and a deleted entry takes its features with it', async () => {
    const before = (await app.inject({ method: 'GET', url: '/v1/galleries/shelf' })).json();
    await stop();
    await start();
    const after = (await app.inject({ method: 'GET', url: '/v1/galleries/shelf' })).json();
    expect(after.localFeatureCount).toBe(before.entryCount);
    const image = photo('box_in_scene.png').toString('base64');
    const verified = await post('/v1/galleries/shelf/recognize', { image, minScore: 0.15 });
    expect(verified.objects[0].label).toBe('bastoncini');
    expect(verified.objects[0].verified.inliers).toBeGreaterThanOrEqual(15);

    const id = verified.objects[0].matches[0].entryId;
    const removed = await app.inject({ method: 'DELETE', url: `/v1/galleries/shelf/entries/${id}` });
    expect(removed.statusCode).toBe(204);
    expect(runtime.galleries.localFeatures('shelf', id, 'orb1000-ratio0.75-ransac5')).toBeUndefined();
    const gone = (await app.inject({ method: 'GET', url: '/v1/galleries/shelf' })).json();
    expect(gone.localFeatureCount).toBe(before.entryCount - 1);
  }, 120_000);
});
