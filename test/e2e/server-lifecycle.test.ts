import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

  it('refuses to start with an invalid setting, naming it', async () => {
    await expect(startServer({ SPOTTER_DATA_DIR: dataDir, PORT: 'eighty' }, 10_000)).rejects.toThrow(/port \(PORT\)/);
  });
});
