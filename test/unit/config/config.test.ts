import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';

describe('loadConfig', () => {
  it('has sensible defaults and is frozen', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('index-data');
    expect(config.apiKey).toBeUndefined();
    // The HNSW defaults the index benchmark measured at 1M x 512-D (docs/performance.md).
    expect(config).toMatchObject({ hnswM: 24, hnswEfConstruction: 200, hnswEf: 96 });
    // Two verifier threads (one on a single core): a query's candidates are matched side by side.
    expect(config.verifierThreads).toBe(Math.min(2, availableParallelism()));
    expect(loadConfig({ SPOTTER_VERIFIER_THREADS: '1' }).verifierThreads).toBe(1);
    expect(() => loadConfig({ SPOTTER_VERIFIER_THREADS: '0' })).toThrow(/verifierThreads \(SPOTTER_VERIFIER_THREADS\)/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads environment variables, a config file below them, and overrides above both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spotter-config-'));
    const file = join(dir, 'spotter.json');
    writeFileSync(file, JSON.stringify({ port: 9000, queueSize: 5, hnswEf: 100 }));
    const config = loadConfig({ SPOTTER_CONFIG: file, PORT: '9100', SPOTTER_DATA_DIR: '/data', SPOTTER_PACKS: 'face, objects' }, { hnswEf: 128 });
    expect(config).toMatchObject({ port: 9100, queueSize: 5, hnswEf: 128, dataDir: '/data', packs: ['face', 'objects'] });
  });

  it('treats an empty variable as unset (compose passes SPOTTER_API_KEY= when none is given)', () => {
    expect(loadConfig({ SPOTTER_API_KEY: '' }).apiKey).toBeUndefined();
  });

  it('names every invalid setting with its variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', SPOTTER_API_KEY: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty', SPOTTER_API_KEY: 'short' })).toThrow(/port \(PORT\)[\s\S]*apiKey \(SPOTTER_API_KEY\)/);
    expect(() => loadConfig({}, { colour: 'red' } as never)).toThrow(/colour/);
  });
});
