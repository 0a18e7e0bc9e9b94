/**
 * Child process for gallery-crash.test.ts: enrols (and now and then deletes) entries in a loop
 * and prints one line per acknowledged write, until it is killed.
 * Usage: node --import tsx gallery-crash-writer.ts <dataDir> <seed>
 */
import { GalleryStore } from '../../src/gallery/gallery-store.js';
import { binding, box, seededRandom, sha, unitVector } from '../unit/gallery/gallery-test-helpers.js';

const [dataDir, seedText] = process.argv.slice(2);
if (!dataDir || !seedText) throw new Error('usage: gallery-crash-writer <dataDir> <seed>');
const seed = Number(seedText);
const random = seededRandom(seed);

// Frequent snapshots so that the kill can land before, during or after one.
const store = new GalleryStore({ dataDir, snapshotEveryChanges: 20, snapshotIntervalMs: 30, initialCapacity: 16 });
await store.init();
if (store.listGalleries().length === 0) {
  store.createGallery({ name: 'crash', pack: 'test', embedder: binding(32) });
}
process.stdout.write('READY\n');

const added: string[] = [];
for (let i = 0; ; i++) {
  const entry = store.addEntry('crash', {
    label: `label ${i % 13}`,
    box: box(i),
    imageSha256: sha(seed * 1_000_000 + i),
    vector: unitVector(32, random),
  });
  added.push(entry.id);
  // Writes to a pipe are synchronous on Linux: the line is out before the next write starts.
  process.stdout.write(`A ${entry.id}\n`);
  if (i % 10 === 9) {
    const victim = added.splice(Math.floor(random() * added.length), 1)[0] as string;
    // Announced first: a delete cut short by the kill may or may not have committed.
    process.stdout.write(`d ${victim}\n`);
    store.deleteEntry('crash', victim);
    process.stdout.write(`D ${victim}\n`);
  }
  await new Promise((resolve) => setImmediate(resolve));
}
