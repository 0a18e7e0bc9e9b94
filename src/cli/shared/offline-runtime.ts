import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { bootstrap, type Runtime } from '../../bootstrap.js';
import { ConfigError, loadConfig, type Config } from '../../config/config.js';
import { CliError } from './cli-main.js';

export interface OfflineOptions {
  /** Overrides SPOTTER_DATA_DIR. */
  dataDir?: string;
  /** The inference queue must hold this many waiting calls (the read-ahead of a batch run). */
  minQueue?: number;
  /** Refuse a data folder without a store instead of creating an empty one (read-only commands). */
  mustExist?: boolean;
  /** A pack the command names (e.g. `index --pack`), loaded besides SPOTTER_PACKS. */
  pack?: string;
}

/** The configuration the server would use (environment, SPOTTER_CONFIG), quieter by default. */
export function cliConfig(options: OfflineOptions = {}): Config {
  const overrides: Record<string, unknown> = {};
  if (options.dataDir) overrides.dataDir = options.dataDir;
  // Pack-loading lines would bury the progress output; LOG_LEVEL still wins when set.
  if (!process.env.LOG_LEVEL) overrides.logLevel = 'warn';
  try {
    let config = loadConfig(process.env, overrides);
    if (options.pack && !config.packs.includes(options.pack)) {
      overrides.packs = [...config.packs, options.pack].join(',');
      config = loadConfig(process.env, overrides);
    }
    if (options.minQueue !== undefined && config.queueSize < options.minQueue) {
      config = loadConfig(process.env, { ...overrides, queueSize: options.minQueue });
    }
    return config;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/**
 * Opens the data folder directly with the server's own wiring (`bootstrap`): same packs, same
 * pipeline, same store. The store holds an exclusive lock, so this fails while the service runs.
 */
export async function openOffline(options: OfflineOptions = {}): Promise<Runtime> {
  const config = cliConfig(options);
  if (options.mustExist && !existsSync(join(config.dataDir, 'spotter.db'))) {
    throw new CliError(`there is no gallery store in ${resolve(config.dataDir)}; set SPOTTER_DATA_DIR (or --data-dir) to the service's data folder`);
  }
  const logger = pino({ level: config.logLevel }, pino.destination({ dest: 2, sync: true }));
  try {
    return await bootstrap(config, { logger });
  } catch (error) {
    if (isLocked(error)) {
      throw new CliError(
        `the data folder ${resolve(config.dataDir)} is in use by another process (is the service running?). ` +
          'Stop the service, or pass --url <service address> to go through its API instead.',
      );
    }
    throw error;
  }
}

function isLocked(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'SQLITE_BUSY' || cause?.code === 'SQLITE_BUSY_SNAPSHOT';
}
