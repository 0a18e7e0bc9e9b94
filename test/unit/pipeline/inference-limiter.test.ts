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

  it('drops a request whose client has gone: out of the queue at once, never run, its slot passed on', async () => {
    const limiter = new InferenceLimiter(1, 2);
    const gate = deferred();
    const ran: string[] = [];
    const first = limiter.run(async () => { ran.push('first'); await gate.promise; });
    const gone = new AbortController();
    const abandoned = limiter.run(async () => { ran.push('abandoned'); }, gone.signal);
    const later = new AbortController();
    const third = limiter.run(async () => { ran.push('third'); }, later.signal);
    expect(limiter.queued).toBe(2);
    gone.abort();
    await expect(abandoned).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('client closed the connection') });
    expect(limiter.queued).toBe(1);
    gate.resolve();
    await Promise.all([first, third]);
    expect(ran).toEqual(['first', 'third']);
    expect(limiter.inFlight).toBe(0);
    const aborted = AbortSignal.abort();
    await expect(limiter.run(async () => ran.push('never'), aborted)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(limiter.admit(async () => ran.push('never'), aborted)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(ran).toEqual(['first', 'third']);
    expect(limiter.inFlight).toBe(0);
  });

  it('releases its slot when the work throws', async () => {
    const limiter = new InferenceLimiter(1, 0);
    await expect(limiter.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(limiter.run(async () => 42)).resolves.toBe(42);
  });

  it('admits at most concurrency + queue requests, counting those still decoding', async () => {
    const limiter = new InferenceLimiter(1, 1);
    let open!: () => void;
    const decoding = new Promise<void>((resolve) => (open = resolve));
    // Two requests are decoding (not yet queued for the models): a third is refused at once.
    const a = limiter.admit(async () => { await decoding; return limiter.run(async () => 'a'); });
    const b = limiter.admit(async () => { await decoding; return limiter.run(async () => 'b'); });
    await expect(limiter.admit(async () => 'c')).rejects.toMatchObject({ code: 'OVERLOADED' });
    open();
    await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
    // Slots come back, also after a failure.
    await expect(limiter.admit(async () => { throw new Error('bad image'); })).rejects.toThrow('bad image');
    await expect(limiter.admit(async () => 'd')).resolves.toBe('d');
  });

  it('holds the pixels of admitted images within the budget, lets a lone image through, and frees them at the end', async () => {
    const limiter = new InferenceLimiter(2, 8, 1, 1000);
    const gate = deferred();
    const first = limiter.admit(async (reserve) => { reserve(600); await gate.promise; return 'first'; });
    expect(limiter.pixelsInFlight).toBe(600);
    await expect(limiter.admit(async (reserve) => { reserve(500); return 'too many'; })).rejects.toMatchObject({ code: 'OVERLOADED', retryAfterSeconds: 1 });
    await expect(limiter.admit(async (reserve) => { reserve(400); return 'fits'; })).resolves.toBe('fits');
    expect(limiter.pixelsInFlight).toBe(600);
    gate.resolve();
    await expect(first).resolves.toBe('first');
    expect(limiter.pixelsInFlight).toBe(0);
    // Alone, an image larger than the whole budget still goes through (the decoder's limit bounds it).
    await expect(limiter.admit(async (reserve) => { reserve(5000); return 'alone'; })).resolves.toBe('alone');
    await expect(limiter.admit(async (reserve) => { reserve(10); throw new Error('bad image'); })).rejects.toThrow('bad image');
    expect(limiter.pixelsInFlight).toBe(0);
  });
});
