import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'shared/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
      'local/**/*.test.ts',
      'functions/**/*.test.ts',
      'cli/**/*.test.ts',
      'client/**/*.test.ts',
    ],
    // Integration suites start their own emulators on ephemeral ports; two workers fit 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    // Bounds for a hang, not timings: a 2-core machine shared with other work runs the
    // integration suites several times slower than an idle one.
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
