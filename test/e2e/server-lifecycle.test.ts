import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startServer, waitForExit, type ServerProcess } from '../helpers/server-process.js';

describe('server process', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'spotter-life-'));
  let server: ServerProcess | undefined;
  afterAll(() => {
    server?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes an in-flight request on SIGTERM, then exits 0', async () => {
    server = await startServer({ SPOTTER_DATA_DIR: dataDir });
    const image = readFileSync(join(ROOT, 'test', 'fixtures', 'photos', 'astronaut.png')).toString('base64');
    const inFlight = fetch(`${server.url}/v1/detect?pack=face`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image }),
    });
    await new Promise((r) => setTimeout(r, 30));
    server.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { objects: unknown[] }).objects).toHaveLength(1);
    expect((await waitForExit(server.child)).code).toBe(0);
  });

  it('answers a client that stops sending with 408 REQUEST_TIMEOUT, and headers too large or malformed HTTP in its own shape', async () => {
    server = await startServer({ SPOTTER_DATA_DIR: dataDir, SPOTTER_REQUEST_TIMEOUT_MS: '1000' });
    const slow = await exchange(server.url, 'POST /v1/detect?pack=face HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"image":');
    expect(slow.status).toBe(408);
    expect(slow.body.code).toBe('REQUEST_TIMEOUT');
    const big = await exchange(server.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nx-api-key: ${'k'.repeat(20_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(big.body.code).toBe('HEADERS_TOO_LARGE');
    const smuggled = await exchange(server.url, 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.code).toBe('BAD_REQUEST');
    // A client that goes away mid-upload is neither answered nor counted as the service's error.
    const { hostname, port } = new URL(server.url);
    const gone = connect(Number(port), hostname, () => {
      gone.write('POST /v1/detect?pack=face HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n');
      gone.write(`--XX\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${'a'.repeat(5000)}`);
      setTimeout(() => gone.destroy(), 100);
    });
    await new Promise((r) => setTimeout(r, 400));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/spotter_errors_total\{code="CLIENT_CLOSED"\} [1-9]/);
    expect(metrics).not.toMatch(/spotter_errors_total\{code="INTERNAL"\}/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect((await waitForExit(server.child)).code).toBe(0);
  });

  it('closes a connection that is still sending when the shutdown timeout passes, and still stops in order', async () => {
    server = await startServer({ SPOTTER_DATA_DIR: dataDir, SPOTTER_SHUTDOWN_TIMEOUT_MS: '500', LOG_LEVEL: 'info' });
    const stuck = exchange(server.url, 'POST /v1/detect?pack=face HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"image":');
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    expect((await waitForExit(server.child)).code).toBe(0);
    await stuck;
    expect(server.output()).toContain('closing their connections');
    expect(server.output()).toContain('"msg":"stopped"');
  });

  it('drains on SIGTERM with SPOTTER_SHUTDOWN_DRAIN_MS: not ready but still serving; a second signal ends the drain', async () => {
    server = await startServer({ SPOTTER_DATA_DIR: dataDir, SPOTTER_SHUTDOWN_DRAIN_MS: '600000', LOG_LEVEL: 'info' });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    server.child.kill('SIGTERM');
    let ready = await fetch(`${server.url}/readyz`);
    for (let tries = 0; ready.status === 200 && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await fetch(`${server.url}/readyz`);
    }
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, problem: 'the service is stopping' });
    // Still listening and serving: a new connection, a request that needs the models.
    const image = readFileSync(join(ROOT, 'test', 'fixtures', 'photos', 'astronaut.png')).toString('base64');
    const detect = await fetch(`${server.url}/v1/detect?pack=face`, {
      method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify({ image }),
    });
    expect(detect.status).toBe(200);
    expect(server.output()).toContain('draining');
    const second = Date.now();
    server.child.kill('SIGTERM');
    expect((await waitForExit(server.child)).code).toBe(0);
    expect(Date.now() - second).toBeLessThan(30_000);
    expect(server.output()).toContain('"msg":"stopped"');
  });

  it('drops queued requests whose clients have gone, so that they hold no queue slot', async () => {
    server = await startServer({ SPOTTER_DATA_DIR: dataDir, SPOTTER_INFERENCE_CONCURRENCY: '1', SPOTTER_QUEUE_SIZE: '2' });
    const body = JSON.stringify({ image: readFileSync(join(ROOT, 'test', 'fixtures', 'photos', 'astronaut.png')).toString('base64') });
    const { hostname, port } = new URL(server.url);
    const request = `POST /v1/detect?pack=face HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // Three clients send whole requests (one runs, two wait in the queue), then go away.
    const clients = [0, 1, 2].map(() => connect(Number(port), hostname, function (this: ReturnType<typeof connect>) { this.write(request); }));
    const queued = async () => Number(/^spotter_inference_queued (\d+)/m.exec(await (await fetch(`${server!.url}/metrics`)).text())?.[1] ?? 0);
    for (let tries = 0; (await queued()) < 2 && tries < 200; tries++) await new Promise((r) => setTimeout(r, 25));
    expect(await queued()).toBe(2);
    for (const client of clients) client.destroy();
    for (let tries = 0; (await queued()) > 0 && tries < 200; tries++) await new Promise((r) => setTimeout(r, 25));
    expect(await queued()).toBe(0);
    // The queue is free for a client that is still there.
    const fresh = await fetch(`${server.url}/v1/detect?pack=face`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(fresh.status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/spotter_errors_total\{code="CLIENT_CLOSED"\} [2-9]/);
    server.child.kill('SIGTERM');
    expect((await waitForExit(server.child)).code).toBe(0);
  });

  it('refuses to start with an invalid setting, naming it', async () => {
    await expect(startServer({ SPOTTER_DATA_DIR: dataDir, PORT: 'eighty' }, 10_000)).rejects.toThrow(/port \(PORT\)/);
  });
});

/** Writes raw bytes to the server and reads until it closes the connection: status and JSON body. */
function exchange(url: string, raw: string): Promise<{ status: number; body: { code?: string } }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => {
      // the server may reset after answering; what arrived is judged below
    });
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const json = text.slice(text.indexOf('\r\n\r\n') + 4);
      try {
        resolve({ status, body: status ? (JSON.parse(json) as { code?: string }) : {} });
      } catch (error) {
        reject(new Error(`not JSON after the headers: ${text.slice(0, 300)}`, { cause: error }));
      }
    });
  });
}
