import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Two cores here; the peer tests spawn Python and the lab tests spawn QEMU.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default'],
  },
});
