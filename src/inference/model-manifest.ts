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

export const modelInputSchema = z.strictObject({
  name: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  layout: z.enum(['NCHW', 'NHWC']),
  colour: z.enum(['RGB', 'BGR']),
  /** How the image becomes width x height: zero padding to the aspect first, or a plain stretch. */
  resize: z.enum(['pad-bottom-right', 'pad-centre', 'stretch']),
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

const commonFields = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  file: localFile,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  input: modelInputSchema,
  source: sourceSchema,
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
  }),
});

export const embedderManifestSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('embedder'),
  embedding: z.strictObject({
    output: z.string().min(1),
    dimension: z.number().int().positive(),
    metric: z.literal('cosine'),
    normalise: z.literal('l2'),
  }),
});

export const modelManifestSchema = z.discriminatedUnion('kind', [detectorManifestSchema, embedderManifestSchema]);

export type ModelInput = z.infer<typeof modelInputSchema>;
export type DetectorManifest = z.infer<typeof detectorManifestSchema>;
export type EmbedderManifest = z.infer<typeof embedderManifestSchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;

export const packManifestSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Model manifest file names in the pack folder. */
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

async function readJson(path: string, what: string): Promise<unknown> {
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
      `model file ${modelPath} (manifest ${manifest.id}) is missing; run the model preparation (npx tsx src/cli/prepare-models.ts)`,
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

/** Checks that a created session has the inputs and outputs the manifest names. */
export function checkSessionAgainstManifest(
  session: { inputNames: readonly string[]; outputNames: readonly string[] },
  manifest: ModelManifest,
): void {
  const has = (list: readonly string[], name: string) => list.includes(name);
  if (!has(session.inputNames, manifest.input.name)) {
    throw new AppError(
      'MODEL_INVALID',
      `manifest ${manifest.id}: input name "${manifest.input.name}" is not in the model (model inputs: ${session.inputNames.join(', ')})`,
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

/** Folder of a pack; the name pattern keeps it inside `modelsDir`. */
export function packDir(modelsDir: string, packName: string): string {
  if (!PACK_NAME.test(packName)) throw new AppError('PACK_NOT_FOUND', `no model pack named "${packName}"`);
  return join(modelsDir, packName);
}

/** Reads `<modelsDir>/<pack>/pack.json`; PACK_NOT_FOUND when absent, MODEL_INVALID when wrong. */
export async function loadPackManifest(modelsDir: string, packName: string): Promise<{ pack: PackManifest; dir: string }> {
  const dir = packDir(modelsDir, packName);
  const path = join(dir, 'pack.json');
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new AppError('PACK_NOT_FOUND', `no model pack named "${packName}" (no ${path})`);
  const pack = parsePackManifest(await readJson(path, 'pack manifest'), `pack manifest ${path}`);
  return { pack, dir };
}
