import type { Config } from '../../config/config.js';
import type { Table } from './bench-table.js';

export const SECTION_IDS = ['raw', 'cascade', 'http', 'index', 'peer', 'indexing'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

/** One of the targets, as a ratio (or a value) measured in this run. */
export interface TargetResult {
  name: string;
  measured: number;
  limit: number;
  /** 'max': measured must be <= limit; 'min': measured must be >= limit. */
  kind: 'max' | 'min';
  unit: string;
  pass: boolean;
  detail?: string;
}

export function target(name: string, measured: number, kind: 'max' | 'min', limit: number, unit = 'x', detail?: string): TargetResult {
  const pass = Number.isFinite(measured) && (kind === 'max' ? measured <= limit : measured >= limit);
  return { name, measured, limit, kind, unit, pass, ...(detail ? { detail } : {}) };
}

export interface SectionResult {
  id: SectionId;
  title: string;
  tables: { caption?: string; table: Table }[];
  notes: string[];
  targets: TargetResult[];
  /** Everything measured, for the JSON file. */
  data: Record<string, unknown>;
  /** Set when the section could not run here (missing dev dependency, missing command). */
  skipped?: string;
  loadAverage?: { start: number[]; end: number[] };
  seconds?: number;
}

export interface BenchOptions {
  quick: boolean;
  /** The checkout (where dist/, models/, node_modules/ and test/fixtures/ are). */
  root: string;
  photosDir: string;
  /** Service settings (threads, HNSW parameters) as the server would read them. */
  config: Config;
  /** Entry counts and dimensions for the index section. */
  indexSizes: number[];
  indexDimensions: number[];
  /** Also run 1M x 512-D when the default sizes are used. */
  indexLarge: boolean;
  log: (line: string) => void;
}

/** The pack the single-pack sections use: the face pack when loaded (its photos and peer exist), else the default. */
export function mainPack(options: BenchOptions): string {
  return options.config.packs.includes('face') ? 'face' : options.config.defaultPack;
}
