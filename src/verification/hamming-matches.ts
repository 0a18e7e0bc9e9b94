/**
 * Brute-force matching of 32-byte binary descriptors (ORB's) by Hamming distance, with Lowe's
 * ratio test: a query descriptor is matched to its nearest candidate descriptor when that one is
 * clearly nearer than the second nearest (best < ratio x second).
 *
 * It gives the same pairs as OpenCV's BFMatcher(NORM_HAMMING).knnMatch(k = 2) followed by the
 * ratio test (a test holds the two together): distances are whole numbers, so the nearest is
 * the same descriptor whenever it is unique, and when two are equally near the test fails either
 * way. It is written out in JavaScript because it is faster than OpenCV's WebAssembly build,
 * which took 33 ms for 1000 x 865 descriptors and 4-7 ms more to hand back the pairs one binding
 * call at a time, against 18 ms here (32-bit words, bits counted in parallel within a word, and
 * a candidate dropped after half its words once it cannot beat the second nearest).
 *
 * The function is also the worker's (orb-worker-source.ts embeds its source text), so it must
 * stay self-contained: no imports, no module constants, no nested functions.
 */
export function ratioTestMatches(query: Uint8Array, queryCount: number, candidate: Uint8Array, candidateCount: number, ratio: number): Int32Array {
  const WORDS = 8; // 32-byte descriptors as 32-bit words
  if (query.byteLength < queryCount * WORDS * 4 || candidate.byteLength < candidateCount * WORDS * 4) {
    throw new Error(`hamming matches: ${queryCount} and ${candidateCount} descriptors need ${WORDS * 4} bytes each`);
  }
  // knnMatch with k = 2 finds no pair for a query when there is no second candidate.
  if (candidateCount < 2) return new Int32Array(0);
  // Word views need 4-byte alignment; an unaligned array is copied first (a copy starts at 0).
  const qAligned = query.byteOffset % 4 === 0 ? query : query.slice();
  const cAligned = candidate.byteOffset % 4 === 0 ? candidate : candidate.slice();
  const q = new Int32Array(qAligned.buffer, qAligned.byteOffset, queryCount * WORDS);
  const c = new Int32Array(cAligned.buffer, cAligned.byteOffset, candidateCount * WORDS);
  const pairs: number[] = [];
  for (let i = 0; i < queryCount; i++) {
    // The query's eight words are held in locals and the word loop is written out: measured
    // twice as fast as a loop over the words (18 against 33-34 ms for 1000 x 865).
    const at = i * WORDS;
    const q0 = q[at]!, q1 = q[at + 1]!, q2 = q[at + 2]!, q3 = q[at + 3]!;
    const q4 = q[at + 4]!, q5 = q[at + 5]!, q6 = q[at + 6]!, q7 = q[at + 7]!;
    let best = Infinity;
    let second = Infinity;
    let bestIndex = -1;
    for (let j = 0, ct = 0; j < candidateCount; j++, ct += WORDS) {
      // Bits set in each 32-bit word of the XOR: in pairs, in nibbles, then the four byte
      // counts summed by one multiply.
      let x: number;
      let distance = 0;
      x = q0 ^ c[ct]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      x = q1 ^ c[ct + 1]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      x = q2 ^ c[ct + 2]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      x = q3 ^ c[ct + 3]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      // Distances only grow: a candidate already as far as the second nearest changes neither.
      if (distance >= second) continue;
      x = q4 ^ c[ct + 4]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      x = q5 ^ c[ct + 5]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      x = q6 ^ c[ct + 6]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      x = q7 ^ c[ct + 7]!; x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); distance += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
      if (distance < best) {
        second = best;
        best = distance;
        bestIndex = j;
      } else if (distance < second) {
        second = distance;
      }
    }
    if (best < ratio * second) pairs.push(i, bestIndex);
  }
  return Int32Array.from(pairs);
}
