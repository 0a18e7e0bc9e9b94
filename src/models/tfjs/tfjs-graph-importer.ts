import { OnnxGraphBuilder } from '../onnx/onnx-graph-builder.js';
import type { TfjsGraphModel, TfjsNode } from './tfjs-graph-model.js';
import { ConvertContext, TfjsImportError, type ImportedValue } from './tfjs-import-context.js';
import { OP_CONVERTERS } from './tfjs-op-converters.js';

/**
 * Imports the part of a TFJS graph model that a set of outputs needs into an ONNX graph.
 * 4-D activations become NCHW (one layout for the whole graph, so convolutions need no
 * transposes); a 4-D input is declared NCHW, so the caller feeds planar tensors. Ops outside
 * OP_CONVERTERS are reported together, by name, before anything is built.
 */

export interface ImportInput {
  /** Placeholder node name in the TF graph. */
  name: string;
  onnxName?: string;
  /** TF (NHWC) shape; numbers are fixed sizes, strings symbolic. Default: the placeholder's shape. */
  shape?: (number | string)[];
}

export interface ImportOutput {
  /** TF tensor name ("node" or "node:1"). */
  name: string;
  onnxName?: string;
  /** Layout of a 4-D output: NCHW as computed, or transposed back to TF's NHWC. Default NCHW. */
  layout?: 'NCHW' | 'NHWC';
  /** Declared ONNX dims (after the layout choice); default symbolic. */
  dims?: (number | string)[];
}

export interface ImportOptions {
  graphName: string;
  inputs: ImportInput[];
  outputs: ImportOutput[];
}

export interface ImportedGraph {
  builder: OnnxGraphBuilder;
  /** ONNX value of each requested output, by TF name, for callers that append nodes. */
  values: Map<string, { name: string; rank: number; nchw: boolean }>;
}

const nodeOf = (tensor: string) => tensor.replace(/^\^/, '').replace(/:\d+$/, '');
const outputIndex = (tensor: string) => Number(/:(\d+)$/.exec(tensor)?.[1] ?? 0);

/** Nodes the outputs depend on (control inputs ignored), inputs before consumers. */
export function requiredNodes(model: TfjsGraphModel, outputs: readonly string[]): TfjsNode[] {
  const byName = new Map(model.nodes.map((n) => [n.name, n]));
  const order: TfjsNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (start: string) => {
    const stack: { name: string; expanded: boolean }[] = [{ name: start, expanded: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      const node = byName.get(top.name);
      if (!node) throw new TfjsImportError(`tfjs import: the graph has no node "${top.name}"`);
      if (top.expanded) {
        state.set(top.name, 'done');
        order.push(node);
        continue;
      }
      if (state.get(top.name) === 'done') continue;
      if (state.get(top.name) === 'visiting') throw new TfjsImportError(`tfjs import: the graph has a cycle through "${top.name}"`);
      state.set(top.name, 'visiting');
      stack.push({ name: top.name, expanded: true });
      for (const input of [...(node.input ?? [])].reverse()) {
        if (input.startsWith('^')) continue;
        if (state.get(nodeOf(input)) !== 'done') stack.push({ name: nodeOf(input), expanded: false });
      }
    }
  };
  for (const output of outputs) visit(nodeOf(output));
  return order;
}

/** The op names a set of nodes uses that the importer cannot convert, with an example node each. */
export function unsupportedOps(nodes: readonly TfjsNode[]): { op: string; node: string; count: number }[] {
  const found = new Map<string, { op: string; node: string; count: number }>();
  for (const node of nodes) {
    if (node.op === 'Const' || node.op === 'Placeholder' || OP_CONVERTERS[node.op]) continue;
    const entry = found.get(node.op) ?? { op: node.op, node: node.name, count: 0 };
    entry.count++;
    found.set(node.op, entry);
  }
  return [...found.values()].sort((a, b) => a.op.localeCompare(b.op));
}

function declareInput(g: OnnxGraphBuilder, node: TfjsNode, spec: ImportInput, model: TfjsGraphModel): ImportedValue {
  const declared = node.attr?.shape?.shape as { dim?: { size?: string | number }[] } | undefined;
  const fallback = model.signature.inputs[node.name] ?? declared?.dim?.map((d) => Number(d.size ?? -1));
  const shape = (spec.shape ?? fallback)?.map((d, i) => (typeof d === 'number' && d < 0 ? `${i === 0 ? 'N' : `d${i}`}` : d));
  if (!shape) throw new TfjsImportError(`tfjs import: input "${node.name}" has no known shape; give one`);
  const onnxName = spec.onnxName ?? node.name;
  if (shape.length === 4) {
    g.input(onnxName, [shape[0]!, shape[3]!, shape[1]!, shape[2]!]);
    return { kind: 'value', name: onnxName, rank: 4, nchw: true };
  }
  g.input(onnxName, shape);
  return { kind: 'value', name: onnxName, rank: shape.length, nchw: false };
}

/** Converts the needed part of the graph; the caller may append nodes before serialising. */
export function convertTfjsGraph(model: TfjsGraphModel, options: ImportOptions): ImportedGraph {
  const nodes = requiredNodes(model, options.outputs.map((o) => o.name));
  const missing = unsupportedOps(nodes);
  if (missing.length > 0) {
    const list = missing.map((m) => `${m.op} (${m.count} node${m.count > 1 ? 's' : ''}, e.g. "${m.node}")`).join(', ');
    throw new TfjsImportError(`tfjs import: unsupported TF op(s): ${list}. Supported: ${Object.keys(OP_CONVERTERS).join(', ')}, Const, Placeholder.`);
  }
  const g = new OnnxGraphBuilder(options.graphName);
  const inputSpecs = new Map(options.inputs.map((i) => [i.name, i]));
  const results = new Map<string, ImportedValue[]>();
  const constants = new Map<string, string>();
  for (const node of nodes) {
    if (node.op === 'Const') {
      const tensor = model.weights.get(node.name);
      if (!tensor) throw new TfjsImportError(`tfjs import: constant "${node.name}" has no value in the weights`);
      results.set(node.name, [{ kind: 'const', tensor }]);
      continue;
    }
    if (node.op === 'Placeholder') {
      const spec = inputSpecs.get(node.name);
      if (!spec) throw new TfjsImportError(`tfjs import: the outputs need input "${node.name}", which is not among the declared inputs`);
      results.set(node.name, [declareInput(g, node, spec, model)]);
      continue;
    }
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => {
      const value = results.get(nodeOf(i))?.[outputIndex(i)];
      if (!value) throw new TfjsImportError(`tfjs import: node "${node.name}" reads "${i}", which was not converted`);
      return value;
    });
    const out = OP_CONVERTERS[node.op]!(new ConvertContext(g, node, inputs, constants));
    results.set(node.name, Array.isArray(out) ? out : [out]);
  }
  const values = new Map<string, { name: string; rank: number; nchw: boolean }>();
  for (const output of options.outputs) {
    const value = results.get(nodeOf(output.name))?.[outputIndex(output.name)];
    if (!value || value.kind !== 'value') throw new TfjsImportError(`tfjs import: output "${output.name}" is not a computed tensor`);
    values.set(output.name, value);
  }
  return { builder: g, values };
}

/** Imports and serialises: each requested output becomes a graph output under its ONNX name. */
export function importTfjsGraph(
  model: TfjsGraphModel,
  options: ImportOptions & { producer: string; version: string; doc?: string },
): Uint8Array {
  const { builder: g, values } = convertTfjsGraph(model, options);
  for (const output of options.outputs) {
    const value = values.get(output.name)!;
    const onnxName = output.onnxName ?? output.name;
    const transpose = value.nchw && output.layout === 'NHWC';
    g.op(transpose ? 'Transpose' : 'Identity', [value.name], transpose ? { perm: [0, 2, 3, 1] } : {}, onnxName);
    g.output(onnxName, output.dims ?? Array.from({ length: value.rank }, (_, i) => `${onnxName}_${i}`));
  }
  return g.toBytes({ producer: options.producer, version: options.version, doc: options.doc });
}
