import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Validators generated from schemas/*.json, rebuilt when a schema changed.
    globalSetup: ['./test/generated-setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share one Docker engine and spawn real processes;
    // files run in parallel, tests inside a file run in order.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
