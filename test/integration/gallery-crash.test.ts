import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GalleryStore } from '../../src/gallery/gallery-store.js';
import { tempDir } from '../unit/gallery/gallery-test-helpers.js';

const writer = fileURLToPath(new URL('./gallery-crash-writer.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Acks {
  added: Set<string>;
  deleted: Set<string>;
  /** Deletes begun but maybe not committed when the kill came. */
  deleting: Set<string>;
}

/** Runs the writer until it has acknowledged `adds` enrolments, then kills it with SIGKILL. */
function runAndKill(dataDir: string, seed: number, adds: number): Promise<Acks> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dataDir, String(seed)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Acks = { added: new Set(), deleted: new Set(), deleting: new Set() };
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, id] = line.split(' ');
        if (kind === 'A' && id) acks.added.add(id);
        if (kind === 'd' && id) acks.deleting.add(id);
        if (kind === 'D' && id) acks.deleted.add(id);
      }
      if (!killed && acks.added.size >= adds) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (codeOrNull, signal) => {
      if (signal === 'SIGKILL') resolve(acks);
      else reject(new Error(`writer exited with ${codeOrNull}: ${stderr}`));
    });
  });
}

describe('gallery store under kill -9', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.cleanup());

  it('keeps every acknowledged write and its index agrees with the store', async () => {
    const all: Acks = { added: new Set(), deleted: new Set(), deleting: new Set() };
    // Two rounds: the second starts from the state the first crash left behind.
    for (const [round, adds] of [[1, 180], [2, 130]] as const) {
      const acks = await runAndKill(temp.dir, round, adds);
      acks.added.forEach((id) => all.added.add(id));
      acks.deleted.forEach((id) => all.deleted.add(id));
      acks.deleting.forEach((id) => all.deleting.add(id));

      const store = new GalleryStore({ dataDir: temp.dir, snapshotIntervalMs: 0 });
      await store.init();
      try {
        expect(store.checkConsistency('crash').consistent).toBe(true);
        for (const id of all.added) {
          if (all.deleting.has(id) && !all.deleted.has(id)) continue;
          if (all.deleted.has(id)) {
            expect(() => store.getEntry('crash', id)).toThrow(expect.objectContaining({ code: 'ENTRY_NOT_FOUND' }));
            continue;
          }
          const vector = store.getEntryVector('crash', id);
          const [best] = store.search('crash', vector, 1);
          expect(best?.entryId).toBe(id);
          expect(best?.similarity).toBeCloseTo(1, 5);
        }
      } finally {
        // dispose snapshots the reconciled index; the next round's writer starts from it.
        await store.dispose();
      }
    }
    expect(all.added.size).toBeGreaterThanOrEqual(310);
  }, 120_000);
});
