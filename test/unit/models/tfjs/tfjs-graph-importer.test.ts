import { createRequire } from 'node:module';
import type * as Tfjs from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OnnxSession } from '../../../../src/inference/onnx-session.js';
import { importTfjsGraph, requiredNodes, unsupportedOps } from '../../../../src/models/tfjs/tfjs-graph-importer.js';
import { parseTfjsGraphModel } from '../../../../src/models/tfjs/tfjs-graph-model.js';
import { OP_CONVERTERS } from '../../../../src/models/tfjs/tfjs-op-converters.js';
import { b64, TestGraph } from './tfjs-test-graph.js';

/**
 * The importer against tfjs itself: a hand-written graph that uses every supported op (and
 * float16 and uint8 weights) runs in pure-JS tfjs and, imported, in onnxruntime; outputs agree.
 */

type Tf = typeof Tfjs;
const require = createRequire(import.meta.url);

const INPUT_SHAPE = [1, 8, 10, 3];

function everyOpGraph(): { graph: TestGraph; outputs: string[] } {
  const g = new TestGraph();
  const x = g.input('x', INPUT_SHAPE);
  const c1 = g.conv('c1', x, [3, 3, 3, 4], { stride: 2, fused: ['BiasAdd', 'Relu6'], storage: 'float16' });
  const d1 = g.conv('d1', c1, [3, 3, 4, 2], { depthwise: true, fused: ['BiasAdd', 'Relu'], storage: 'uint8' });
  const se = g.op('se/mean', 'Mean', [d1, g.constant('se/axes', [2], [1, 2], 'int32')], { keep_dims: { b: true }, Tidx: { type: 'DT_INT32' } });
  const gated = g.op('se/mul', 'Mul', [d1, g.op('se/sigmoid', 'Sigmoid', [se])]);
  // hard swish as the converter leaves it: x * (1/6) * relu6(x + 3)
  const sixth = g.op('hs/mul', 'Mul', [g.constant('hs/sixth', [], [1 / 6]), gated]);
  const hs = g.op('hs/out', 'Mul', [sixth, g.op('hs/relu6', 'Relu6', [g.op('hs/add', 'AddV2', [gated, g.constant('hs/three', [], [3])])])]);
  const biased = g.op('bias', 'BiasAdd', [hs, g.constant('bias/b', [8], g.values(8))], { data_format: { s: b64('NHWC') } });
  const maxPool = g.op('maxpool', 'MaxPool', [biased], { ksize: { list: { i: ['1', '3', '3', '1'] } }, strides: { list: { i: ['1', '2', '2', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') } });
  const avgPool = g.op('avgpool', 'AvgPool', [biased], { ksize: { list: { i: ['1', '2', '2', '1'] } }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') } });
  const avgValid = g.op('avgvalid', 'AvgPool', [biased], { ksize: { list: { i: ['1', '2', '1', '1'] } }, strides: { list: { i: ['1', '2', '2', '1'] } }, padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') } });
  const cat = g.op('cat', 'ConcatV2', [maxPool, avgValid, g.constant('cat/axis', [], [-1], 'int32')], { N: { i: '2' }, Tidx: { type: 'DT_INT32' } });
  const resize = (name: string, size: number[], align: boolean, half: boolean) =>
    g.op(name, 'ResizeBilinear', [cat, g.constant(`${name}/size`, [2], size, 'int32')], { align_corners: { b: align }, half_pixel_centers: { b: half } });
  const up = resize('up', [6, 5], false, false);
  const upAligned = resize('up-aligned', [4, 7], true, false);
  const upHalf = resize('up-half', [5, 5], false, true);
  const dw = g.conv('dw', up, [3, 3, 16, 1], { depthwise: true });
  const valid = g.conv('valid', dw, [2, 2, 16, 3], { padding: 'VALID' });
  const dilated = g.conv('dilated', up, [3, 3, 16, 2], { dilation: 2, fused: ['BiasAdd', 'LeakyRelu'] });
  const explicit = g.conv('explicit', up, [3, 3, 16, 2], { padding: 'EXPLICIT', explicit: [0, 0, 1, 0, 0, 1, 0, 0], fused: ['BiasAdd', 'Elu'] });
  const channel = g.constant('mix/channel', [1, 1, 3], g.values(3));
  const mixed = g.op('mix/sub', 'Sub', [valid, channel]);
  const ratio = g.op('mix/div', 'RealDiv', [g.op('mix/tanh', 'Tanh', [mixed]), g.constant('mix/two', [], [2])]);
  const clipped = g.op('mix/min', 'Minimum', [g.op('mix/max', 'Maximum', [ratio, g.constant('mix/lo', [], [-0.25])]), g.constant('mix/hi', [3], [0.1, 0.2, 0.3])]);
  const leaky = g.op('mix/leaky', 'LeakyRelu', [g.op('mix/elu', 'Elu', [clipped])], { alpha: { f: 0.1 } });
  const relu = g.op('mix/relu', 'Relu', [g.op('mix/add', 'Add', [leaky, g.constant('mix/spatial', [5, 4, 1], g.values(20))])]);
  const pooled = g.op('pooled', 'Max', [upAligned, g.constant('pooled/axes', [2], [1, 2], 'int32')], { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } });
  g.op('out/avgpool', 'Identity', [avgPool]);
  g.op('out/relu', 'Identity', [relu]);
  // An op the importer does not know, which the requested outputs do not need.
  g.op('unused', 'Reshape', [relu, g.constant('unused/shape', [1], [-1], 'int32')], { Tshape: { type: 'DT_INT32' } });
  return { graph: g, outputs: ['out/avgpool', 'out/relu', upHalf, dilated, explicit, pooled] };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('TFJS graph import', () => {
  let tf: Tf;
  beforeAll(async () => {
    tf = require('@tensorflow/tfjs') as Tf;
    await tf.setBackend('cpu');
  });

  async function runTfjs(json: Record<string, unknown>, weights: Uint8Array, input: Float32Array, outputs: string[]) {
    const manifest = json.weightsManifest as { weights: unknown[] }[];
    const model = await tf.loadGraphModel({
      load: async () => ({
        modelTopology: json.modelTopology as object,
        format: 'graph-model',
        weightSpecs: manifest.flatMap((m) => m.weights) as never,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
      }),
    });
    const results = model.execute(tf.tensor(input, INPUT_SHAPE), outputs) as Tfjs.Tensor[];
    return Promise.all(results.map(async (t) => ({ data: await t.data<'float32'>(), shape: t.shape })));
  }

  it('reproduces tfjs on a graph with every supported op, float16 and uint8 weights', async () => {
    const { graph, outputs } = everyOpGraph();
    const { json, weights } = graph.build();
    const used = new Set(requiredNodes(parseTfjsGraphModel(json, weights), outputs).map((n) => n.op));
    for (const op of Object.keys(OP_CONVERTERS)) expect(used, op).toContain(op);
    const input = Float32Array.from(new TestGraph().values(INPUT_SHAPE.reduce((a, b) => a * b, 1)), (v) => v * 100 + 50);
    const expected = await runTfjs(json, weights, input, outputs);

    const bytes = importTfjsGraph(parseTfjsGraphModel(json, weights), {
      graphName: 'every-op',
      inputs: [{ name: 'x', onnxName: 'input' }],
      outputs: outputs.map((name, i) => ({ name, onnxName: `y${i}`, layout: 'NHWC' as const })),
      producer: 'test',
      version: '1',
    });
    const session = await OnnxSession.create(bytes);
    try {
      expect(session.inputShape('input')).toEqual([1, 3, 8, 10]);
      const nchw = new Float32Array(input.length);
      const [, h, w, c] = INPUT_SHAPE as [number, number, number, number];
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) nchw[(k * h + y) * w + x] = input[(y * w + x) * c + k]!;
      const got = await session.run({ input: { data: nchw, dims: [1, c, h, w] } });
      expected.forEach((want, i) => {
        const out = got[`y${i}`]!;
        expect(out.dims, outputs[i]).toEqual(want.shape);
        expect(maxAbsDiff(out.data, want.data), outputs[i]).toBeLessThan(1e-4);
      });
    } finally {
      await session.dispose();
    }
  });

  it('refuses unsupported ops by name before building, listing each op once', () => {
    const g = new TestGraph();
    const x = g.input('x', [1, 4, 4, 1]);
    const r = g.op('flat', 'Reshape', [x, g.constant('flat/shape', [2], [1, 16], 'int32')]);
    g.op('soft', 'Softmax', [r]);
    g.op('soft2', 'Softmax', ['soft']);
    const { json, weights } = g.build();
    const model = parseTfjsGraphModel(json, weights);
    expect(unsupportedOps(model.nodes)).toEqual([
      { op: 'Reshape', node: 'flat', count: 1 },
      { op: 'Softmax', node: 'soft', count: 2 },
    ]);
    expect(() =>
      importTfjsGraph(model, { graphName: 't', inputs: [{ name: 'x' }], outputs: [{ name: 'soft2' }], producer: 't', version: '1' }),
    ).toThrow(/unsupported TF op\(s\): Reshape \(1 node, e\.g\. "flat"\), Softmax \(2 nodes, e\.g\. "soft"\)/);
  });

  it('names the node when a supported op has attributes it cannot convert', () => {
    const g = new TestGraph();
    const x = g.input('x', [1, 4, 4, 2]);
    g.conv('bn', x, [1, 1, 2, 2], { fused: ['FusedBatchNorm'] });
    const { json, weights } = g.build();
    expect(() =>
      importTfjsGraph(parseTfjsGraphModel(json, weights), { graphName: 't', inputs: [{ name: 'x' }], outputs: [{ name: 'bn' }], producer: 't', version: '1' }),
    ).toThrow(/node "bn" \(_FusedConv2D\): fused ops \[FusedBatchNorm\] are not supported/);
  });

  it('refuses a model that is not a TFJS graph model', () => {
    expect(() => parseTfjsGraphModel({ format: 'layers-model', modelTopology: {}, weightsManifest: [] }, new Uint8Array())).toThrow(
      /not a TFJS graph model/,
    );
  });
});
