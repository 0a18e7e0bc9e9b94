import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: model-heavy files in parallel would only fight over them.
    fileParallelism: false,
    pool: 'forks',
  },
});
