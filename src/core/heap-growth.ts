import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection before it
 * starts the next one, in percent. V8 chooses this itself and, for a heap of this service's size
 * (about 20 MB live), settles near its minimum, 10%: every request uploads, decodes and returns
 * a few hundred KB of short-lived objects, so under load a full mark-compact ran every 2 MB of
 * allocation (twice a second at 4 connections), each costing 20-45 ms of the main thread plus
 * helper threads, CPU taken from the models on a small machine. At 300% it runs every few
 * seconds (measured: 12 -> 1-2 mark-compacts in 12 s at 4 connections, 7.15 -> 7.90 requests/s)
 * for at most about 60 MB more heap.
 */
export const HEAP_GROWING_PERCENT = 300;

/** Sets V8's heap growing factor for this process, unless it was started with its own. */
export function allowHeapGrowth(percent = HEAP_GROWING_PERCENT, execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => arg.startsWith('--heap-growing-percent'))) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
