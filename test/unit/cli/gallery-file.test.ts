import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeVector, encodeVector, GALLERY_FILE_FORMAT, GALLERY_FILE_VERSION, openGalleryFile, writeGalleryFile, type GalleryFileHeader,
} from '../../../src/cli/indexing/gallery-file.js';
import type { PortableEntry } from '../../../src/gallery/gallery-types.js';

const header: GalleryFileHeader = {
  format: GALLERY_FILE_FORMAT,
  version: GALLERY_FILE_VERSION,
  gallery: 'products',
  pack: 'face',
  embedder: { embedderId: 'test-embedder', dimension: 3, metric: 'cosine' },
  settings: { threshold: 0.8 },
  entryCount: 2,
  exportedAt: '2025-01-01T00:00:00.000Z',
};

const entries: PortableEntry[] = [
  { label: 'Red shoe', metadata: { source: 'a.jpg' }, box: [1, 2, 30, 40], imageSha256: 'a'.repeat(64), createdAt: '2025-01-01T00:00:00.000Z', vector: new Float32Array([0.6, -0.8, 0]) },
  {
    label: 'Blue shoe', metadata: null, box: [0, 0, 10, 10], imageSha256: 'b'.repeat(64), createdAt: '2025-01-02T00:00:00.000Z', vector: new Float32Array([1e-7, 0.5, -0.25]),
    localFeatures: { verifier: 'orb1000-ratio0.75-ransac5', data: Uint8Array.from([79, 82, 66, 49, 0, 255]) },
  },
];

async function readAll(path: string) {
  const opened = await openGalleryFile(path);
  const read: PortableEntry[] = [];
  for await (const e of opened.entries) read.push(e);
  return { header: opened.header, entries: read };
}

describe('portable gallery file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spotter-gallery-file-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('encodes vectors as base64 of little-endian float32, bit for bit', () => {
    const v = new Float32Array([1, -2.5, Math.PI]);
    expect(encodeVector(v)).toBe(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0, 0xdb, 0x0f, 0x49, 0x40]).toString('base64'));
    expect(decodeVector(encodeVector(v), 3)).toEqual(v);
    expect(() => decodeVector(encodeVector(v), 4)).toThrow("the vector is 12 bytes (3 float32 values); the header's dimension 4 needs 16");
    // 507 bytes are not a whole number of float32 values: say bytes, not "126.75 values".
    expect(() => decodeVector(Buffer.alloc(507).toString('base64'), 128)).toThrow("the vector is 507 bytes (not a whole number of float32 values); the header's dimension 128 needs 512");
  });

  it('round-trips as JSON Lines and as gzip', async () => {
    const plain = join(dir, 'g.jsonl');
    const gz = join(dir, 'g.jsonl.gz');
    expect(await writeGalleryFile(plain, header, entries)).toBe(2);
    expect(await writeGalleryFile(gz, header, entries)).toBe(2);
    const text = await readFile(plain, 'utf8');
    expect(text.split('\n')).toHaveLength(4); // header, two entries, final newline
    expect(gunzipSync(await readFile(gz)).toString('utf8')).toBe(text);
    for (const path of [plain, gz]) {
      const read = await readAll(path);
      expect(read.header).toEqual(header);
      expect(read.entries).toEqual(entries);
    }
  });

  it('refuses a file that is not a gallery file, and names a bad line', async () => {
    await writeFile(join(dir, 'bad.jsonl'), '{"format":"something-else"}\n');
    await expect(openGalleryFile(join(dir, 'bad.jsonl'))).rejects.toThrow(/not a spotter-gallery file version 1/);
    const lines = (await readFile(join(dir, 'g.jsonl'), 'utf8')).split('\n');
    await writeFile(join(dir, 'broken.jsonl'), [lines[0], lines[1], '{"label":"x"}'].join('\n'));
    await expect(readAll(join(dir, 'broken.jsonl'))).rejects.toThrow(`${join(dir, 'broken.jsonl')} line 3: not a valid entry`);
    await writeFile(join(dir, 'json.jsonl'), [lines[0], lines[1], '{"label": broken'].join('\n'));
    await expect(readAll(join(dir, 'json.jsonl'))).rejects.toThrow(`${join(dir, 'json.jsonl')} line 3: not valid JSON`);
  });

  it('runs the caller\'s check on every entry and reports what it throws with the line number', async () => {
    const check = (e: PortableEntry) => {
      if (e.label === 'Blue shoe') throw Object.assign(new Error('no blue'), { code: 'INVALID_LABEL' });
    };
    const opened = await openGalleryFile(join(dir, 'g.jsonl'), { check });
    const read: string[] = [];
    await expect((async () => {
      for await (const e of opened.entries) read.push(e.label);
    })()).rejects.toThrow(`${join(dir, 'g.jsonl')} line 3: INVALID_LABEL: no blue`);
    expect(read).toEqual(['Red shoe']);
  });

  it('names the file when its gzip data is cut short', async () => {
    const gz = await readFile(join(dir, 'g.jsonl.gz'));
    await writeFile(join(dir, 'cut.jsonl.gz'), gz.subarray(0, gz.length - 12));
    await expect(readAll(join(dir, 'cut.jsonl.gz'))).rejects.toThrow(`${join(dir, 'cut.jsonl.gz')}: the gzip data is corrupt or truncated`);
  });

  it('fails rather than writes a header whose count does not match', async () => {
    await expect(writeGalleryFile(join(dir, 'short.jsonl'), { ...header, entryCount: 3 }, entries)).rejects.toThrow(/changed during the export/);
    await expect(readFile(join(dir, 'short.jsonl'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
