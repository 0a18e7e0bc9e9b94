import { describe, expect, it } from 'vitest';
import { OnnxSession, ortSessionOptions } from '../../../src/inference/onnx-session.js';
import { OnnxGraphBuilder } from '../../../src/models/onnx/onnx-graph-builder.js';

/** y = relu(x) * 2 with a symbolic batch dimension. */
function smallModel(): Uint8Array {
  const g = new OnnxGraphBuilder('small');
  g.input('x', ['batch', 3]);
  const two = g.constant('two', Float32Array.from([2]), []);
  g.op('Mul', [g.op('Relu', ['x']), two], {}, 'y');
  g.output('y', ['batch', 3]);
  return g.toBytes({ producer: 'test', version: '1' });
}

describe('OnnxSession', () => {
  it('runs plain float tensors and reports names and shapes', async () => {
    const session = await OnnxSession.create(smallModel(), { intraOpThreads: 1 });
    try {
      expect(session.inputNames).toEqual(['x']);
      expect(session.outputNames).toEqual(['y']);
      expect(session.inputShape('x')).toEqual(['batch', 3]);
      const out = await session.run({ x: { data: Float32Array.from([-1, 0.5, 2, 3, -4, 0]), dims: [2, 3] } });
      expect(out.y!.dims).toEqual([2, 3]);
      expect(Array.from(out.y!.data)).toEqual([0, 1, 4, 6, 0, 0]);
    } finally {
      await session.dispose();
    }
  });

  it('refuses runs after dispose', async () => {
    const session = await OnnxSession.create(smallModel());
    await session.dispose();
    await session.dispose();
    await expect(session.run({ x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(/after dispose/);
  });
});

describe('ortSessionOptions', () => {
  it('asks for intra-op threads that sleep when idle, and passes thread counts only when set', () => {
    // onnxruntime-node flattens `extra` into the config entry session.intra_op.allow_spinning.
    expect(ortSessionOptions({}).extra).toEqual({ session: { intra_op: { allow_spinning: '0' } } });
    expect(ortSessionOptions({})).not.toHaveProperty('intraOpNumThreads');
    expect(ortSessionOptions({ intraOpThreads: 2, interOpThreads: 1 })).toMatchObject({ intraOpNumThreads: 2, interOpNumThreads: 1 });
  });
});
