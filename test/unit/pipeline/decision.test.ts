import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/pipeline/decision.js';

const m = (label: string, similarity: number, entryId = `${label}-${similarity}`) => ({ label, similarity, entryId, metadata: null });

describe('decide', () => {
  it('gives no label without matches', () => {
    expect(decide([], 0.5, false)).toEqual({ label: null, similarity: null });
  });

  it('takes the best label when it passes the threshold, else unknown with its similarity', () => {
    expect(decide([m('a', 0.9), m('b', 0.8)], 0.85, false)).toEqual({ label: 'a', similarity: 0.9 });
    expect(decide([m('a', 0.8)], 0.85, false)).toEqual({ label: null, similarity: 0.8 });
    expect(decide([m('a', 0.85)], 0.85, false)).toEqual({ label: 'a', similarity: 0.85 });
  });

  it('votes by summed similarity over matches that pass, reporting the winner best similarity', () => {
    const matches = [m('a', 0.95), m('b', 0.9), m('b', 0.89), m('b', 0.88), m('c', 0.5)];
    expect(decide(matches, 0.85, true)).toEqual({ label: 'b', similarity: 0.9 });
    expect(decide(matches, 0.92, true)).toEqual({ label: 'a', similarity: 0.95 });
    expect(decide(matches, 0.99, true)).toEqual({ label: null, similarity: 0.95 });
  });
});
