/**
 * A few large ArrayBuffers kept for reuse, matched by exact size. A model's input tensor is
 * the same size on every call (3 MB for a 512x512 detector) and makes a round trip to its
 * worker thread and back; allocating a fresh one per call costs page faults on first touch
 * (1.5 ms for 3 MB here) and, worse, external memory that drives V8 into a full mark-compact
 * every dozen requests. Buffers smaller than `minBytes` are not worth keeping.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    private readonly maxBuffers = 4,
    private readonly minBytes = 64 * 1024,
  ) {}

  /** A buffer of exactly `bytes`: a kept one if there is one, else a new one (not zeroed). */
  take(bytes: number): ArrayBuffer {
    const at = this.free.findIndex((b) => b.byteLength === bytes);
    if (at >= 0) return this.free.splice(at, 1)[0]!;
    return Buffer.allocUnsafeSlow(bytes).buffer;
  }

  /** Keeps buffers for a later `take`; the oldest kept are dropped beyond `maxBuffers`. */
  give(buffers: Iterable<ArrayBuffer>): void {
    for (const buffer of buffers) {
      if (buffer.byteLength < this.minBytes || this.free.includes(buffer)) continue;
      this.free.push(buffer);
      if (this.free.length > this.maxBuffers) this.free.shift();
    }
  }

  /** Bytes currently kept. */
  get keptBytes(): number {
    return this.free.reduce((sum, b) => sum + b.byteLength, 0);
  }
}
