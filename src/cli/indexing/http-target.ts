import { basename } from 'node:path';
import { sha256Hex } from '../../imaging/decode.js';
import { mapAhead } from '../../pipeline/batch-ahead.js';
import { ApiError, type ApiClient } from '../shared/api-client.js';
import { CliError } from '../shared/cli-main.js';
import { readImageFile } from '../shared/image-file.js';
import { classifyFailure, type ItemResult } from './index-report.js';
import { entryMetadata, untilAborted, type IndexTarget, type LabelledItem } from './index-target.js';

/** Enrols through a running service's REST API, a few requests in flight. */
export class HttpTarget implements IndexTarget {
  readonly mode = 'url';

  constructor(
    private readonly client: ApiClient,
    readonly where: string,
    private readonly concurrency: number,
    /** The byte limit checked before a file is read (SPOTTER_MAX_IMAGE_BYTES of this machine). */
    private readonly maxImageBytes: number,
  ) {}

  async prepare(gallery: string, pack: string | undefined, replace: boolean): Promise<{ pack: string; created: boolean }> {
    let existing = await this.client.getGallery(gallery);
    if (existing && replace) {
      await this.client.deleteGallery(gallery);
      existing = null;
    }
    if (existing) {
      if (pack && existing.pack !== pack) {
        throw new CliError(`gallery "${gallery}" uses pack "${existing.pack}", not "${pack}"; pick another gallery name or pass --replace`);
      }
      return { pack: existing.pack, created: false };
    }
    const created = await this.client.createGallery(gallery, pack);
    return { pack: created.pack, created: true };
  }

  async *enrol(gallery: string, items: LabelledItem[], signal: AbortSignal): AsyncGenerator<ItemResult> {
    // What is enrolled already, by label and content hash: a rerun skips it without an upload.
    const enrolled = new Map<string, string>();
    for await (const entry of this.client.entries(gallery)) enrolled.set(key(entry.label, entry.imageSha256), entry.id);

    const send = async (item: LabelledItem): Promise<ItemResult> => {
      const base = { source: item.source, label: item.label };
      let bytes: Buffer;
      try {
        bytes = await readImageFile(item.path, this.maxImageBytes);
      } catch (error) {
        return { ...base, ...classifyFailure(error) };
      }
      // The service stores labels in NFC; compare in the same form.
      const existing = enrolled.get(key(item.label.normalize('NFC'), sha256Hex(bytes)));
      if (existing) return { ...base, status: 'duplicate', entryId: existing };
      try {
        const entry = await this.client.enrol(gallery, bytes, basename(item.path), item.label, entryMetadata(item));
        return { ...base, status: 'enrolled', entryId: entry.id };
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.code === 'DUPLICATE_ENTRY') return { ...base, status: 'duplicate' };
        return { ...base, ...classifyFailure(error) };
      }
    };
    yield* mapAhead(untilAborted(items, signal), this.concurrency, send);
  }

  async counts(gallery: string): Promise<{ entries: number; labels: number }> {
    const info = await this.client.getGallery(gallery);
    return { entries: info?.entryCount ?? 0, labels: info?.labelCount ?? 0 };
  }

  async close(): Promise<void> {}
}

const key = (label: string, sha: string): string => `${label}\u0000${sha}`;
