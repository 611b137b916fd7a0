import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

/** `npm run test:slow`: the examples that train on Fashion-MNIST, with their goals as assertions. */
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/slow/**/*.slow.ts'],
    pool: 'forks',
    // One example at a time: each trains for minutes and its timings must not compete.
    fileParallelism: false,
    testTimeout: 4 * 60 * 60_000,
  },
});
