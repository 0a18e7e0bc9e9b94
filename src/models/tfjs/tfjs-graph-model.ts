import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { decodeTfjsWeights, weightsManifestSchema, type TfjsTensor } from './tfjs-weights.js';

/**
 * Reader for TensorFlow.js graph models (`model.json` with `format: "graph-model"` plus the
 * `.bin` shards its weights manifest names). Only what an import to ONNX needs is kept: the
 * nodes, their attributes, the signature and the constant tensors.
 */

const attrValueSchema = z
  .object({
    s: z.string().optional(),
    i: z.union([z.string(), z.number()]).optional(),
    f: z.number().optional(),
    b: z.boolean().optional(),
    type: z.string().optional(),
    list: z
      .object({
        s: z.array(z.string()).optional(),
        i: z.array(z.union([z.string(), z.number()])).optional(),
        f: z.array(z.number()).optional(),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();

const nodeSchema = z.object({
  name: z.string().min(1),
  op: z.string().min(1),
  input: z.array(z.string()).optional(),
  attr: z.record(z.string(), attrValueSchema).optional(),
});

const tensorInfoSchema = z
  .object({
    name: z.string(),
    dtype: z.string().optional(),
    tensorShape: z.object({ dim: z.array(z.object({ size: z.union([z.string(), z.number()]).optional() })).optional() }).optional(),
  })
  .passthrough();

const graphModelSchema = z.object({
  format: z.literal('graph-model', { message: 'only TFJS graph models (format "graph-model") can be imported' }),
  modelTopology: z.object({ node: z.array(nodeSchema).min(1) }).passthrough(),
  signature: z
    .object({
      inputs: z.record(z.string(), tensorInfoSchema).optional(),
      outputs: z.record(z.string(), tensorInfoSchema).optional(),
    })
    .passthrough()
    .optional(),
  weightsManifest: weightsManifestSchema,
});

export type TfjsNode = z.infer<typeof nodeSchema>;
export type TfjsAttr = z.infer<typeof attrValueSchema>;

export interface TfjsGraphModel {
  nodes: TfjsNode[];
  /** Constant tensors by node name (the converter moves every Const value into the weights). */
  weights: ReadonlyMap<string, TfjsTensor>;
  /** Signature tensor names and shapes (-1 for unknown), when the model declares them. */
  signature: { inputs: Record<string, number[]>; outputs: Record<string, number[]> };
}

function shapeOf(info: z.infer<typeof tensorInfoSchema>): number[] {
  return (info.tensorShape?.dim ?? []).map((d) => (d.size === undefined ? -1 : Number(d.size)));
}

/** Parses a model.json object and its concatenated weight shards. */
export function parseTfjsGraphModel(json: unknown, shards: Uint8Array, source = 'model.json'): TfjsGraphModel {
  const parsed = graphModelSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`tfjs import: ${source} is not a TFJS graph model: ${issues}`);
  }
  const model = parsed.data;
  const signatureShapes = (entries: Record<string, z.infer<typeof tensorInfoSchema>> | undefined) =>
    Object.fromEntries(Object.entries(entries ?? {}).map(([key, info]) => [info.name || key, shapeOf(info)]));
  return {
    nodes: model.modelTopology.node,
    weights: decodeTfjsWeights(model.weightsManifest, shards),
    signature: { inputs: signatureShapes(model.signature?.inputs), outputs: signatureShapes(model.signature?.outputs) },
  };
}

/** Reads `model.json` and the shard files its weights manifest names (same folder). */
export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfjsGraphModel> {
  const json: unknown = JSON.parse(await readFile(modelJsonPath, 'utf8'));
  const manifest = weightsManifestSchema.safeParse((json as { weightsManifest?: unknown })?.weightsManifest);
  const paths = manifest.success ? manifest.data.flatMap((g) => g.paths) : [];
  const shards = await Promise.all(paths.map((p) => readFile(join(dirname(modelJsonPath), p))));
  return parseTfjsGraphModel(json, new Uint8Array(Buffer.concat(shards)), modelJsonPath);
}
