import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../core/app-error.js';

/**
 * Model and pack manifests: everything the code needs to feed a model and read its output,
 * stated next to the model file and validated before a session is created.
 */

const rgbTriple = z.tuple([z.number(), z.number(), z.number()]);
/** A file name inside the manifest's folder: no directories, no way out of the folder. */
const localFile = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a plain file name in the same folder');

/**
 * A model input that is not the image but derived from it, fed as some exports require:
 * 'scale-factor' = [input height / source height, input width / source width] and 'im-shape' =
 * [input height, input width] per image (PaddleDetection), 'ones-mask' = 1 for every input
 * pixel, [N, height, width] (DETR's pixel_mask).
 */
export const extraInputSchema = z.strictObject({
  name: z.string().min(1),
  value: z.enum(['scale-factor', 'im-shape', 'ones-mask']),
  type: z.enum(['float32', 'int32', 'int64']).default('float32'),
  /** Fed only when the model has it (exports differ, e.g. PicoDet with or without im_shape). */
  optional: z.boolean().default(false),
});

export const modelInputSchema = z.strictObject({
  name: z.string().min(1),
  // 4096 x 4096 is already 201 MB of float32 per image; real detectors and encoders take 224-1536.
  width: z.number().int().positive().max(4096),
  height: z.number().int().positive().max(4096),
  layout: z.enum(['NCHW', 'NHWC']),
  colour: z.enum(['RGB', 'BGR']),
  /**
   * How the image becomes width x height: padding to the aspect first (bottom-right, centred, or
   * 'letterbox' = centred with `padValue`), a plain stretch, or 'centre-crop' (shorter side
   * scaled to `shortestEdge`, then the centre cut out, as Hugging Face processors do).
   */
  resize: z.enum(['pad-bottom-right', 'pad-centre', 'letterbox', 'stretch', 'centre-crop']),
  /** Padding pixel value 0..255 (before mean/std); 0 by default, 114 for Ultralytics letterbox. */
  padValue: z.number().min(0).max(255).optional(),
  /** 'centre-crop' only: the shorter side is scaled to this first (e.g. 256 for a 224 crop). */
  shortestEdge: z.number().int().positive().max(8192).optional(),
  /** Further inputs computed from the image (see extraInputSchema). */
  extraInputs: z.array(extraInputSchema).optional(),
  /** 'tf-bilinear' reproduces tf.image.resizeBilinear (no corner alignment, no half-pixel offset). */
  interpolation: z.enum(['tf-bilinear', 'linear', 'cubic', 'lanczos3', 'nearest']).default('tf-bilinear'),
  /** x = (pixel 0..255 - mean) / std, per channel in the model's colour order. */
  mean: rgbTriple,
  std: rgbTriple.refine((s) => s.every((v) => v !== 0), 'std values must be non-zero'),
});

const sourceSchema = z.strictObject({
  package: z.string().min(1),
  version: z.string().min(1),
  files: z.array(z.string().min(1)).min(1),
  licence: z.string().min(1),
  url: z.url(),
  notes: z.string().optional(),
});

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');

/** Where `models pull` fetches the model file; the manifest's sha256 pins the bytes. */
export const downloadSchema = z.strictObject({
  url: z.url(),
  /** Size in bytes, when known: checked during the download. */
  size: z.number().int().positive().optional(),
});

const commonFields = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  file: localFile,
  sha256: sha256Hex,
  input: modelInputSchema,
  source: sourceSchema,
  download: downloadSchema.optional(),
};

export const detectorManifestSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('detector'),
  decoding: z.strictObject({
    /** Name of the decoder implementation, e.g. 'ssd-face' or 'tiny-yolo-face'. */
    decoder: z.string().min(1),
    /** Model outputs the decoder reads, in the order it expects them. */
    outputs: z.array(z.string().min(1)).min(1),
    nmsIou: z.number().gt(0).lte(1),
    minScore: z.number().gte(0).lt(1),
    maxDetections: z.number().int().positive(),
    /** Anchor (width, height) pairs in grid cells, for YOLO-style decoders. */
    anchors: z.array(z.tuple([z.number().positive(), z.number().positive()])).optional(),
    /** Class names by class id; when given, decoders check the model's class count against it. */
    classes: z.array(z.string().min(1)).min(1).optional(),
    /**
     * Multi-class detectors: treat all classes as one "foreground" class (a box's score is its
     * best class score, the class name is only a hint, suppression ignores classes). Default false.
     */
    classAgnostic: z.boolean().optional(),
  }),
});

export const embedderManifestSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('embedder'),
  embedding: z.strictObject({
    /** Embedder implementation (pack-loader's table); the generic ONNX embedder unless named. */
    implementation: z.string().min(1).default('onnx'),
    output: z.string().min(1),
    dimension: z.number().int().positive(),
    metric: z.literal('cosine'),
    normalise: z.literal('l2'),
    /**
     * How the output becomes one vector per image: 'vector' [N, D] as is; 'cls' token 0 of
     * [N, T, D]; 'mean-tokens' the mean of tokens `skipTokens`.. of [N, T, D]; 'spatial-mean' the
     * mean over H, W of an [N, D, H, W] feature map.
     */
    pooling: z.enum(['vector', 'cls', 'mean-tokens', 'spatial-mean']).default('vector'),
    /** 'mean-tokens' only: leading tokens to leave out (1 = the CLS token, more with registers). */
    skipTokens: z.number().int().min(0).default(0),
  }),
});

export const modelManifestSchema = z.discriminatedUnion('kind', [detectorManifestSchema, embedderManifestSchema]);

/**
 * A model manifest as shipped in the catalog (models/catalog/<pack>): the same fields, but the
 * sha256 may be null when the published file's hash has not been pinned yet; installing the
 * file (pull with --trust-unpinned, or import) records the hash of the installed bytes.
 */
const unpinned = { sha256: sha256Hex.nullable() };
export const catalogModelManifestSchema = z.discriminatedUnion('kind', [
  detectorManifestSchema.extend(unpinned),
  embedderManifestSchema.extend(unpinned),
]);
export type CatalogModelManifest = z.infer<typeof catalogModelManifestSchema>;

export type ExtraInput = z.infer<typeof extraInputSchema>;
export type ModelInput = z.infer<typeof modelInputSchema>;
export type DetectorManifest = z.infer<typeof detectorManifestSchema>;
export type EmbedderManifest = z.infer<typeof embedderManifestSchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** A pack whose `detector` is this recognises whole images (no subject detection). */
export const NO_DETECTOR = 'none';

export const packManifestSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Model manifest file names in the pack folder; detector 'none' = the whole image is the subject. */
  detector: localFile,
  embedder: localFile,
  alternativeDetectors: z.array(localFile).optional(),
  defaults: z.strictObject({
    /** Cosine similarity at or above which a neighbour counts as the same identity. */
    threshold: z.number().gte(-1).lte(1),
    topK: z.number().int().positive(),
    maxObjects: z.number().int().positive(),
    minScore: z.number().gte(0).lt(1),
    /** Embed the whole image when the detector finds nothing. */
    wholeImageFallback: z.boolean(),
    /** 'proposals': search the gated detections plus the whole image, keep the best matches. */
    subjects: z.enum(['detections', 'proposals']).optional(),
    /** 'proposals': most detected boxes searched besides the whole image. */
    proposals: z.number().int().min(0).max(100).optional(),
    /** 'proposals': smallest box searched, as a fraction of the image area. */
    proposalMinArea: z.number().gte(0).lte(1).optional(),
    /** Re-rank the top matches by local-feature matching with a geometric check. */
    verify: z.boolean().optional(),
  }),
});

export type PackManifest = z.infer<typeof packManifestSchema>;

/** A validated model manifest plus where its files are. */
export interface LoadedModelManifest<M extends ModelManifest = ModelManifest> {
  manifest: M;
  manifestPath: string;
  modelPath: string;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AppError('MODEL_INVALID', `${what} ${path} cannot be read (missing?)`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new AppError('MODEL_INVALID', `${what} ${path} is not valid JSON`, { cause });
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parses a manifest object; throws MODEL_INVALID naming every offending field. */
export function parseModelManifest(value: unknown, source = 'model manifest'): ModelManifest {
  const parsed = modelManifestSchema.safeParse(value);
  if (!parsed.success) throw new AppError('MODEL_INVALID', `${source} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function parseCatalogModelManifest(value: unknown, source = 'catalog model manifest'): CatalogModelManifest {
  const parsed = catalogModelManifestSchema.safeParse(value);
  if (!parsed.success) throw new AppError('MODEL_INVALID', `${source} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

export function parsePackManifest(value: unknown, source = 'pack manifest'): PackManifest {
  const parsed = packManifestSchema.safeParse(value);
  if (!parsed.success) throw new AppError('MODEL_INVALID', `${source} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/**
 * Reads and validates a model manifest, then checks that the model file exists and has the
 * stated sha256 (skip the hash with `verifySha256: false`, e.g. while rebuilding models).
 */
export async function loadModelManifest(
  manifestPath: string,
  options: { verifySha256?: boolean } = {},
): Promise<LoadedModelManifest> {
  const manifest = parseModelManifest(await readJson(manifestPath, 'model manifest'), `model manifest ${manifestPath}`);
  const modelPath = join(dirname(manifestPath), manifest.file);
  const info = await stat(modelPath).catch(() => undefined);
  if (!info?.isFile()) {
    throw new AppError(
      'MODEL_INVALID',
      `model file ${modelPath} (manifest ${manifest.id}) is missing; for the face pack run \`npm run models:prepare\`, for other packs install them again with \`npm run models -- pull\` or \`import\` (docs/models.md)`,
    );
  }
  if (options.verifySha256 ?? true) {
    const actual = await sha256File(modelPath);
    if (actual !== manifest.sha256) {
      throw new AppError(
        'MODEL_INVALID',
        `model file ${modelPath} (manifest ${manifest.id}) has sha256 ${actual}, expected ${manifest.sha256}`,
      );
    }
  }
  return { manifest, manifestPath, modelPath };
}

/**
 * What is wrong with the model's declared image input for the manifest's layout and size, or
 * undefined when it fits: [N, 3, height, width] (NCHW) or [N, height, width, 3] (NHWC), where a
 * dimension the model leaves symbolic fits any size, and a fixed batch can only be 1.
 */
export function imageInputProblem(shape: readonly (number | string)[] | undefined, input: Pick<ModelInput, 'layout' | 'width' | 'height'>): string | undefined {
  if (!shape || shape.length === 0) return undefined; // rank not declared: nothing to check
  const wanted = input.layout === 'NCHW' ? [3, input.height, input.width] : [input.height, input.width, 3];
  const names = input.layout === 'NCHW' ? ['channels', 'height', 'width'] : ['height', 'width', 'channels'];
  const declared = `is [${shape.join(', ')}] in the model`;
  const expected = `the manifest's ${input.layout} ${input.width}x${input.height} input is [N, ${wanted.join(', ')}]`;
  if (shape.length !== 4) return `${declared}, but ${expected}`;
  const fixed = (d: number | string | undefined): d is number => typeof d === 'number' && d > 0;
  const wrong = names.filter((_, i) => fixed(shape[i + 1]) && shape[i + 1] !== wanted[i]);
  const listed = wrong.length > 1 ? `${wrong.slice(0, -1).join(', ')} and ${wrong.at(-1)} differ` : `${wrong[0]} differs`;
  if (wrong.length) return `${declared}, but ${expected} (${listed}; check layout, width and height)`;
  if (fixed(shape[0]) && shape[0] !== 1) return `${declared}: a fixed batch of ${shape[0]} is not supported (export it with a symbolic batch, or batch 1)`;
  return undefined;
}

/**
 * Checks that a created session has the inputs and outputs the manifest names, and that every
 * model input is fed (the image or a declared extra input) with the declared element type.
 */
export function checkSessionAgainstManifest(
  session: {
    inputNames: readonly string[];
    outputNames: readonly string[];
    inputType?(name: string): string | undefined;
    inputShape?(name: string): (number | string)[] | undefined;
  },
  manifest: ModelManifest,
): void {
  const has = (list: readonly string[], name: string) => list.includes(name);
  if (!has(session.inputNames, manifest.input.name)) {
    throw new AppError(
      'MODEL_INVALID',
      `manifest ${manifest.id}: input name "${manifest.input.name}" is not in the model (model inputs: ${session.inputNames.join(', ')})`,
    );
  }
  const imageProblem = imageInputProblem(session.inputShape?.(manifest.input.name), manifest.input);
  if (imageProblem) throw new AppError('MODEL_INVALID', `manifest ${manifest.id}: input "${manifest.input.name}" ${imageProblem}`);
  const extras = manifest.input.extraInputs ?? [];
  for (const extra of extras) {
    if (!has(session.inputNames, extra.name)) {
      if (extra.optional) continue;
      throw new AppError(
        'MODEL_INVALID',
        `manifest ${manifest.id}: extra input "${extra.name}" (${extra.value}) is not in the model (model inputs: ${session.inputNames.join(', ')})`,
      );
    }
    const actual = session.inputType?.(extra.name);
    if (actual && actual !== extra.type) {
      throw new AppError('MODEL_INVALID', `manifest ${manifest.id}: extra input "${extra.name}" is ${actual} in the model, the manifest declares ${extra.type}`);
    }
  }
  const fed = new Set([manifest.input.name, ...extras.map((e) => e.name)]);
  const unfed = session.inputNames.filter((name) => !fed.has(name));
  if (unfed.length) {
    throw new AppError(
      'MODEL_INVALID',
      `manifest ${manifest.id}: model input(s) ${unfed.map((n) => `"${n}"`).join(', ')} are not fed; declare them in input.extraInputs (scale-factor, im-shape or ones-mask)`,
    );
  }
  const outputs = manifest.kind === 'detector' ? manifest.decoding.outputs : [manifest.embedding.output];
  const missing = outputs.filter((o) => !has(session.outputNames, o));
  if (missing.length) {
    throw new AppError(
      'MODEL_INVALID',
      `manifest ${manifest.id}: output name(s) ${missing.map((m) => `"${m}"`).join(', ')} not in the model (model outputs: ${session.outputNames.join(', ')})`,
    );
  }
}

const PACK_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** Folder of the catalog: manifests of packs that `models pull` or `models import` install. */
export const CATALOG_DIR = 'catalog';

/**
 * Why `name` cannot name a pack folder, or undefined when it can. The pattern keeps a pack
 * inside its models folder (no separators, no dots, so no hidden working folders either).
 */
export function packNameProblem(name: string): string | undefined {
  if (!PACK_NAME.test(name)) return 'a pack name is lower-case letters, digits, "-" and "_", starting with a letter or digit';
  if (name === CATALOG_DIR) return `"${CATALOG_DIR}" is the folder of the catalog, not a pack`;
  return undefined;
}

/** Folder of a pack. */
export function packDir(modelsDir: string, packName: string): string {
  if (packNameProblem(packName)) throw new AppError('PACK_NOT_FOUND', `no model pack named "${packName}"`);
  return join(modelsDir, packName);
}

/** True when `path` is a regular file (false when missing). */
export const isFile = async (path: string): Promise<boolean> => (await stat(path).catch(() => undefined))?.isFile() ?? false;

/**
 * The `npm run models --` arguments that install a catalog pack: `import` when some model has
 * no download (e.g. PP-ShiTuV2, converted by the user), else `pull`, with --trust-unpinned when
 * some sha256 is not pinned.
 */
export function installCommand(pack: PackManifest, name: string, models: readonly CatalogModelManifest[]): string {
  if (models.some((m) => !m.download)) {
    return `import ${name}${pack.detector === NO_DETECTOR ? '' : ' --detector DET.onnx'} --embedder EMB.onnx`;
  }
  return `pull ${name} --allow-network${models.some((m) => m.sha256 === null) ? ' --trust-unpinned' : ''}`;
}

/** How to install a pack that is in the catalog but not installed, or undefined when it is not in the catalog. */
export async function installHint(modelsDir: string, packName: string): Promise<string | undefined> {
  const dir = join(modelsDir, CATALOG_DIR, packName);
  if (!PACK_NAME.test(packName) || !(await isFile(join(dir, 'pack.json')))) return undefined;
  let command = `pull ${packName} --allow-network`;
  try {
    const pack = parsePackManifest(await readJson(join(dir, 'pack.json'), 'pack manifest'));
    const files = [pack.detector, pack.embedder].filter((f) => f !== NO_DETECTOR);
    const models = await Promise.all(files.map(async (f) => parseCatalogModelManifest(await readJson(join(dir, f), 'model manifest'))));
    command = installCommand(pack, packName, models);
  } catch {
    // A broken catalog entry still gets the generic hint; `models pull` will name what is wrong.
  }
  return `pack "${packName}" is in the catalog but not installed: run \`npm run models -- ${command}\` (see docs/models.md)`;
}

/** Reads `<modelsDir>/<pack>/pack.json`; PACK_NOT_FOUND when absent, MODEL_INVALID when wrong. */
export async function loadPackManifest(modelsDir: string, packName: string): Promise<{ pack: PackManifest; dir: string }> {
  const dir = packDir(modelsDir, packName);
  const path = join(dir, 'pack.json');
  if (!(await isFile(path))) {
    const hint = await installHint(modelsDir, packName);
    throw new AppError('PACK_NOT_FOUND', hint ?? `no model pack named "${packName}" (no ${path})`);
  }
  const pack = parsePackManifest(await readJson(path, 'pack manifest'), `pack manifest ${path}`);
  // The folder's name is the pack's everywhere (SPOTTER_PACKS, galleries, /readyz).
  if (pack.name !== packName) {
    throw new AppError('MODEL_INVALID', `pack manifest ${path} names the pack "${pack.name}", but its folder is "${packName}": the two must be the same`);
  }
  return { pack, dir };
}
