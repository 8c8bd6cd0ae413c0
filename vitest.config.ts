import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // End-to-end tests spawn several processes (each CLI start ~0.6 s); two workers share two cores.
    testTimeout: 90_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and child processes; two cores here.
    maxWorkers: 2,
    // One temporary folder for the run, removed at its end (test/support/run-tmpdir.ts).
    globalSetup: ['test/support/run-tmpdir.ts'],
  },
});
