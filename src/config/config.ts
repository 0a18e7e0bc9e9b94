import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * Every setting of the service, with its environment variable. Parsed once at start into a
 * frozen object that is passed down; no other module reads process.env.
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0'])]).transform((v) => v === true || v === 'true' || v === '1');

/**
 * HNSW parameters of new indexes. M 24 / ef 96: at 1M x 512-D the lowest search time for
 * recall@10 >= 0.98 of those measured (M 16 needed ef 176 for 0.982, M 24 gives 0.991 at ef 96
 * in less time); docs/performance.md.
 */
export const HNSW_DEFAULTS = { m: 24, efConstruction: 200, ef: 96 } as const;

export const configSchema = z.object({
  host: z.string().default('0.0.0.0'),
  port: int(0, 65535).default(8080),
  dataDir: z.string().min(1).default('index-data'),
  modelsDir: z.string().min(1).default('models'),
  apiKey: z.string().min(16, 'SPOTTER_API_KEY must be at least 16 characters').optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  packs: z.string().default('objects,face').transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean)),
  defaultPack: z.string().default('objects'),
  maxBodyBytes: int(1024, 1 << 30).default(32 * 1024 * 1024),
  maxImageBytes: int(1024, 1 << 30).default(20 * 1024 * 1024),
  maxImagePixels: int(64, 1e9).default(50_000_000),
  maxImageSide: int(16, 100_000).default(16_384),
  maxLabelLength: int(1, 10_000).default(200),
  maxMetadataBytes: int(2, 1 << 20).default(16 * 1024),
  intraOpThreads: int(1, 256).default(availableParallelism()),
  interOpThreads: int(1, 256).default(1),
  inferenceConcurrency: int(1, 64).default(2),
  queueSize: int(0, 10_000).default(32),
  // 420 MP (1.26 GB of RGB): all 34 requests the default concurrency and queue admit with 12 MP
  // phone photos (4032x3024), but 8 of 50 MP.
  maxPixelsInFlight: int(1, 1e12).default(420_000_000),
  snapshotEveryChanges: int(1, 1e9).default(1000),
  snapshotIntervalMs: int(1000, 86_400_000).default(60_000),
  hnswM: int(4, 128).default(HNSW_DEFAULTS.m),
  hnswEfConstruction: int(8, 4096).default(HNSW_DEFAULTS.efConstruction),
  hnswEf: int(8, 4096).default(HNSW_DEFAULTS.ef),
  shutdownTimeoutMs: int(100, 600_000).default(10_000),
  // 0: the listener closes as soon as a stop signal comes. Behind a load balancer, a few seconds
  // let it see /readyz fail and stop sending before connections are refused.
  shutdownDrainMs: int(0, 600_000).default(0),
  // 2 minutes: the largest body (32 MiB) at about 2 Mbit/s; a client that sends slower, or stops
  // sending, is cut off rather than holding a connection and its buffers.
  requestTimeoutMs: int(1000, 3_600_000).default(120_000),
  docs: bool.default(true),
  allowDownloads: bool.default(false),
  verifier: z.enum(['orb', 'off']).default('orb'),
  verifierThreads: int(1, 64).default(Math.min(2, availableParallelism())),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

/** Environment variable for each setting (documented in the README's configuration table). */
export const ENV_VARS: Record<keyof z.infer<typeof configSchema>, string> = {
  host: 'HOST',
  port: 'PORT',
  dataDir: 'SPOTTER_DATA_DIR',
  modelsDir: 'SPOTTER_MODELS_DIR',
  apiKey: 'SPOTTER_API_KEY',
  logLevel: 'LOG_LEVEL',
  packs: 'SPOTTER_PACKS',
  defaultPack: 'SPOTTER_DEFAULT_PACK',
  maxBodyBytes: 'SPOTTER_MAX_BODY_BYTES',
  maxImageBytes: 'SPOTTER_MAX_IMAGE_BYTES',
  maxImagePixels: 'SPOTTER_MAX_IMAGE_PIXELS',
  maxImageSide: 'SPOTTER_MAX_IMAGE_SIDE',
  maxLabelLength: 'SPOTTER_MAX_LABEL_LENGTH',
  maxMetadataBytes: 'SPOTTER_MAX_METADATA_BYTES',
  intraOpThreads: 'SPOTTER_INTRA_OP_THREADS',
  interOpThreads: 'SPOTTER_INTER_OP_THREADS',
  inferenceConcurrency: 'SPOTTER_INFERENCE_CONCURRENCY',
  queueSize: 'SPOTTER_QUEUE_SIZE',
  maxPixelsInFlight: 'SPOTTER_MAX_PIXELS_IN_FLIGHT',
  snapshotEveryChanges: 'SPOTTER_SNAPSHOT_EVERY_CHANGES',
  snapshotIntervalMs: 'SPOTTER_SNAPSHOT_INTERVAL_MS',
  hnswM: 'SPOTTER_HNSW_M',
  hnswEfConstruction: 'SPOTTER_HNSW_EF_CONSTRUCTION',
  hnswEf: 'SPOTTER_HNSW_EF',
  shutdownTimeoutMs: 'SPOTTER_SHUTDOWN_TIMEOUT_MS',
  shutdownDrainMs: 'SPOTTER_SHUTDOWN_DRAIN_MS',
  requestTimeoutMs: 'SPOTTER_REQUEST_TIMEOUT_MS',
  docs: 'SPOTTER_DOCS',
  allowDownloads: 'SPOTTER_ALLOW_DOWNLOADS',
  verifier: 'SPOTTER_VERIFIER',
  verifierThreads: 'SPOTTER_VERIFIER_THREADS',
};

/** Thrown when the configuration is invalid; the message names every offending setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Builds the configuration from (lowest to highest precedence) defaults, an optional JSON file
 * named by SPOTTER_CONFIG (keys as in the schema), environment variables, and explicit overrides.
 */
export function loadConfig(
  env: Record<string, string | undefined> = {},
  overrides: Partial<Record<keyof z.input<typeof configSchema>, unknown>> = {},
): Config {
  let fromFile: Record<string, unknown> = {};
  const file = env.SPOTTER_CONFIG;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read SPOTTER_CONFIG file ${file}: ${(e as Error).message}`);
    }
  }
  const fromEnv: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const parsed = configSchema.strict().safeParse({ ...fromFile, ...fromEnv, ...overrides });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const key = i.path[0] as keyof typeof ENV_VARS | undefined;
      const where = key && key in ENV_VARS ? `${String(key)} (${ENV_VARS[key]})` : String(i.path.join('.') || 'config');
      return `${where}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}
