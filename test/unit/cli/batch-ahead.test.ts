import { describe, expect, it } from 'vitest';
import { mapAhead } from '../../../src/pipeline/batch-ahead.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bounded read-ahead under batch indexing and evaluation (src/pipeline/batch-ahead.ts). */
describe('mapAhead', () => {
  it('keeps at most `limit` calls in flight and yields every result', async () => {
    let inFlight = 0;
    let most = 0;
    const out: number[] = [];
    for await (const v of mapAhead([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await sleep(x % 3 === 0 ? 15 : 5);
      inFlight--;
      return x * 10;
    })) out.push(v);
    expect(most).toBe(3);
    expect(out.sort((a, b) => a - b)).toEqual([10, 20, 30, 40, 50, 60, 70]);
  });

  it('works on while the consumer is busy with a result', async () => {
    const started: number[] = [];
    const gen = mapAhead([1, 2, 3], 2, async (x) => {
      started.push(x);
      await sleep(5);
      return x;
    });
    await gen.next();
    // The consumer holds the first result; the next call has already started in its place.
    await sleep(1);
    expect(started).toEqual([1, 2, 3]);
    await gen.return(undefined);
  });

  it('reads an async source lazily', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const gen = mapAhead(source(), 4, async (x) => x);
    await gen.next();
    expect(pulled).toBeLessThanOrEqual(6);
    await gen.return(undefined);
  });

  it('rethrows a failed call after the others settle', async () => {
    let settled = 0;
    const run = async () => {
      for await (const _ of mapAhead([1, 2, 3], 3, async (x) => {
        await sleep(x * 5);
        settled++;
        if (x === 1) throw new Error('bad item');
        return x;
      }));
    };
    await expect(run()).rejects.toThrow('bad item');
    expect(settled).toBe(3);
  });
});
