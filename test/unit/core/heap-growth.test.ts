import { describe, expect, it } from 'vitest';
import { allowHeapGrowth } from '../../../src/core/heap-growth.js';

describe('allowHeapGrowth', () => {
  it("leaves a growing factor given on node's command line alone", () => {
    expect(allowHeapGrowth(300, ['--heap-growing-percent=50'])).toBe(false);
  });

  it('sets it otherwise', () => {
    expect(allowHeapGrowth(300, [])).toBe(true);
  });
});
