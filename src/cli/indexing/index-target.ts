import type { ImageItem } from '../shared/image-sources.js';
import type { ItemResult } from './index-report.js';

/** An item with a label: what indexing enrols. */
export type LabelledItem = ImageItem & { label: string };

/** Where images are enrolled: the data folder directly, or a running service's API. */
export interface IndexTarget {
  readonly mode: 'offline' | 'url';
  /** The data folder or the service address, for messages and the report. */
  readonly where: string;
  /** Creates the gallery when missing (anew with `replace`); returns the gallery's pack. */
  prepare(gallery: string, pack: string | undefined, replace: boolean): Promise<{ pack: string; created: boolean }>;
  /** One result per item, in completion order; stops taking new items once `signal` aborts. */
  enrol(gallery: string, items: LabelledItem[], signal: AbortSignal): AsyncIterable<ItemResult>;
  counts(gallery: string): Promise<{ entries: number; labels: number }>;
  close(): Promise<void>;
}

/** The items not yet handed out, until the run is interrupted. */
export function* untilAborted<T>(items: Iterable<T>, signal: AbortSignal): Generator<T> {
  for (const item of items) {
    if (signal.aborted) return;
    yield item;
  }
}

/** What is stored with every entry, so reports can show the image an entry came from. */
export const entryMetadata = (item: ImageItem): Record<string, unknown> => ({ source: item.source });
