import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Two cores on the reference machine: keep parallelism modest so socket tests stay deterministic.
    maxWorkers: 2,
    testTimeout: 60_000,
    reporters: ['default', './src/testing/summary-reporter.ts'],
  },
});
