import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One PostgreSQL for the run (DATABASE_URL, or an embedded one) and a migrated template.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Fails a test file that leaves a pool, a worker or a server open.
    setupFiles: ['test/helpers/leaks.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
