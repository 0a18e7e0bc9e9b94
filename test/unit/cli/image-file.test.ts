import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageFile } from '../../../src/cli/shared/image-file.js';

describe('readImageFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spotter-image-file-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a file up to the limit, byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    await writeFile(join(dir, 'ok.jpg'), bytes);
    expect(await readImageFile(join(dir, 'ok.jpg'), 3000)).toEqual(bytes);
    await writeFile(join(dir, 'empty.jpg'), '');
    expect(await readImageFile(join(dir, 'empty.jpg'), 3000)).toHaveLength(0);
  });

  it('refuses a file over the limit with IMAGE_TOO_LARGE before reading it', async () => {
    await writeFile(join(dir, 'one-over.jpg'), Buffer.alloc(3001));
    await expect(readImageFile(join(dir, 'one-over.jpg'), 3000)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    // 2.2 GB (sparse, so it costs no disk): reading it whole would fail with ERR_FS_FILE_TOO_LARGE
    // after filling memory; the size is refused from stat, in no time.
    const huge = join(dir, 'huge.jpg');
    await writeFile(huge, '');
    await truncate(huge, 2.2e9);
    const started = performance.now();
    await expect(readImageFile(huge, 20 * 1024 * 1024)).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: expect.stringContaining('the file is 2200000000 bytes, more than the limit of 20971520 bytes'),
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reads a device without a size only up to the limit', async () => {
    await expect(readImageFile('/dev/zero', 5 * 1024 * 1024)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });

  it('keeps the file system error (syscall) of a missing file, reported as READ_FAILED', async () => {
    await expect(readImageFile(join(dir, 'missing.jpg'), 3000)).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });
});
