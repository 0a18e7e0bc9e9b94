import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Box } from '../../core/types.js';
import { encodeJpeg } from '../../imaging/decode.js';
import { multipartBody } from '../shared/multipart-body.js';
import { readPhotos, referencePhoto, type Photo } from './bench-inputs.js';
import { runAutocannon, startServerProcess, type LoadBody, type LoadResult, type ServerProcess } from './bench-server.js';
import { interleave, ratio, summarize, timeLoop, type Summary } from './bench-stats.js';
import { formatMs, formatNumber, formatRatio } from './bench-table.js';
import { mainPack, target, type BenchOptions, type SectionResult } from './bench-types.js';
import { openServiceModels } from './service-models.js';

const GALLERY = 'bench';

interface Phase {
  name: string;
  result: LoadResult;
  /** A saturating load of the reference photo: one the throughput target is taken from. */
  saturating: boolean;
  /** Raw model runs just before and after this load. */
  raw: Summary;
  /** Raw runs on the service's side-by-side copies, all at once (time for all of them), if any. */
  sideBySide?: Summary;
}

async function call(server: ServerProcess, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/**
 * The photo as one multipart/form-data body, encoded once: the client's own encoding (FormData
 * in undici costs several milliseconds for 791 KB) is not the service's time.
 */
type Upload = ReturnType<typeof multipartBody>;
const multipartUpload = (photo: Photo): Upload => multipartBody({}, { image: { data: photo.bytes, filename: photo.file } });

/**
 * One multipart POST /recognize over a kept-alive connection; returns the server's own stage
 * timings (the response's `timings`, `total` among them). node:http rather than fetch: undici's
 * fetch spends 1.5-2.5 ms of the client's own on a 791 KB body (a round trip to a server that
 * only reads it: 2.8-4.2 ms against 1.2-1.5 ms), which is not the service's time; autocannon
 * too writes its request as bytes.
 */
async function recognizeOnce(server: ServerProcess, upload: Upload, keepAlive: Agent, gallery = GALLERY): Promise<Record<string, number>> {
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      `${server.url}/v1/galleries/${gallery}/recognize`,
      { method: 'POST', agent: keepAlive, headers: { ...upload.headers, 'content-length': upload.payload.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(upload.payload);
  });
  if (status < 200 || status >= 300) throw new Error(`recognize: ${status} ${body.slice(0, 300)}`);
  return (JSON.parse(body) as { timings?: Record<string, number> }).timings ?? {};
}

/**
 * Concurrency 1 as a client sending one request after another, in turns with the raw models run
 * here: both see the same machine load, which a run of a minute on a shared machine does not
 * keep still.
 */
async function sequentialRounds(server: ServerProcess, upload: Upload, keepAlive: Agent, raw: () => Promise<void>, options: BenchOptions) {
  const inside: number[] = [];
  const samples = await interleave(
    { request: async () => void inside.push((await recognizeOnce(server, upload, keepAlive)).total ?? Number.NaN), raw },
    { warmup: 2, iterations: options.quick ? 10 : 60, maxMs: options.quick ? 6_000 : 40_000 },
  );
  return { client: summarize(samples.request), raw: summarize(samples.raw), server: summarize(inside.slice(2)) };
}

/** GET /healthz every 50 ms while `during` runs: how long the event loop keeps a trivial request waiting. */
async function healthLatency<T>(server: ServerProcess, during: Promise<T>): Promise<{ result: T; health: Summary }> {
  const samples: number[] = [];
  let done = false;
  const probe = (async () => {
    while (!done) {
      const t0 = performance.now();
      await fetch(`${server.url}/healthz`).then((r) => r.arrayBuffer());
      samples.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return { result: await during, health: summarize(samples) };
  } finally {
    done = true;
    await probe;
  }
}

const PRODUCTS = 'bench-products';
/** Whole photos enrolled for the objects load; box.png is the product in box_in_scene.png. */
const PRODUCT_PHOTOS = ['box.png', 'chelsea.png', 'coffee.png', 'astronaut.png', 'fruits.jpg'];
const PRODUCT_QUERY = 'box_in_scene.png';

/**
 * The objects pack as its users meet it: a gallery of five products with verification on (the
 * pack's default), queried with a cluttered scene, so that every request checks five candidates
 * by local features after the models. Verification is not a model, so there is no raw ratio
 * here (section 2 has the objects pack's cascade against its models); the stage timings come
 * from requests one after another, the loads from autocannon. Skipped when the photos folder
 * lacks these photos.
 */
async function objectsLoad(server: ServerProcess, photos: readonly Photo[], keepAlive: Agent, options: BenchOptions, seconds: number) {
  const query = photos.find((p) => p.file === PRODUCT_QUERY);
  const products = PRODUCT_PHOTOS.map((f) => photos.find((p) => p.file === f)).filter((p): p is Photo => p !== undefined);
  if (!query || products.length !== PRODUCT_PHOTOS.length) return undefined;
  await call(server, 'POST', '/v1/galleries', { name: PRODUCTS, pack: 'objects' });
  for (const p of products) await call(server, 'POST', `/v1/galleries/${PRODUCTS}/entries`, { label: p.file, image: p.bytes.toString('base64') });
  const upload = multipartUpload(query);
  const stages: Record<string, number[]> = {};
  const loop = { warmup: 2, iterations: options.quick ? 5 : 30, maxMs: options.quick ? 3_000 : 20_000 };
  const client = summarize(
    await timeLoop(async () => {
      for (const [stage, ms] of Object.entries(await recognizeOnce(server, upload, keepAlive, PRODUCTS))) (stages[stage] ??= []).push(ms);
    }, loop),
  );
  // The warm-up requests' timings are dropped, as timeLoop drops their wall time.
  const stage = (name: string) => summarize((stages[name] ?? []).slice(loop.warmup));
  const url = `${server.url}/v1/galleries/${PRODUCTS}/recognize`;
  const body: LoadBody = { kind: 'multipart', imageFile: query.path };
  const loads = [
    { name: 'multipart, concurrency 1', result: await runAutocannon(options.root, url, body, 1, seconds) },
    { name: 'multipart, concurrency 4', result: await runAutocannon(options.root, url, body, 4, seconds) },
  ];
  const timings = { total: stage('total'), verify: stage('verify') };
  return {
    tables: [
      {
        caption: `pack objects, ${PRODUCT_QUERY} (${query.bytes.length} bytes) against a gallery of ${products.length} whole photos (${PRODUCT_PHOTOS.join(', ')}), verification on (the pack's default: ORB + RANSAC on the best ${products.length} candidates, on the service's verifier threads); requests one after another with node:http, then autocannon`,
        table: {
          headers: ['', 'median ms', 'p90 ms', 'p99 ms', 'req/s'],
          rows: [
            ['POST /recognize one after another, client side', formatMs(client.median), formatMs(client.p90), formatMs(client.p99), ''],
            ["  of which the server's cascade (timings.total)", formatMs(timings.total.median), formatMs(timings.total.p90), formatMs(timings.total.p99), ''],
            ['  of which verification (timings.verify)', formatMs(timings.verify.median), formatMs(timings.verify.p90), formatMs(timings.verify.p99), ''],
            ...loads.map(({ name, result: r }) => [`autocannon, ${name}${r.errors + r.non2xx > 0 ? ` (${r.errors + r.non2xx} errors)` : ''}`, formatMs(r.latency.p50), formatMs(r.latency.p90), formatMs(r.latency.p99), formatNumber(r.requestsPerSecond, 2)]),
          ],
        },
      },
    ],
    data: { query: PRODUCT_QUERY, gallery: PRODUCT_PHOTOS, client, server: timings, loads },
  };
}

/** Section 3: the built server as a process under autocannon, against the raw models here. */
export async function runHttpBench(options: BenchOptions): Promise<SectionResult> {
  const base = { id: 'http' as const, title: '3. The HTTP service (dist/server.js under autocannon, POST /v1/galleries/{name}/recognize)', tables: [], notes: [], targets: [], data: {} };
  if (!existsSync(join(options.root, 'node_modules', 'autocannon', 'autocannon.js'))) return { ...base, skipped: 'autocannon (a dev dependency) is not installed' };
  const photos = await readPhotos(options.photosDir);
  const photo = referencePhoto(photos);
  const temp = await mkdtemp(join(tmpdir(), 'spotter-bench-http-'));
  let server: ServerProcess | undefined;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    server = await startServerProcess(options.root, { SPOTTER_DATA_DIR: join(temp, 'data') });
    const packName = mainPack(options);
    await call(server, 'POST', '/v1/galleries', { name: GALLERY, pack: packName });
    const base64 = photo.bytes.toString('base64');
    await call(server, 'POST', `/v1/galleries/${GALLERY}/entries`, { label: 'reference', image: base64 });
    const detected = await call(server, 'POST', `/v1/detect?pack=${packName}`, { image: base64 });
    const box = (detected.objects as { box: Box }[] | undefined)?.[0]?.box;

    const jsonFile = join(temp, 'body.json');
    await writeFile(jsonFile, JSON.stringify({ image: base64 }));
    const multipart: LoadBody = { kind: 'multipart', imageFile: photo.path };
    // The same picture as a camera would send it (JPEG): decoding is a fifth of the PNG's cost.
    const jpegFile = join(temp, `${photo.file.replace(/\.[a-z]+$/i, '')}-q90.jpg`);
    await writeFile(jpegFile, await encodeJpeg(photo.image, { quality: 90 }));
    const jpeg: LoadBody = { kind: 'multipart', imageFile: jpegFile };
    const json: LoadBody = { kind: 'text', file: jsonFile, contentType: 'application/json' };
    const url = `${server.url}/v1/galleries/${GALLERY}/recognize`;
    const seconds = options.quick ? { c1: 4, json: 3, c4: 5, c16: 5 } : { c1: 30, json: 15, c4: 20, c16: 20 };

    const models = await openServiceModels(options, packName, photo, box);
    const raw = async () => {
      await models.runDetector();
      await models.runEmbedder(1);
    };
    // Raw runs right before and after each load, so each load is compared with its own moment:
    // one after another with all threads, and on the service's side-by-side copies at once.
    const rawLoop = { warmup: 1, iterations: options.quick ? 4 : 12, maxMs: options.quick ? 1_500 : 5_000 };
    const sideBySide = models.runSideBySide;
    const rawWork: Record<string, () => Promise<void>> = { raw, ...(sideBySide ? { sideBySide: () => sideBySide() } : {}) };
    const phases: Phase[] = [];
    const upload = multipartUpload(photo);
    const phase = async (name: string, load: () => Promise<LoadResult>, saturating = false) => {
      const before = await interleave(rawWork, rawLoop);
      const result = await load();
      // Requests still queued when the load generator stops would run beside the raw models:
      // one more request, queued behind them, returns when the server is idle again.
      await recognizeOnce(server!, upload, keepAlive);
      const after = await interleave(rawWork, rawLoop);
      const together = before.sideBySide && after.sideBySide ? summarize([...before.sideBySide, ...after.sideBySide]) : undefined;
      phases.push({ name, result, saturating, raw: summarize([...before.raw!, ...after.raw!]), ...(together ? { sideBySide: together } : {}) });
    };
    let sequential: Awaited<ReturnType<typeof sequentialRounds>>;
    let health: Summary | undefined;
    try {
      sequential = await sequentialRounds(server, upload, keepAlive, raw, options);
      await phase('multipart, concurrency 1', () => runAutocannon(options.root, url, multipart, 1, seconds.c1));
      await phase('JSON base64, concurrency 1', () => runAutocannon(options.root, url, json, 1, seconds.json));
      await phase('multipart JPEG q90, concurrency 1', () => runAutocannon(options.root, url, jpeg, 1, seconds.json));
      await phase('multipart, concurrency 4', () => runAutocannon(options.root, url, multipart, 4, seconds.c4), true);
      await phase('multipart JPEG q90, concurrency 4', () => runAutocannon(options.root, url, jpeg, 4, seconds.json));
      await phase('multipart, concurrency 16', async () => {
        const c16 = await healthLatency(server!, runAutocannon(options.root, url, multipart, 16, seconds.c16));
        health = c16.health;
        return c16.result;
      }, true);
    } finally {
      await models.dispose();
    }
    const objects = options.config.packs.includes('objects') ? await objectsLoad(server, photos, keepAlive, options, seconds.json) : undefined;
    const clean = (r: LoadResult) => r.requests > 0 && r.errors + r.non2xx === 0;
    // The raw ceiling is the better of the service's two ways of using the cores: runs one after
    // another with all threads, or its side-by-side copies all busy at once.
    const copies = models.sideBySide.copies;
    const ceilingOf = (p: Phase) => Math.max(1000 / p.raw.median, p.sideBySide ? (copies * 1000) / p.sideBySide.median : 0);
    // The lower of the saturated loads (4 and 16 connections): a noisy moment must not flatter.
    const saturated = phases.filter((p) => p.saturating).reduce((worst, p) => (ratio(p.result.requestsPerSecond, ceilingOf(p)) < ratio(worst.result.requestsPerSecond, ceilingOf(worst)) ? p : worst));
    const latencyRatio = ratio(sequential.client.median, sequential.raw.median);
    const throughputRatio = clean(saturated.result) ? ratio(saturated.result.requestsPerSecond, ceilingOf(saturated)) : Number.NaN;
    return {
      ...base,
      tables: [
        {
          caption: `pack ${packName}, ${photo.file} (${photo.bytes.length} bytes), multipart (the body encoded once, sent with node:http over a kept-alive connection), one request after another in turns with the raw models (detector + embedder for one face, session.run in the bench process with the server's threads)`,
          table: {
            headers: ['', 'median ms', 'p90 ms', 'p99 ms'],
            rows: [
              ['POST /recognize, client side', formatMs(sequential.client.median), formatMs(sequential.client.p90), formatMs(sequential.client.p99)],
              ['  of which the server\'s cascade (timings.total)', formatMs(sequential.server.median), formatMs(sequential.server.p90), formatMs(sequential.server.p99)],
              ['raw models', formatMs(sequential.raw.median), formatMs(sequential.raw.p90), formatMs(sequential.raw.p99)],
              ['request / raw', formatRatio(latencyRatio), '', ''],
            ],
          },
        },
        {
          caption:
            'autocannon (its own process); each load compared with raw model runs timed just before and after it: "raw ms" one after another with all threads, ' +
            `"side by side ms" for ${copies} copies with ${models.sideBySide.threads} thread(s) each running at once (the service's inference concurrency); ` +
            `ceiling = the higher of 1000 / raw ms and ${copies} x 1000 / side by side ms`,
          table: {
            headers: ['load', 'seconds', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'raw ms', 'side by side ms', 'ceiling req/s', 'p50 / raw', 'req/s / ceiling'],
            rows: phases.map((p) => {
              const { name, result: r, raw: rw } = p;
              return [
                name, r.seconds.toFixed(0), r.requests, formatNumber(r.requestsPerSecond, 2), formatMs(r.latency.p50), formatMs(r.latency.p90), formatMs(r.latency.p99),
                r.errors + r.non2xx, formatMs(rw.median), formatMs(p.sideBySide?.median), formatNumber(ceilingOf(p), 2),
                formatRatio(ratio(r.latency.p50, rw.median)), formatRatio(ratio(r.requestsPerSecond, ceilingOf(p))),
              ];
            }),
          },
        },
        ...(objects?.tables ?? []),
      ],
      notes: [
        `GET /healthz during the concurrency-16 run: ${formatMs(health?.median)} ms median, ${formatMs(health?.p99)} ms p99, ${formatMs(health?.max)} ms max (how long the event loop keeps a trivial request waiting)`,
        'autocannon reports latency in whole milliseconds',
      ],
      targets: [
        target('/recognize at concurrency 1 (median) / raw models', latencyRatio, 'max', 1.15),
        target('throughput at saturation (lower of 4 and 16 connections) / raw models ceiling', throughputRatio, 'min', 0.85, 'x', saturated.name),
      ],
      data: { pack: packName, photo: photo.file, bytes: photo.bytes.length, sequential, phases, healthUnderLoad: health, latencyRatio, throughputRatio, ...(objects ? { objects: objects.data } : {}) },
    };
  } finally {
    keepAlive.destroy();
    await server?.stop();
    await rm(temp, { recursive: true, force: true });
  }
}
