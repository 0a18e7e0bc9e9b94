import { describe, expect, it } from 'vitest';
import { toGrey } from '../../../src/imaging/grey.js';

const rgb = (width: number, height: number) => ({ data: Buffer.alloc(width * height * 3, 128), width, height });

describe('toGrey', () => {
  it('shrinks the longer side to maxSide, keeps the aspect, and never enlarges', async () => {
    const big = await toGrey(rgb(1280, 960), 640);
    expect([big.width, big.height, big.scale, big.data.length]).toEqual([640, 480, 2, 640 * 480]);
    const small = await toGrey(rgb(300, 200), 640);
    expect([small.width, small.height, small.scale]).toEqual([300, 200, 1]);
  });

  it.each([
    [16384, 16, 640, 1],
    [16, 16384, 1, 640],
    [16384, 1, 640, 1],
    [1, 1, 1, 1],
  ])('keeps every side of a %ix%i image at least 1 px (%ix%i)', async (width, height, w, h) => {
    const grey = await toGrey(rgb(width, height), 640);
    expect([grey.width, grey.height]).toEqual([w, h]);
    expect(grey.data.length).toBe(w * h);
  });
});
