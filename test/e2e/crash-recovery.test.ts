import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, waitForExit, ROOT, type ServerProcess } from '../helpers/server-process.js';

/**
 * Nothing acknowledged is lost: enrol continuously, kill -9 the server mid-stream, restart on the
 * same folder; every entry that got a 201 must be in the store and found by recognize.
 */
describe('kill -9 during enrolment', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'spotter-crash-'));
  const env = { SPOTTER_DATA_DIR: dataDir, SPOTTER_SNAPSHOT_EVERY_CHANGES: '7' };
  const image = readFileSync(join(ROOT, 'test', 'fixtures', 'photos', 'astronaut.png')).toString('base64');
  let server: ServerProcess | undefined;

  afterAll(() => {
    server?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged entry', async () => {
    server = await startServer(env);
    const created = await fetch(`${server.url}/v1/galleries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crash', pack: 'face' }) });
    expect(created.status).toBe(201);

    const acknowledged: string[] = [];
    let attempts = 0;
    let stop = false;
    // Two clients enrol the same face under new labels until the kill; labels differ, so no duplicates.
    const client = async () => {
      while (!stop) {
        const label = `person ${attempts++}`;
        try {
          const res = await fetch(`${server!.url}/v1/galleries/crash/entries`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ label, image }),
          });
          if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = [client(), client()];
    while (acknowledged.length < 25) await new Promise((r) => setTimeout(r, 20));
    server.child.kill('SIGKILL');
    await waitForExit(server.child);
    stop = true;
    await Promise.all(clients);
    expect(attempts).toBeGreaterThan(acknowledged.length - 1);

    server = await startServer(env);
    const gallery = (await (await fetch(`${server.url}/v1/galleries/crash`)).json()) as { entryCount: number };
    expect(gallery.entryCount).toBeGreaterThanOrEqual(acknowledged.length);
    for (const id of acknowledged) {
      const res = await fetch(`${server.url}/v1/galleries/crash/entries/${id}`);
      expect(res.status, `entry ${id}`).toBe(200);
    }
    // Every stored entry is in the index: recognize returns all of them (same face, top-k = count).
    const res = await fetch(`${server.url}/v1/galleries/crash/recognize`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image, topK: Math.min(100, gallery.entryCount) }),
    });
    const result = (await res.json()) as { objects: { matches: { entryId: string }[] }[] };
    const found = new Set(result.objects[0]!.matches.map((m) => m.entryId));
    expect(found.size).toBe(gallery.entryCount);
    for (const id of acknowledged) expect(found.has(id), `entry ${id} in the index`).toBe(true);

    server.child.kill('SIGTERM');
    expect((await waitForExit(server.child)).code).toBe(0);
  });
});
