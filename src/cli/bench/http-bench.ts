import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Box } from '../../core/types.js';
import { encodeJpeg } from '../../imaging/decode.js';
import { readPhotos, referencePhoto, type Photo } from './bench-inputs.js';
import { runAutocannon, startServerProcess, type LoadBody, type LoadResult, type ServerProcess } from './bench-server.js';
import { interleave, ratio, summarize, type Summary } from './bench-stats.js';
import { formatMs, formatNumber, formatRatio } from './bench-table.js';
import { mainPack, target, type BenchOptions, type SectionResult } from './bench-types.js';
import { openServiceModels } from './service-models.js';

const GALLERY = 'bench';

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

/** Response timings of sequential requests: the server's own view, to separate HTTP from the cascade. */
async function serverTimings(server: ServerProcess, photo: Photo, count: number): Promise<{ client: Summary; server: Summary }> {
  const client: number[] = [];
  const inside: number[] = [];
  for (let i = 0; i < count; i++) {
    const form = new FormData();
    form.append('image', new Blob([photo.bytes]), photo.file);
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/galleries/${GALLERY}/recognize`, { method: 'POST', body: form });
    if (!res.ok) throw new Error(`recognize: ${res.status} ${(await res.text()).slice(0, 300)}`);
    const json = (await res.json()) as { timings?: { total?: number } };
    client.push(performance.now() - t0);
    if (json.timings?.total !== undefined) inside.push(json.timings.total);
  }
  return { client: summarize(client), server: summarize(inside) };
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

/** Section 3: the built server as a process under autocannon, against the raw models here. */
export async function runHttpBench(options: BenchOptions): Promise<SectionResult> {
  const base = { id: 'http' as const, title: '3. The HTTP service (dist/server.js under autocannon, POST /v1/galleries/{name}/recognize)', tables: [], notes: [], targets: [], data: {} };
  if (!existsSync(join(options.root, 'node_modules', 'autocannon', 'autocannon.js'))) return { ...base, skipped: 'autocannon (a dev dependency) is not installed' };
  const photo = referencePhoto(await readPhotos(options.photosDir));
  const temp = await mkdtemp(join(tmpdir(), 'spotter-bench-http-'));
  let server: ServerProcess | undefined;
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
    const seconds = options.quick ? { c1: 6, json: 3, c4: 5, c16: 5 } : { c1: 30, json: 15, c4: 20, c16: 20 };

    const models = await openServiceModels(options, packName, photo, box);
    const raw = {
      run: async () => {
        await models.runDetector();
        await models.runEmbedder(1);
      },
    };
    const rawSamples: number[] = [];
    const rawLoop = { warmup: 2, iterations: options.quick ? 8 : 30, maxMs: options.quick ? 2_000 : 10_000 };
    const loads: { name: string; result: LoadResult }[] = [];
    let inside: { client: Summary; server: Summary };
    let health: Summary;
    try {
      rawSamples.push(...(await interleave({ raw: raw.run }, rawLoop)).raw);
      inside = await serverTimings(server, photo, options.quick ? 5 : 30);
      loads.push({ name: 'multipart, concurrency 1', result: await runAutocannon(options.root, url, multipart, 1, seconds.c1) });
      loads.push({ name: 'JSON base64, concurrency 1', result: await runAutocannon(options.root, url, json, 1, seconds.json) });
      loads.push({ name: 'multipart JPEG q90, concurrency 1', result: await runAutocannon(options.root, url, jpeg, 1, seconds.json) });
      loads.push({ name: 'multipart, concurrency 4', result: await runAutocannon(options.root, url, multipart, 4, seconds.c4) });
      const c16 = await healthLatency(server, runAutocannon(options.root, url, multipart, 16, seconds.c16));
      loads.push({ name: 'multipart, concurrency 16', result: c16.result });
      health = c16.health;
      rawSamples.push(...(await interleave({ raw: raw.run }, { ...rawLoop, warmup: 1 })).raw);
    } finally {
      await models.dispose();
    }
    const rawSummary = summarize(rawSamples);
    const ceiling = 1000 / rawSummary.median;
    const c1 = loads[0]!.result;
    const saturated = loads.filter((l) => l.result.connections > 1).reduce((best, l) => (l.result.requestsPerSecond > best.result.requestsPerSecond ? l : best));
    const clean = (r: LoadResult) => r.requests > 0 && r.errors + r.non2xx === 0;
    const latencyRatio = clean(c1) ? ratio(c1.latency.p50, rawSummary.median) : Number.NaN;
    const throughputRatio = clean(saturated.result) ? ratio(saturated.result.requestsPerSecond, ceiling) : Number.NaN;
    return {
      ...base,
      tables: [{
        caption: `pack ${packName}, ${photo.file} (${photo.bytes.length} bytes); raw models = detector + embedder (one face) session.run in the bench process with the server's threads, ${formatMs(rawSummary.median)} ms median (p90 ${formatMs(rawSummary.p90)}) = ceiling ${formatNumber(ceiling)} images/s`,
        table: {
          headers: ['load', 'seconds', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'p50 / raw', 'req/s / ceiling'],
          rows: loads.map(({ name, result: r }) => [
            name, r.seconds.toFixed(0), r.requests, formatNumber(r.requestsPerSecond, 2), formatMs(r.latency.p50), formatMs(r.latency.p90), formatMs(r.latency.p99),
            r.errors + r.non2xx, formatRatio(ratio(r.latency.p50, rawSummary.median)), formatRatio(ratio(r.requestsPerSecond, ceiling)),
          ]),
        },
      }],
      notes: [
        `sequential requests: client-side ${formatMs(inside.client.median)} ms median, of which the server's cascade (response timings.total) ${formatMs(inside.server.median)} ms; HTTP, upload and parsing take the rest`,
        `GET /healthz during the concurrency-16 run: ${formatMs(health!.median)} ms median, ${formatMs(health!.p99)} ms p99, ${formatMs(health!.max)} ms max (how long the event loop keeps a trivial request waiting)`,
        'autocannon reports latency in whole milliseconds',
      ],
      targets: [
        target('/recognize p50 at concurrency 1 / raw models', latencyRatio, 'max', 1.15),
        target('throughput at saturation / raw models ceiling', throughputRatio, 'min', 0.85, 'x', saturated.name),
      ],
      data: { photo: photo.file, bytes: photo.bytes.length, raw: rawSummary, ceilingPerSecond: ceiling, loads, sequential: inside, healthUnderLoad: health!, latencyRatio, throughputRatio },
    };
  } finally {
    await server?.stop();
    await rm(temp, { recursive: true, force: true });
  }
}
