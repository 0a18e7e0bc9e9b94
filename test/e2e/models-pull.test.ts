import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPack } from '../../src/models/pack-loader.js';
import { ROOT } from '../helpers/server-process.js';
import { dinov2Model, picodetNmsModel, ppShituRecModel, sha256, solidImage } from '../helpers/synthetic-models.js';

/**
 * `npm run models -- pull` as a process against an HTTP server on 127.0.0.1 that serves a small
 * model, can corrupt it and can cut a transfer half-way; Range requests are honoured.
 */
type Mode = 'ok' | 'corrupt' | 'cut-first' | 'html-first';

interface Served {
  server: Server;
  url: string;
  requests: { range?: string }[];
  mode: Mode;
}

function serve(bytes: Uint8Array): Promise<Served> {
  const state: Served = { server: undefined as unknown as Server, url: '', requests: [], mode: 'ok' };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const range = req.headers.range;
    state.requests.push({ range });
    const { port } = state.server.address() as AddressInfo;
    // Redirects: to this server's model (allowed), or to the same place as an IPv4-mapped IPv6
    // address, which the transport rule refuses as not plainly loopback.
    if (req.url === '/moved') return void res.writeHead(302, { location: '/dinov2/model.onnx' }).end();
    if (req.url === '/moved-away') return void res.writeHead(302, { location: `http://[::ffff:127.0.0.1]:${port}/dinov2/model.onnx` }).end();
    if (state.mode === 'html-first' && state.requests.length === 1) {
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>rate limited, try later</body></html>');
    }
    let body = Buffer.from(bytes);
    if (state.mode === 'corrupt') body[body.length >> 1] = body[body.length >> 1]! ^ 0xff;
    const start = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? 0) : 0;
    if (start >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(body.length - start), 'accept-ranges': 'bytes' };
    if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    body = body.subarray(start);
    if (state.mode === 'cut-first' && state.requests.length === 1) {
      // Half the bytes, then the connection drops.
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(body);
  };
  return new Promise((done) => {
    state.server = createServer(handler).listen(0, '127.0.0.1', () => {
      state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/dinov2/model.onnx`;
      done(state);
    });
  });
}

function runModels(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/cli/models-command.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

const exists = async (path: string) => (await stat(path).catch(() => undefined)) !== undefined;

describe('models pull against a local server', () => {
  const bytes = dinov2Model();
  let root: string;
  let modelsDir: string;
  let catalogDir: string;
  let served: Served;

  /** A catalog entry like dinov2-small's, pointing at the local server. */
  async function writeCatalog(pin: boolean, download: { url?: string; size?: boolean } = {}): Promise<void> {
    const dir = join(catalogDir, 'tiny-dino');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'pack.json'), JSON.stringify({
      name: 'tiny-dino', detector: 'none', embedder: 'tiny-dino.json',
      defaults: { threshold: 0.6, topK: 5, maxObjects: 1, minScore: 0, wholeImageFallback: true },
    }));
    const manifest = JSON.parse(await readFile(join(ROOT, 'models/catalog/dinov2-small/dinov2-small.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'tiny-dino.json'), JSON.stringify({
      ...manifest,
      id: 'tiny-dino',
      file: 'tiny-dino.onnx',
      sha256: pin ? sha256(bytes) : null,
      download: { url: download.url ?? served.url, ...(download.size === false ? {} : { size: bytes.length }) },
    }));
  }

  const pull = (...extra: string[]) => runModels(['pull', 'tiny-dino', '--models-dir', modelsDir, '--catalog', catalogDir, ...extra]);
  const part = () => join(modelsDir, '.spotter-install', 'downloads', 'tiny-dino', 'tiny-dino.onnx.part');

  beforeAll(async () => {
    served = await serve(bytes);
  });
  afterAll(() => new Promise<void>((done) => served.server.close(() => done())));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'spotter-pull-'));
    modelsDir = join(root, 'models');
    catalogDir = join(root, 'catalog');
    served.requests.length = 0;
    served.mode = 'ok';
    await writeCatalog(true);
    return () => rm(root, { recursive: true, force: true });
  });

  it('refuses to touch the network without --allow-network or SPOTTER_ALLOW_DOWNLOADS', async () => {
    const refused = await pull();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/downloads are off by default: pass --allow-network \(or set SPOTTER_ALLOW_DOWNLOADS=1\)/);
    expect(served.requests).toHaveLength(0);
    const allowed = await runModels(['pull', 'tiny-dino', '--models-dir', modelsDir, '--catalog', catalogDir], { SPOTTER_ALLOW_DOWNLOADS: '1' });
    expect(allowed.code).toBe(0);
  });

  it('downloads, verifies the pinned sha256 and installs a pack that loads and embeds', async () => {
    const result = await pull('--allow-network');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sha256 [0-9a-f]{64} \(verified\)/);
    const installed = JSON.parse(await readFile(join(modelsDir, 'tiny-dino', 'tiny-dino.json'), 'utf8')) as { sha256: string };
    expect(installed.sha256).toBe(sha256(bytes));
    const pack = await loadPack(modelsDir, 'tiny-dino');
    try {
      expect(pack.detector.id).toBe('whole-image');
      const [v] = await pack.embedder.embed([solidImage(40, 30, [1, 2, 3])]);
      expect(v).toHaveLength(384);
    } finally {
      await pack.embedder.dispose();
    }
    expect(await exists(part())).toBe(false);
    const again = await pull('--allow-network');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already installed .* pass --replace/);
  });

  it('rejects a corrupted download by sha256, deletes it and installs nothing', async () => {
    served.mode = 'corrupt';
    const result = await pull('--allow-network');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/tiny-dino\.onnx: sha256 mismatch, downloaded [0-9a-f]{64}, tiny-dino\.json pins [0-9a-f]{64}; the download was deleted and nothing was installed/);
    expect(await exists(join(modelsDir, 'tiny-dino'))).toBe(false);
    expect(await exists(part())).toBe(false);
  });

  it('keeps an interrupted download and resumes it with a Range request on the next run', async () => {
    served.mode = 'cut-first';
    const first = await pull('--allow-network', '--retries', '0');
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/bytes are kept in .*tiny-dino\.onnx\.part, run the command again to resume/);
    const kept = (await stat(part())).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(bytes.length);
    const second = await pull('--allow-network');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`resuming at ${kept} bytes`));
    expect(served.requests.map((r) => r.range)).toEqual([undefined, `bytes=${kept}-`]);
    expect(sha256(await readFile(join(modelsDir, 'tiny-dino', 'tiny-dino.onnx')))).toBe(sha256(bytes));
  });

  it('resumes within one run when the connection drops', async () => {
    served.mode = 'cut-first';
    const result = await pull('--allow-network');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/transfer (interrupted|ended) .*retrying \(1 of 3\)/);
    expect(served.requests).toHaveLength(2);
    expect(served.requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('refuses an unpinned file unless --trust-unpinned, then records the hash it received', async () => {
    await writeCatalog(false);
    const refused = await pull('--allow-network');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pins no sha256 .* pass --trust-unpinned/);
    expect(served.requests).toHaveLength(0);
    const trusted = await pull('--allow-network', '--trust-unpinned');
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toMatch(/\(unpinned, recorded\)/);
    const installed = JSON.parse(await readFile(join(modelsDir, 'tiny-dino', 'tiny-dino.json'), 'utf8')) as { sha256: string };
    expect(installed.sha256).toBe(sha256(bytes));
  });
  it('follows redirects only to URLs the transport rule allows, naming a refused one', async () => {
    const origin = new URL(served.url).origin;
    await writeCatalog(true, { url: `${origin}/moved` });
    const moved = await pull('--allow-network');
    expect(moved.code).toBe(0);
    expect(sha256(await readFile(join(modelsDir, 'tiny-dino', 'tiny-dino.onnx')))).toBe(sha256(bytes));
    await writeCatalog(true, { url: `${origin}/moved-away` });
    const away = await pull('--allow-network', '--replace');
    expect(away.code).toBe(1);
    expect(away.stderr).toContain(`${origin}/moved-away redirects to http://[::ffff:7f00:1]:`);
    expect(away.stderr).toMatch(/which is refused: only https, or http to this machine/);
  });

  it('deletes an unpinned download that does not install, and never resumes an unpinned file across runs', async () => {
    await writeCatalog(false, { size: false });
    served.mode = 'html-first';
    const first = await pull('--allow-network', '--trust-unpinned');
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/the unpinned download\(s\) were deleted/);
    expect(await exists(part())).toBe(false);
    // Bytes left by a run that was killed are not built on either.
    await mkdir(join(modelsDir, '.spotter-install', 'downloads', 'tiny-dino'), { recursive: true });
    await writeFile(part(), '<html>');
    const second = await pull('--allow-network', '--trust-unpinned');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/unpinned, so the partial download of an earlier run is not resumed; starting again/);
    expect(served.requests.map((r) => r.range)).toEqual([undefined, undefined]);
    expect(sha256(await readFile(join(modelsDir, 'tiny-dino', 'tiny-dino.onnx')))).toBe(sha256(bytes));
  });
});

describe('models inspect / import / list as a process', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'spotter-import-'));
    await writeFile(join(root, 'det.onnx'), picodetNmsModel([[0, 0.9, 10, 10, 100, 100]]));
    await writeFile(join(root, 'rec.onnx'), ppShituRecModel());
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('inspect prints the signature to write a manifest from', async () => {
    const result = await runModels(['inspect', join(root, 'det.onnx')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/inputs:\n {2}image {2}float32 \[1, 3, 640, 640\]\n {2}scale_factor {2}float32 \[1, 2\]\n {2}im_shape {2}float32 \[1, 2\]/);
    expect(result.stdout).toMatch(/outputs:\n {2}multiclass_nms3_0\.tmp_0 {2}\[\w+, 6\]\n {2}multiclass_nms3_0\.tmp_2 {2}\[1\]/);
  });

  it('imports a paddle2onnx-style PP-ShiTuV2 pair and lists it next to the packs still to install', async () => {
    const modelsDir = join(root, 'models');
    const common = ['--models-dir', modelsDir, '--catalog', join(ROOT, 'models', 'catalog')];
    const imported = await runModels(['import', 'pp-shituv2', '--detector', join(root, 'det.onnx'), '--embedder', join(root, 'rec.onnx'), ...common]);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/installed pack "pp-shituv2" in .*; serve it with SPOTTER_PACKS=pp-shituv2/);
    const listed = await runModels(['list', ...common]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/pp-shituv2\n {2}detector {2}pp-shituv2-picodet-lcnet-x2\.5-mainbody \(picodet-nms\)\n {2}embedder {2}pp-shituv2-pplcnetv2-base-rec \(512-D\)\n {2}state {5}installed/);
    expect(listed.stdout).toMatch(/dinov2-small\n {2}detector {2}none \(whole image\)\n.*\n {2}state {5}not installed: npm run models -- pull dinov2-small --allow-network --trust-unpinned/);
  });

  it('takes relative paths from the folder npm was run in (INIT_CWD), as the other commands do', async () => {
    const inspected = await runModels(['inspect', 'rec.onnx'], { INIT_CWD: root });
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain(join(root, 'rec.onnx'));
    const catalog = join(ROOT, 'models', 'catalog');
    const imported = await runModels(['import', 'pp-shituv2', '--detector', 'det.onnx', '--embedder', 'rec.onnx', '--models-dir', 'relative-models', '--catalog', catalog], { INIT_CWD: root });
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(await exists(join(root, 'relative-models', 'pp-shituv2', 'pack.json'))).toBe(true);
  });

  it('lists the other packs when one catalog entry cannot be read, saying what is wrong with it', async () => {
    const catalog = join(root, 'broken-catalog');
    await cp(join(ROOT, 'models', 'catalog', 'dinov2-small'), join(catalog, 'dinov2-small'), { recursive: true });
    await mkdir(join(catalog, 'zz-broken'), { recursive: true });
    await writeFile(join(catalog, 'zz-broken', 'pack.json'), JSON.stringify({ name: 'zz-broken', detector: 'none', embedder: 'missing.json', defaults: { threshold: 0.5, topK: 5, maxObjects: 1, minScore: 0, wholeImageFallback: true } }));
    const listed = await runModels(['list', '--models-dir', join(root, 'empty-models'), '--catalog', catalog]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/dinov2-small\n(.*\n){2} {2}state {5}not installed/);
    expect(listed.stdout).toMatch(/zz-broken\n(.*\n){2} {2}state {5}catalog entry invalid: model manifest .*missing\.json/);
  });
});
