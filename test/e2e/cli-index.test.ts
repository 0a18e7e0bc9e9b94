import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, waitForExit, type ServerProcess } from '../helpers/server-process.js';
import { buildFolderFixture, buildListFixture, type FolderFixture, type ListFixture } from '../fixtures/cli/cli-fixtures.js';
import { cliEnv, runCli, startCli } from '../fixtures/cli/run-cli.js';

interface IndexReport {
  gallery: string;
  pack: string;
  mode: string;
  total: number;
  processed: number;
  interrupted: boolean;
  counts: { enrolled: number; duplicate: number; noSubject: number; unreadable: number; failed: number };
  galleryAfter: { entries: number; labels: number };
  failures: { source: string; label: string; status: string; code: string; reason: string }[];
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** `npm run index` / `npm run export` as processes on real photos, real models and a real data folder. */
describe('index and export CLIs', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'spotter-cli-index-'));
  const dataDir = join(tmp, 'data');
  const env = cliEnv(dataDir);
  let list: ListFixture;
  let folder: FolderFixture;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    list = await buildListFixture(join(tmp, 'list'));
    folder = await buildFolderFixture(join(tmp, 'faces'));
  });

  afterAll(() => {
    server?.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  const indexList = (report: string, ...extra: string[]) =>
    runCli('index-command.js', ['--gallery', 'people', '--pack', 'face', '--list', list.galleryList, '--report', report, ...extra], env);

  it('enrols a PP-ShiTu list; a corrupt, a missing and a face-less file are reported, not fatal', async () => {
    const report = join(tmp, 'list-1.json');
    const run = await indexList(report);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/enrolled\s+3\n/);
    expect(run.stdout).toMatch(/no subject found\s+1\n/);
    expect(run.stdout).toMatch(/unreadable\s+2\n/);
    expect(run.stdout).toMatch(/images\/s/);
    // Not a terminal: plain progress lines with rate and ETA.
    expect(run.stderr).toMatch(/index people: 6\/6 \(100%\) [\d.]+ img\/s ETA/);

    const json = readJson<IndexReport>(report);
    expect(json).toMatchObject({ gallery: 'people', pack: 'face', mode: 'offline', total: 6, processed: 6, interrupted: false });
    expect(json.counts).toEqual({ enrolled: 3, duplicate: 0, noSubject: 1, unreadable: 2, failed: 0 });
    expect(json.galleryAfter).toEqual({ entries: 3, labels: 1 });
    const bySource = Object.fromEntries(json.failures.map((f) => [f.source, f]));
    expect(bySource['broken/truncated.jpg']).toMatchObject({ status: 'unreadable', code: 'IMAGE_DECODE_FAILED' });
    expect(bySource['eileen/missing.jpg']).toMatchObject({ status: 'unreadable', code: 'READ_FAILED' });
    expect(bySource['products/coffee.jpg']).toMatchObject({ status: 'noSubject', code: 'NO_SUBJECT_FOUND', label: 'Coffee cup' });
    for (const f of json.failures) expect(f.reason.length).toBeGreaterThan(0);
  });

  it('a rerun skips what is enrolled (content hash); --replace rebuilds from scratch', async () => {
    const again = await indexList(join(tmp, 'list-2.json'));
    expect(again.code, again.stderr).toBe(0);
    const second = readJson<IndexReport>(join(tmp, 'list-2.json'));
    expect(second.counts).toEqual({ enrolled: 0, duplicate: 3, noSubject: 1, unreadable: 2, failed: 0 });
    expect(second.galleryAfter.entries).toBe(3);

    const replaced = await indexList(join(tmp, 'list-3.json'), '--replace');
    expect(replaced.code, replaced.stderr).toBe(0);
    const third = readJson<IndexReport>(join(tmp, 'list-3.json'));
    expect(third.counts.enrolled).toBe(3);
    expect(third.counts.duplicate).toBe(0);
    expect(third.galleryAfter).toEqual({ entries: 3, labels: 1 });
  });

  it('--replace with another pack re-embeds the gallery with that pack', async () => {
    const report = join(tmp, 'list-4.json');
    const run = await runCli('index-command.js', ['--gallery', 'people', '--pack', 'objects', '--list', list.galleryList, '--report', report, '--replace'], env);
    expect(run.code, run.stderr).toBe(0);
    const json = readJson<IndexReport>(report);
    expect(json.pack).toBe('objects');
    // The objects pack enrols whole images, so the face-less photo is enrolled too.
    expect(json.counts).toEqual({ enrolled: 4, duplicate: 0, noSubject: 0, unreadable: 2, failed: 0 });
    expect(json.galleryAfter.entries).toBe(4);
  });

  it('a folder run killed with SIGKILL midway continues where it stopped', async () => {
    const args = ['--gallery', 'faces', '--dir', folder.dir, '--batch-size', '2', '--read-ahead', '2'];
    const first = startCli('index-command.js', [...args, '--report', join(tmp, 'folder-1.json')], env);
    // Each progress line counts finished images; by 4 at least one batch of 2 is committed.
    await first.waitForStderr(/index faces: [4-9]\/\d+/);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');

    const resumed = await runCli('index-command.js', [...args, '--report', join(tmp, 'folder-2.json')], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const json = readJson<IndexReport>(join(tmp, 'folder-2.json'));
    expect(json.counts.duplicate).toBeGreaterThanOrEqual(2);
    expect(json.counts.enrolled).toBeGreaterThanOrEqual(1);
    expect(json.counts.enrolled + json.counts.duplicate).toBe(folder.enrollable);
    expect(json.galleryAfter).toEqual({ entries: folder.enrollable, labels: 2 });
    // The image outside a label folder counts with the rest: the counts add up to the headline.
    expect(json.total).toBe(folder.enrollable + 2);
    expect(json.processed).toBe(Object.values(json.counts).reduce((a, b) => a + b, 0));
    expect(resumed.stdout).toContain(`Indexed ${folder.enrollable + 2} images into gallery "faces"`);
    // The random-bytes .jpg is unreadable; the image outside a label folder is reported; notes.txt is ignored.
    expect(json.failures.map((f) => [f.source, f.code]).sort()).toEqual([
      ['Chelsea/corrupt.jpg', 'IMAGE_DECODE_FAILED'],
      ['stray.jpg', 'NO_LABEL_FOLDER'],
    ]);
  });

  it('a second Ctrl-C ends the run at once with status 130 (no abort), keeping what was committed', async () => {
    // 40 distinct files (the same photos with a few bytes after the JPEG's end), so that plenty
    // of model work is in flight when the signals come.
    const dir = join(tmp, 'twice');
    const names = readdirSync(join(folder.dir, 'Eileen Collins'));
    for (let i = 0; i < 40; i++) {
      mkdirSync(join(dir, 'Eileen Collins'), { recursive: true });
      const bytes = readFileSync(join(folder.dir, 'Eileen Collins', names[i % names.length]!));
      writeFileSync(join(dir, 'Eileen Collins', `${i}.jpg`), Buffer.concat([bytes, Buffer.from(String(i))]));
    }
    const args = ['--gallery', 'twice', '--dir', dir, '--batch-size', '4', '--read-ahead', '8'];
    const run = startCli('index-command.js', [...args, '--report', join(tmp, 'twice-1.json')], env, { shell: true });
    const pid = Number(/cli pid (\d+)/.exec(await run.waitForStderr(/^cli pid \d+/))![1]);
    // The second signal lands while the first one's in-flight images are still in the models,
    // whose calls run in worker threads.
    await run.waitForStderr(/index twice: [1-9]\d*\/40/);
    process.kill(pid, 'SIGINT');
    await run.waitForStderr(/stopping after the images in flight/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.kill(pid, 'SIGINT');
    const stopped = await run.done;
    expect(stopped.stderr).not.toContain('terminate called');
    expect(stopped.code, stopped.stderr).toBe(130);
    // Ended at once: no summary, no report.
    expect(stopped.stdout).toBe('');

    // What was committed before is intact (a rerun skips it, as after SIGKILL above).
    const exported = await runCli('export-command.js', ['--gallery', 'twice', '--out', join(tmp, 'twice.jsonl')], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(Number(/Exported (\d+) entr/.exec(exported.stdout)![1])).toBeGreaterThan(0);
  });

  it('export writes a portable file that index --import loads elsewhere without re-embedding', async () => {
    const file = join(tmp, 'faces.gallery.jsonl.gz');
    const exported = await runCli('export-command.js', ['--gallery', 'faces', '--out', file], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`Exported ${folder.enrollable} entries (2 labels)`);

    const otherEnv = cliEnv(join(tmp, 'data-copy'));
    const imported = await runCli('index-command.js', ['--import', file, '--report', join(tmp, 'import.json')], otherEnv);
    expect(imported.code, imported.stderr).toBe(0);
    expect(readJson<{ gallery: string; imported: number; galleryAfter: { entries: number } }>(join(tmp, 'import.json'))).toMatchObject({
      gallery: 'faces',
      imported: folder.enrollable,
      galleryAfter: { entries: folder.enrollable },
    });
    const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'spotter-gallery', version: 1, pack: 'face', entryCount: folder.enrollable });
    expect(lines).toHaveLength(folder.enrollable + 1);

    // A file from another embedder is refused.
    const header = JSON.parse(lines[0]!) as { embedder: { embedderId: string } };
    header.embedder.embedderId = 'some-other-embedder';
    writeFileSync(join(tmp, 'other.jsonl'), [JSON.stringify(header), ...lines.slice(1)].join('\n'));
    const refused = await runCli('index-command.js', ['--import', join(tmp, 'other.jsonl'), '--gallery', 'other', '--report', join(tmp, 'x.json')], otherEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('EMBEDDER_MISMATCH');
  });

  it('files over SPOTTER_MAX_IMAGE_BYTES are refused before they are read, in folder and list mode', async () => {
    const dir = join(tmp, 'large');
    mkdirSync(join(dir, 'Eileen Collins'), { recursive: true });
    copyFileSync(join(list.root, 'gallery/eileen/orig.jpg'), join(dir, 'Eileen Collins/orig.jpg'));
    // 2.2 GB, sparse: read whole, it would fail with ERR_FS_FILE_TOO_LARGE after filling memory.
    writeFileSync(join(dir, 'Eileen Collins/huge.jpg'), '');
    truncateSync(join(dir, 'Eileen Collins/huge.jpg'), 2.2e9);
    writeFileSync(join(dir, 'list.txt'), 'Eileen Collins/orig.jpg\tEileen Collins\nEileen Collins/huge.jpg\tEileen Collins\n');
    const runs = [
      ['folder', ['--dir', dir]],
      ['list', ['--list', join(dir, 'list.txt')]],
    ] as const;
    for (const [mode, input] of runs) {
      const report = join(tmp, `large-${mode}.json`);
      const run = await runCli('index-command.js', ['--gallery', `large-${mode}`, ...input, '--report', report], env);
      expect(run.code, run.stderr).toBe(0);
      const json = readJson<IndexReport>(report);
      expect(json.counts).toEqual({ enrolled: 1, duplicate: 0, noSubject: 0, unreadable: 1, failed: 0 });
      expect(json.failures).toMatchObject([{ source: 'Eileen Collins/huge.jpg', status: 'unreadable', code: 'IMAGE_TOO_LARGE' }]);
      expect(json.failures[0]!.reason).toContain('the file is 2200000000 bytes, more than the limit of 20971520 bytes');
    }
  });

  it('summaries use singular and plural, and a system error shows its code once', async () => {
    const one = await runCli('export-command.js', ['--gallery', 'large-folder', '--out', join(tmp, 'one.jsonl')], env);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('Exported 1 entry (1 label) of gallery "large-folder"');
    writeFileSync(join(tmp, 'a-file'), '');
    const bad = await runCli('export-command.js', ['--gallery', 'large-folder', '--out', join(tmp, 'a-file', 'x.jsonl')], env);
    expect(bad.code).toBe(1);
    // mkdir -p over a file: Node's message already starts with the code.
    expect(bad.stderr).toMatch(/^error: EEXIST: file already exists, mkdir /);
  });

  it('index --import checks the whole file first: a bad line or a truncated .gz leaves the gallery as it was', async () => {
    const otherEnv = cliEnv(join(tmp, 'data-copy'));
    const lines = gunzipSync(readFileSync(join(tmp, 'faces.gallery.jsonl.gz'))).toString('utf8').trim().split('\n');
    const entries = lines.slice(1);
    const exportedCount = async (gallery: string) => {
      const run = await runCli('export-command.js', ['--gallery', gallery, '--out', join(tmp, `count-${gallery}.jsonl`)], otherEnv);
      return run.code === 0 ? Number(/Exported (\d+) entr/.exec(run.stdout)![1]) : run.stderr;
    };
    const importFile = (file: string, ...extra: string[]) => runCli('index-command.js', ['--import', file, '--report', join(tmp, 'bad-import.json'), ...extra], otherEnv);
    expect(await exportedCount('faces')).toBe(folder.enrollable);

    // Line 6 is not JSON: with --replace, nothing is deleted.
    const broken = [...lines];
    broken[5] = '{"label": broken';
    writeFileSync(join(tmp, 'broken.jsonl'), broken.join('\n'));
    const badJson = await importFile(join(tmp, 'broken.jsonl'), '--replace');
    expect(badJson.code).toBe(1);
    expect(badJson.stderr).toContain(`${join(tmp, 'broken.jsonl')} line 6: not valid JSON`);
    expect(await exportedCount('faces')).toBe(folder.enrollable);

    // A truncated gzip file: the error names the file, and nothing is deleted.
    const gz = readFileSync(join(tmp, 'faces.gallery.jsonl.gz'));
    writeFileSync(join(tmp, 'cut.jsonl.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    const cut = await importFile(join(tmp, 'cut.jsonl.gz'), '--replace');
    expect(cut.code).toBe(1);
    expect(cut.stderr).toContain(`${join(tmp, 'cut.jsonl.gz')}: the gzip data is corrupt or truncated`);
    expect(await exportedCount('faces')).toBe(folder.enrollable);

    // The store's rules are checked with the file's line numbers, past the first 1000 rows too,
    // and a new gallery is not created from a file that fails.
    const many = Array.from({ length: 1300 }, (_, i) => entries[i % entries.length]!);
    const nan = JSON.parse(many[2]!) as { vector: string };
    nan.vector = Buffer.from(new Float32Array(128).fill(Number.NaN).buffer).toString('base64');
    const badLabel = JSON.parse(many[1203]!) as { label: string };
    badLabel.label = 'tab\there';
    const withNan = [lines[0], ...many.slice(0, 2), JSON.stringify(nan), ...many.slice(3)];
    writeFileSync(join(tmp, 'nan.jsonl'), withNan.join('\n'));
    const nanRun = await importFile(join(tmp, 'nan.jsonl'), '--gallery', 'fresh');
    expect(nanRun.code).toBe(1);
    expect(nanRun.stderr).toContain(`${join(tmp, 'nan.jsonl')} line 4: BAD_REQUEST: The entry vector must be finite`);
    const withLabel = [lines[0], ...many.slice(0, 1203), JSON.stringify(badLabel), ...many.slice(1204)];
    writeFileSync(join(tmp, 'label.jsonl'), withLabel.join('\n'));
    const labelRun = await importFile(join(tmp, 'label.jsonl'), '--gallery', 'fresh');
    expect(labelRun.code).toBe(1);
    expect(labelRun.stderr).toContain(`${join(tmp, 'label.jsonl')} line 1205: INVALID_LABEL`);
    expect(await exportedCount('fresh')).toContain('GALLERY_NOT_FOUND');
  });

  it('offline indexing refuses a data folder the service holds; --url goes through its API', async () => {
    const serviceData = join(tmp, 'data-service');
    server = await startServer({ SPOTTER_DATA_DIR: serviceData, SPOTTER_PACKS: 'face', SPOTTER_DEFAULT_PACK: 'face' });
    const locked = await runCli('index-command.js', ['--gallery', 'web', '--list', list.galleryList, '--report', join(tmp, 'locked.json')], cliEnv(serviceData));
    expect(locked.code).toBe(1);
    expect(locked.stderr).toMatch(/in use by another process.*--url/s);

    const viaApi = ['--gallery', 'web', '--pack', 'face', '--list', list.galleryList, '--url', server.url];
    const first = await runCli('index-command.js', [...viaApi, '--report', join(tmp, 'url-1.json')], env);
    expect(first.code, first.stderr).toBe(0);
    const json = readJson<IndexReport>(join(tmp, 'url-1.json'));
    expect(json.mode).toBe('url');
    expect(json.counts).toEqual({ enrolled: 3, duplicate: 0, noSubject: 1, unreadable: 2, failed: 0 });
    const again = await runCli('index-command.js', [...viaApi, '--report', join(tmp, 'url-2.json')], env);
    expect(readJson<IndexReport>(join(tmp, 'url-2.json')).counts).toMatchObject({ enrolled: 0, duplicate: 3 });
    expect(again.code).toBe(0);
    const gallery = (await (await fetch(`${server.url}/v1/galleries/web`)).json()) as { entryCount: number; pack: string };
    expect(gallery).toMatchObject({ entryCount: 3, pack: 'face' });

    // The byte limit is checked before a file is read and uploaded.
    const large = await runCli('index-command.js', ['--gallery', 'web-large', '--pack', 'face', '--list', join(tmp, 'large/list.txt'), '--url', server.url, '--report', join(tmp, 'url-large.json')], env);
    expect(large.code, large.stderr).toBe(0);
    expect(readJson<IndexReport>(join(tmp, 'url-large.json')).failures).toMatchObject([{ source: 'Eileen Collins/huge.jpg', status: 'unreadable', code: 'IMAGE_TOO_LARGE' }]);

    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    server = undefined;
  });

  it('usage errors exit 2 with a message', async () => {
    const run = await runCli('index-command.js', ['--gallery', 'x', '--list', list.galleryList, '--dir', folder.dir], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('exactly one of --list FILE, --dir DIR or --import FILE');
  });

  it('an invalid gallery name exits 2 while the arguments are read, before any report is written', async () => {
    // Reports default to reports/ under the folder npm was started in.
    const cwd = join(tmp, 'bad-name-cwd');
    mkdirSync(cwd);
    const badEnv = { ...env, INIT_CWD: cwd };
    const runs = [
      await runCli('index-command.js', ['--gallery', 'x/../../escaped', '--list', list.galleryList], badEnv),
      await runCli('evaluate-command.js', ['--gallery', 'x/../../escaped', '--list', list.queryList], badEnv),
      await runCli('export-command.js', ['--gallery', '../escaped'], badEnv),
    ];
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/^error: --gallery "(x\/)?\.\.\/(\.\.\/)?escaped": A gallery name is 1-64 characters/);
    }
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(tmp).filter((f) => f.includes('escaped'))).toEqual([]);
  });
});
