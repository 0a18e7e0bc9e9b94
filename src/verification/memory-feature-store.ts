/**
 * Local features of enrolled entries, held in memory (about 40 KB per entry at 1000 keypoints).
 * Not durable: after a restart, entries enrolled before it are searched by embedding only
 * until they are enrolled again. A durable store belongs next to the entries in the gallery
 * database (a features table deleted with its entry); this one keeps the stage usable meanwhile.
 */
export class MemoryFeatureStore {
  private readonly byGallery = new Map<string, Map<string, Uint8Array>>();

  get(gallery: string, entryId: string): Uint8Array | undefined {
    return this.byGallery.get(gallery)?.get(entryId);
  }

  put(gallery: string, entryId: string, features: Uint8Array): void {
    let entries = this.byGallery.get(gallery);
    if (!entries) {
      entries = new Map();
      this.byGallery.set(gallery, entries);
    }
    entries.set(entryId, features);
  }

  /** Forgets an entry (or a whole gallery) that was deleted. */
  delete(gallery: string, entryId?: string): void {
    if (entryId === undefined) this.byGallery.delete(gallery);
    else this.byGallery.get(gallery)?.delete(entryId);
  }

  get size(): number {
    let n = 0;
    for (const entries of this.byGallery.values()) n += entries.size;
    return n;
  }
}
