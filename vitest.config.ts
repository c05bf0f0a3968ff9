import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'shared/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
      'local/**/*.test.ts',
      'functions/**/*.test.ts',
    ],
    // Integration suites start their own emulators on ephemeral ports; two workers fit 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
