import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/app-error.js';
import { InferenceLimiter } from '../../../src/pipeline/inference-limiter.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('InferenceLimiter', () => {
  it('runs at most `concurrency` at once, queues up to the limit, and rejects beyond it', async () => {
    const limiter = new InferenceLimiter(1, 1, 2);
    const gate = deferred();
    const order: string[] = [];
    const first = limiter.run(async () => { order.push('first'); await gate.promise; });
    const second = limiter.run(async () => { order.push('second'); });
    expect(limiter.inFlight).toBe(1);
    expect(limiter.queued).toBe(1);
    const third = limiter.run(async () => undefined);
    await expect(third).rejects.toMatchObject({ code: 'OVERLOADED', retryAfterSeconds: 2 });
    await expect(third).rejects.toBeInstanceOf(AppError);
    gate.resolve();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(limiter.inFlight).toBe(0);
  });

  it('releases its slot when the work throws', async () => {
    const limiter = new InferenceLimiter(1, 0);
    await expect(limiter.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(limiter.run(async () => 42)).resolves.toBe(42);
  });
});
