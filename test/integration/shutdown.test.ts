import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

interface Answer {
  status: number;
  connection: string | undefined;
  body: { code?: string; statusCode?: number; message?: string };
}

const API_KEY = 'a-test-key-of-some-length';

/**
 * close() runs the preClose hooks before the server stops accepting: a request that arrives on a
 * kept-alive connection in that window must get the service's own error shape, not fastify's
 * bare 503.
 */
describe('a request that arrives while the service is closing', () => {
  let t: TestApp | undefined;
  afterAll(async () => t?.close());

  it('is refused with 503 NOT_READY, before auth, and its connection is closed', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let port = 0;
    const get = (path: string) =>
      new Promise<Answer>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: JSON.parse(text) as Answer['body'] }));
        });
        req.on('error', reject);
        req.end();
      });
    let during: Promise<Answer> | undefined;
    t = await startTestApp({ apiKey: API_KEY }, undefined, (app) => {
      // Added after the app's own preClose hook, so it runs once the app knows it is closing.
      app.addHook('preClose', async () => {
        during = get('/v1/galleries');
        await during;
      });
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;

    const before = await get('/healthz');
    expect(before.status).toBe(200);
    expect(before.connection).toBe('keep-alive');

    await t.app.close();
    const answer = await during!;
    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe('NOT_READY');
    expect(answer.body.statusCode).toBe(503);
    expect(answer.body.message).toMatch(/stopping/);
    expect(answer.connection).toBe('close');
    agent.destroy();
  });
});
