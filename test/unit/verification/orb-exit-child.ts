import { OrbVerifier } from '../../../src/verification/orb-verifier.js';

/**
 * Run as a process by orb-verifier.test.ts: uses one verifier and disposes it, uses another and
 * leaves it idle, then ends its script. The process must exit on its own.
 */
const side = 96;
const data = new Uint8Array(side * side);
for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = ((x >> 3) + (y >> 3)) % 2 ? 230 : 20;
const image = { data, width: side, height: side };

const stopped = new OrbVerifier();
const kept = new OrbVerifier();
const [a, b] = await Promise.all([stopped.extract(image), kept.extract(image)]);
await stopped.dispose();
process.stdout.write(`${a.byteLength === b.byteLength ? 'same' : 'different'} ${a.byteLength}\n`);
