import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs backends are process-wide singletons: one fork per file keeps them apart.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
