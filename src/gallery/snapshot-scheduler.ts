/**
 * Decides when galleries are snapshotted: soon after `everyChanges` index changes, and on a timer
 * for galleries with any pending change. Work is deferred with setImmediate so the write that
 * crossed the threshold is acknowledged without waiting for the snapshot.
 */
export class SnapshotScheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly due = new Set<number>();
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly everyChanges: number,
    private readonly intervalMs: number,
    private readonly run: (galleryId: number) => void,
    private readonly pendingGalleries: () => number[],
  ) {}

  start(): void {
    if (this.intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => this.pendingGalleries().forEach((id) => this.request(id)), this.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.due.clear();
  }

  noteChanges(galleryId: number, pending: number): void {
    if (pending >= this.everyChanges) this.request(galleryId);
  }

  forget(galleryId: number): void {
    this.due.delete(galleryId);
  }

  private request(galleryId: number): void {
    this.due.add(galleryId);
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      const ids = [...this.due];
      this.due.clear();
      ids.forEach((id) => this.run(id));
    });
  }
}
