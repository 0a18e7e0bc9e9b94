// Builds test/fixtures/objects-eval/: a small product-recognition evaluation set made only from
// the real photos in test/fixtures/photos (sources and licences in its SOURCES.md). Regions of
// the photos are the "products": one clean gallery view each; queries are augmented views, views
// pasted into clutter, two real second photos (box_in_scene.png, Blender_Suzanne2.jpg), and
// views of regions that are never enrolled (unknown distractors). Deterministic: a seeded random
// generator and fixed encoder settings give the same files on every run of the same sharp.
// Run with `node scripts/build-objects-eval-set.mjs` (a few seconds).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const photos = path.join(root, 'test/fixtures/photos');
const out = path.join(root, 'test/fixtures/objects-eval');

/** Enrolled products: a label and a region [x1, y1, x2, y2] of a photo (null = whole photo). */
const ITEMS = [
  { label: 'bastoncini box', file: 'box.png', box: null },
  { label: 'suzanne', file: 'Blender_Suzanne1.jpg', box: null },
  { label: 'espresso cup', file: 'coffee.png', box: [60, 10, 490, 395] },
  { label: 'cat', file: 'chelsea.png', box: null },
  { label: 'astronaut', file: 'astronaut.png', box: null },
  { label: 'orange slice', file: 'fruits.jpg', box: [70, 40, 350, 478] },
  { label: 'lime', file: 'fruits.jpg', box: [318, 118, 512, 300] },
  { label: 'lemon', file: 'fruits.jpg', box: [316, 245, 512, 480] },
  { label: 'kiwi', file: 'fruits.jpg', box: [0, 275, 128, 480] },
];
/** Real second photos of enrolled products. */
const REAL_QUERIES = [
  { label: 'bastoncini box', file: 'box_in_scene.png', kind: 'real-clutter' },
  { label: 'suzanne', file: 'Blender_Suzanne2.jpg', kind: 'real-view' },
];
/** Regions never enrolled: unknown queries, and the material of the clutter backgrounds. */
const DISTRACTORS = [
  { name: 'rocket', file: 'rocket.jpg', box: [200, 100, 480, 427] },
  { name: 'launch towers', file: 'rocket.jpg', box: [0, 0, 210, 427] },
  { name: 'basmati box', file: 'box_in_scene.png', box: [238, 150, 392, 350] },
  { name: 'book', file: 'box_in_scene.png', box: [140, 0, 405, 185] },
  { name: 'crisps bag', file: 'box_in_scene.png', box: [40, 262, 320, 384] },
  { name: 'red cabbage', file: 'fruits.jpg', box: [270, 0, 512, 112] },
  { name: 'banana', file: 'fruits.jpg', box: [0, 95, 85, 290] },
];
const AUGMENTED_PER_ITEM = 3;
const CLUTTER_PER_ITEM = 2;
const AUGMENTED_PER_DISTRACTOR = 2;
const EMPTY_CLUTTER = 3;
const BACKGROUND = { width: 480, height: 360 };

/** mulberry32: a small seeded generator, so the set is the same on every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(20240601);
const between = (lo, hi) => lo + (hi - lo) * rand();
const slug = (s) => s.replace(/[^a-z0-9]+/g, '-');

/** The region as raw RGB (greyscale photos become three equal channels). */
async function region(file, box) {
  const image = sharp(path.join(photos, file)).removeAlpha().toColourspace('srgb');
  const { width, height } = await sharp(path.join(photos, file)).metadata();
  const [x1, y1, x2, y2] = box ?? [0, 0, width, height];
  const { data, info } = await image.extract({ left: x1, top: y1, width: x2 - x1, height: y2 - y1 }).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const raw = (img) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

/** A photographed-again view: crop, small rotation, exposure and colour change, blur, rescale. */
async function augment(img, params = {}) {
  const keepW = Math.round(img.width * between(0.8, 1));
  const keepH = Math.round(img.height * between(0.8, 1));
  const left = Math.floor(between(0, img.width - keepW));
  const top = Math.floor(between(0, img.height - keepH));
  const angle = between(-12, 12);
  const fill = Math.round(between(40, 200));
  const brightness = between(0.75, 1.25);
  const saturation = between(0.8, 1.2);
  const contrast = between(0.8, 1.2);
  const blur = rand() < 0.5 ? between(0.3, 1.2) : 0;
  const side = Math.round(params.side ?? between(220, 420));
  let pipeline = raw(img)
    .extract({ left, top, width: keepW, height: keepH })
    .rotate(angle, { background: { r: fill, g: fill, b: fill } })
    .modulate({ brightness, saturation })
    .linear(contrast, 128 * (1 - contrast));
  if (blur > 0) pipeline = pipeline.blur(blur);
  const rotated = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const scale = side / Math.max(rotated.info.width, rotated.info.height);
  const { data, info } = await sharp(rotated.data, { raw: rotated.info })
    .resize(Math.max(1, Math.round(rotated.info.width * scale)), Math.max(1, Math.round(rotated.info.height * scale)))
    .raw()
    .toBuffer({ resolveWithObject: true });
  const round = (v) => Math.round(v * 1000) / 1000;
  return {
    image: { data, width: info.width, height: info.height },
    params: { crop: [left, top, keepW, keepH], angle: round(angle), brightness: round(brightness), saturation: round(saturation), contrast: round(contrast), blur: round(blur), side },
  };
}

/** A 2x2 mosaic of distractor regions: clutter that holds no enrolled product. */
async function clutterBackground(distractorImages) {
  const tileW = BACKGROUND.width / 2;
  const tileH = BACKGROUND.height / 2;
  const tiles = [];
  for (let k = 0; k < 4; k++) {
    const d = distractorImages[Math.floor(rand() * distractorImages.length)];
    const tile = await raw(d.image).resize(tileW, tileH, { fit: 'cover' }).raw().toBuffer();
    tiles.push({ input: tile, raw: { width: tileW, height: tileH, channels: 3 }, left: (k % 2) * tileW, top: Math.floor(k / 2) * tileH, name: d.name });
  }
  const data = await sharp({ create: { ...BACKGROUND, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite(tiles.map(({ input, raw: r, left, top }) => ({ input, raw: r, left, top })))
    .removeAlpha()
    .raw()
    .toBuffer();
  return { image: { data, ...BACKGROUND }, tiles: tiles.map((t) => t.name) };
}

/** The product pasted at 35-60% of the background width, anywhere it fits. */
async function pasteIntoClutter(item, distractorImages) {
  const { image: background, tiles } = await clutterBackground(distractorImages);
  const { image: view, params } = await augment(item, { side: between(0.35, 0.6) * BACKGROUND.width });
  const width = Math.min(view.width, BACKGROUND.width);
  const height = Math.min(view.height, BACKGROUND.height);
  const left = Math.floor(between(0, BACKGROUND.width - width));
  const top = Math.floor(between(0, BACKGROUND.height - height));
  const cut = await raw(view).extract({ left: 0, top: 0, width, height }).raw().toBuffer();
  const data = await raw(background).composite([{ input: cut, raw: { width, height, channels: 3 }, left, top }]).removeAlpha().raw().toBuffer();
  return { image: { data, ...BACKGROUND }, params: { ...params, pastedBox: [left, top, left + width, top + height], background: tiles } };
}

const jpeg = (img, quality) => raw(img).jpeg({ quality, mozjpeg: false, chromaSubsampling: '4:2:0' }).toBuffer();

async function main() {
  // Everything but README.md (the set's description and licence) is regenerated.
  for (const generated of ['gallery', 'queries', 'gallery.txt', 'queries.txt', 'queries.json']) {
    await rm(path.join(out, generated), { recursive: true, force: true });
  }
  await mkdir(path.join(out, 'gallery'), { recursive: true });
  await mkdir(path.join(out, 'queries'), { recursive: true });
  const galleryLines = [];
  const queryLines = [];
  const described = [];
  const writeQuery = async (name, img, label, info) => {
    const quality = Math.round(between(70, 90));
    const file = `queries/${name}.jpg`;
    await writeFile(path.join(out, file), await jpeg(img, quality));
    queryLines.push(`${file}\t${label ?? ''}`);
    described.push({ file, label, quality, ...info });
  };

  const distractorImages = [];
  for (const d of DISTRACTORS) distractorImages.push({ name: d.name, image: await region(d.file, d.box) });

  for (const item of ITEMS) {
    const image = await region(item.file, item.box);
    const file = `gallery/${slug(item.label)}.jpg`;
    await writeFile(path.join(out, file), await jpeg(image, 92));
    galleryLines.push(`${file}\t${item.label}`);
    for (let k = 1; k <= AUGMENTED_PER_ITEM; k++) {
      const { image: view, params } = await augment(image);
      await writeQuery(`${slug(item.label)}-aug-${k}`, view, item.label, { kind: 'augmented', source: item.file, region: item.box, ...params });
    }
    for (let k = 1; k <= CLUTTER_PER_ITEM; k++) {
      const { image: scene, params } = await pasteIntoClutter(image, distractorImages);
      await writeQuery(`${slug(item.label)}-clutter-${k}`, scene, item.label, { kind: 'clutter', source: item.file, region: item.box, ...params });
    }
  }
  for (const real of REAL_QUERIES) {
    await writeQuery(`${slug(real.label)}-${real.kind}`, await region(real.file, null), real.label, { kind: real.kind, source: real.file });
  }
  for (const d of distractorImages) {
    const source = DISTRACTORS.find((x) => x.name === d.name);
    for (let k = 1; k <= AUGMENTED_PER_DISTRACTOR; k++) {
      const { image: view, params } = await augment(d.image);
      await writeQuery(`unknown-${slug(d.name)}-${k}`, view, null, { kind: 'unknown', source: source.file, region: source.box, ...params });
    }
  }
  for (let k = 1; k <= EMPTY_CLUTTER; k++) {
    const { image, tiles } = await clutterBackground(distractorImages);
    await writeQuery(`unknown-clutter-${k}`, image, null, { kind: 'unknown-clutter', background: tiles });
  }

  await writeFile(path.join(out, 'gallery.txt'), `${galleryLines.join('\n')}\n`);
  await writeFile(path.join(out, 'queries.txt'), `${queryLines.join('\n')}\n`);
  await writeFile(path.join(out, 'queries.json'), `${JSON.stringify({ generator: 'scripts/build-objects-eval-set.mjs', sharp: sharp.versions, queries: described }, null, 1)}\n`);
  const known = described.filter((d) => d.label !== null).length;
  console.log(`wrote ${galleryLines.length} gallery images and ${described.length} queries (${known} of enrolled items, ${described.length - known} unknown) to ${path.relative(root, out)}`);
}

await main();
