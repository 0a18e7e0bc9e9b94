import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestFile, writeFileAtomically } from '../../../src/gallery/snapshot-file.js';
import { tempDir } from './gallery-test-helpers.js';

describe('atomic snapshot files', () => {
  let temp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(() => temp.cleanup());

  it('replaces the file whole and reports its digest', () => {
    const file = join(temp.dir, 'a.hnsw');
    writeFileSync(file, 'old');
    const digest = writeFileAtomically(file, (t) => writeFileSync(t, 'new contents'));
    expect(readFileSync(file, 'utf8')).toBe('new contents');
    expect(digest).toEqual({ sha256: createHash('sha256').update('new contents').digest('hex'), bytes: 12 });
    expect(digestFile(file)).toEqual(digest);
    expect(readdirSync(temp.dir)).toEqual(['a.hnsw']);
  });

  it('leaves the old file and no temp file when writing fails', () => {
    const file = join(temp.dir, 'b.hnsw');
    writeFileSync(file, 'old');
    expect(() =>
      writeFileAtomically(file, (t) => {
        writeFileSync(t, 'half');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(temp.dir)).toEqual(['b.hnsw']);
  });
});
