import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrap, type Runtime } from '../../../src/bootstrap.js';
import { loadConfig } from '../../../src/config/config.js';
import type { Entry } from '../../../src/gallery/gallery-types.js';
import { enrolBatched, type EnrolJob, type EnrolOutcome } from '../../../src/pipeline/batch-enrolment.js';

const PHOTOS = join(import.meta.dirname, '..', '..', 'fixtures', 'photos');

/**
 * The batched enrolment of the index CLI (src/pipeline/batch-enrolment.ts) against the server's
 * one-image `enrol`: same subject, same box, the same vector up to float rounding of the batch.
 */
describe('enrolBatched (real models, real store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spotter-batch-'));
  let runtime: Runtime;

  beforeAll(async () => {
    runtime = await bootstrap(loadConfig({}, { dataDir: dir, packs: 'face', defaultPack: 'face', intraOpThreads: 1, logLevel: 'silent' }), { logger: pino({ level: 'silent' }) });
    const pack = runtime.packs.get('face')!;
    const embedder = { embedderId: pack.embedder.id, dimension: pack.embedder.dimension, metric: pack.embedder.metric };
    runtime.galleries.createGallery({ name: 'single', pack: 'face', embedder });
    runtime.galleries.createGallery({ name: 'batched', pack: 'face', embedder });
  });

  afterAll(async () => {
    await runtime?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const astronaut = readFileSync(join(PHOTOS, 'astronaut.png'));
  const job = (label: string, bytes: Buffer | (() => Promise<Buffer>)): EnrolJob & { name: string } => ({
    name: label,
    label,
    metadata: { source: label },
    load: typeof bytes === 'function' ? bytes : async () => bytes,
  });
  const run = async (jobs: (EnrolJob & { name: string })[]) => {
    const ref = { ...runtime.galleries.getGalleryRef('batched'), settings: {} };
    const out = new Map<string, EnrolOutcome<Entry>>();
    for await (const { job: j, outcome } of enrolBatched(runtime.pipeline, ref, jobs, runtime.galleries, { batchSize: 2, readAhead: 2 })) out.set(j.name, outcome);
    return out;
  };

  it('stores what enrol stores; bad images fail alone; a rerun finds duplicates', async () => {
    const single = await runtime.pipeline.enrol(astronaut, { ...runtime.galleries.getGalleryRef('single'), settings: {} }, { label: 'Eileen' }, runtime.galleries);
    const jobs = [
      job('Eileen', astronaut),
      job('coffee', readFileSync(join(PHOTOS, 'coffee.png'))),
      job('garbage', Buffer.from('not an image at all')),
      job('missing', () => Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT', syscall: 'open' }))),
      job('Eileen again', astronaut),
    ];
    const first = await run(jobs);
    expect(first.get('Eileen')?.status).toBe('enrolled');
    expect(first.get('Eileen again')?.status).toBe('enrolled');
    expect(first.get('coffee')).toMatchObject({ status: 'failed', error: { code: 'NO_SUBJECT_FOUND' } });
    expect(first.get('garbage')).toMatchObject({ status: 'failed', error: { code: 'IMAGE_DECODE_FAILED' } });
    expect(first.get('missing')).toMatchObject({ status: 'failed', error: { syscall: 'open' } });

    const batched = first.get('Eileen') as { entry: Entry; score: number };
    expect(batched.entry.box).toEqual(single.entry.box);
    expect(batched.entry.imageSha256).toBe(single.entry.imageSha256);
    expect(batched.score).toBeCloseTo(single.score, 6);
    const a = runtime.galleries.getEntryVector('single', single.entry.id);
    const b = runtime.galleries.getEntryVector('batched', batched.entry.id);
    expect(a.reduce((s, v, i) => s + v * b[i]!, 0)).toBeGreaterThan(0.99999);

    const again = await run(jobs.slice(0, 1));
    expect(again.get('Eileen')).toEqual({ status: 'duplicate', entryId: batched.entry.id });
    expect(runtime.galleries.getGallery('batched').entryCount).toBe(2);
  });

  it('stores the same local features as enrol when the gallery verifies', async () => {
    const pack = runtime.packs.get('face')!;
    const embedder = { embedderId: pack.embedder.id, dimension: pack.embedder.dimension, metric: pack.embedder.metric };
    for (const name of ['single-verified', 'batched-verified']) runtime.galleries.createGallery({ name, pack: 'face', embedder, settings: { verify: true } });
    const single = await runtime.pipeline.enrol(astronaut, runtime.galleries.getGalleryRef('single-verified'), { label: 'Eileen' }, runtime.galleries);
    let batchedId: string | undefined;
    for await (const { outcome } of enrolBatched(runtime.pipeline, runtime.galleries.getGalleryRef('batched-verified'), [job('Eileen', astronaut)], runtime.galleries, { batchSize: 2, readAhead: 2 })) {
      if (outcome.status === 'enrolled') batchedId = outcome.entry.id;
    }
    const verifier = 'orb1000-ratio0.75-ransac5';
    const one = runtime.galleries.localFeatures('single-verified', single.entry.id, verifier);
    expect(one?.byteLength).toBeGreaterThan(16); // a face crop is small: a few keypoints
    expect(runtime.galleries.localFeatures('batched-verified', batchedId!, verifier)).toEqual(one);
  }, 60_000);
});
