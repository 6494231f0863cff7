import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running; `integration` (files named *.int.test.ts) runs against the real
// local environment that testenv/src/global-setup.ts starts once per run and stops afterwards.
export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: '.testenv/results/vitest.json' },
    coverage: {
      provider: 'v8',
      include: ['shared/src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // Per-module floors (glob keys): the versioning core is pure logic and keeps at least 90 % of lines covered.
      thresholds: {
        'shared/src/version/**': { lines: 90 },
        'shared/src/image/reference.ts': { lines: 90 },
      },
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'shared/test/**/*.test.ts',
            'actions/*/test/**/*.test.ts',
            'test/**/*.test.ts',
            'testenv/test/**/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.test.ts'],
          exclude: ['**/node_modules/**', '.tools/**'],
          globalSetup: ['testenv/src/global-setup.ts'],
          testTimeout: 300_000,
          // A cold first start builds Kubernetes from source: about 10 minutes on a quiet 2-core machine, far more when busy.
          hookTimeout: 3_600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
