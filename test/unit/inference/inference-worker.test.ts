import { describe, expect, it } from 'vitest';
import { OnnxSession } from '../../../src/inference/onnx-session.js';
import { OnnxGraphBuilder } from '../../../src/models/onnx/onnx-graph-builder.js';

/** y = x + 1 with a symbolic batch dimension, and an int64 count output. */
function model(): Uint8Array {
  const g = new OnnxGraphBuilder('plus-one');
  g.input('x', ['batch', 2]);
  const one = g.constant('one', Float32Array.from([1]), []);
  g.op('Add', ['x', one], {}, 'y');
  g.op('Shape', ['x'], {}, 'shape');
  g.output('y', ['batch', 2]);
  g.output('shape', [2], 'int64');
  return g.toBytes({ producer: 'test', version: '1' });
}

describe('OnnxSession in its worker thread', () => {
  it('answers concurrent runs each with its own result, and leaves the caller its input arrays', async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 1 });
    try {
      const inputs = [0, 1, 2, 3].map((k) => Float32Array.from([k, 10 * k]));
      const outs = await Promise.all(inputs.map((data) => session.run({ x: { data, dims: [1, 2] } })));
      outs.forEach((out, k) => expect(Array.from(out.y!.data)).toEqual([k + 1, 10 * k + 1]));
      expect(Array.from(inputs[3]!)).toEqual([3, 30]);
      expect(Array.from(outs[0]!.shape!.data)).toEqual([1, 2]);
      expect(outs[0]!.shape!.data).toBeInstanceOf(Float32Array);
    } finally {
      await session.dispose();
    }
  });

  it("rejects a bad run with onnxruntime's message and keeps serving", async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 1 });
    try {
      await expect(session.run({ x: { data: new Float32Array(3), dims: [1, 3] } })).rejects.toThrow(/dimension|shape|Got invalid/i);
      const out = await session.run({ x: { data: Float32Array.from([1, 2]), dims: [1, 2] } });
      expect(Array.from(out.y!.data)).toEqual([2, 3]);
    } finally {
      await session.dispose();
    }
  });

  it('refuses bytes that are not a model', async () => {
    await expect(OnnxSession.create(Uint8Array.from([1, 2, 3]))).rejects.toThrow();
  });
});

describe('OnnxSession input transfer', () => {
  it('moves the input buffers to the worker when asked, and copies them otherwise', async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 1 });
    try {
      const kept = Float32Array.from([1, 2]);
      await session.run({ x: { data: kept, dims: [1, 2] } });
      expect(kept.length).toBe(2);
      const moved = Float32Array.from([1, 2]);
      const out = await session.run({ x: { data: moved, dims: [1, 2] } }, ['y'], { transferInputs: true });
      expect(Array.from(out.y!.data)).toEqual([2, 3]);
      expect(out.shape).toBeUndefined();
      expect(moved.length).toBe(0);
    } finally {
      await session.dispose();
    }
  });
});

describe('OnnxSession input reuse', () => {
  it('hands the transferred input buffers back after the run, holding the same values, for the next run', async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 1 });
    try {
      const returned: ArrayBuffer[] = [];
      const data = Float32Array.from([4, 5]);
      const buffer = data.buffer;
      const out = await session.run({ x: { data, dims: [1, 2] } }, ['y'], { transferInputs: true, reuseInputs: (b) => returned.push(...b) });
      expect(Array.from(out.y!.data)).toEqual([5, 6]);
      expect(buffer.byteLength).toBe(0);
      expect(returned).toHaveLength(1);
      expect(Array.from(new Float32Array(returned[0]!))).toEqual([4, 5]);
      const again = new Float32Array(returned[0]!);
      again.set([7, 8]);
      const second = await session.run({ x: { data: again, dims: [1, 2] } }, ['y'], { transferInputs: true, reuseInputs: (b) => returned.push(...b) });
      expect(Array.from(second.y!.data)).toEqual([8, 9]);
      expect(returned).toHaveLength(2);
    } finally {
      await session.dispose();
    }
  });

  it('gives nothing back when the inputs were copied, not transferred', async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 1 });
    try {
      const returned: ArrayBuffer[] = [];
      await session.run({ x: { data: Float32Array.from([1, 2]), dims: [1, 2] } }, ['y'], { reuseInputs: (b) => returned.push(...b) });
      expect(returned).toEqual([]);
    } finally {
      await session.dispose();
    }
  });
});

describe('OnnxSession side by side', () => {
  const run = (session: OnnxSession, k: number) => session.run({ x: { data: Float32Array.from([k, -k]), dims: [1, 2] } }, ['y']);

  it('keeps one copy while runs come one at a time', async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 2, sideBySide: 2 });
    try {
      for (let k = 0; k < 3; k++) expect(Array.from((await run(session, k)).y!.data)).toEqual([k + 1, 1 - k]);
      await session.sideBySideReady();
      expect(session.replicas).toBe(1);
    } finally {
      await session.dispose();
    }
  });

  it('opens its narrow copies when a run meets another, and answers every run with its own result', async () => {
    const session = await OnnxSession.create(model(), { intraOpThreads: 2, sideBySide: 2 });
    try {
      const first = await Promise.all([run(session, 1), run(session, 2)]);
      expect(first.map((o) => Array.from(o.y!.data))).toEqual([[2, 0], [3, -1]]);
      await session.sideBySideReady();
      expect(session.replicas).toBe(3);
      const many = await Promise.all([3, 4, 5, 6, 7].map((k) => run(session, k)));
      expect(many.map((o) => Array.from(o.y!.data))).toEqual([3, 4, 5, 6, 7].map((k) => [k + 1, 1 - k]));
    } finally {
      await session.dispose();
    }
  });

  it('counts the runs of other sessions as taking the cores too', async () => {
    const a = await OnnxSession.create(model(), { intraOpThreads: 1 });
    const b = await OnnxSession.create(model(), { intraOpThreads: 2, sideBySide: 2 });
    try {
      await Promise.all([run(a, 1), run(b, 1)]);
      await b.sideBySideReady();
      expect(b.replicas).toBe(3);
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it('never opens copies with sideBySide 1, and can be disposed while copies are opening', async () => {
    const single = await OnnxSession.create(model(), { intraOpThreads: 1 });
    const opening = await OnnxSession.create(model(), { intraOpThreads: 2, sideBySide: 2 });
    try {
      await Promise.all([run(single, 1), run(single, 2)]);
      await single.sideBySideReady();
      expect(single.replicas).toBe(1);
      await Promise.all([run(opening, 1), run(opening, 2)]);
    } finally {
      await single.dispose();
      await opening.dispose();
    }
    await expect(run(opening, 1)).rejects.toThrow(/after dispose/);
  });
});
