import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests start real PostgreSQL, Prometheus and Chromium processes.
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Two cores: files that start servers run two at a time at most.
    maxWorkers: 2,
  },
});
