import { defineConfig } from 'vitest/config';

/** Files that reach their database through PgBouncer in transaction mode (see test/helpers/pgbouncer.ts). */
const POOLED = ['test/http/**/*.test.ts', 'test/webhooks/**/*.test.ts', 'test/runtime/**/*.test.ts'];

export default defineConfig({
  test: {
    // One PostgreSQL for the run (DATABASE_URL, or an embedded one) and a migrated template.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Fails a test file that leaves a pool, a worker or a server open.
    setupFiles: ['test/helpers/leaks.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'direct', include: ['test/**/*.test.ts'], exclude: POOLED } },
      { extends: true, test: { name: 'pgbouncer', include: POOLED } },
    ],
  },
});
