import { defineConfig } from 'vitest/config';

// Two tiers: `unit` (test/unit) needs nothing but Node and runs alone with `npm run
// test:unit`; `integration` (every other folder) starts real PostgreSQL, Prometheus and
// Chromium processes and runs the CLI from dist/, which its global setup builds. `npm test`
// runs both, each file once.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Two cores: files that start servers run two at a time at most.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**', '**/.git/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
