import { defineConfig } from 'vitest/config'

// Three projects with different costs: unit (pure, colocated), integration (real local processes on
// loopback, no cluster) and e2e (needs the test cluster described by test/.cluster/env).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 5_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'examples/*/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One cluster, one laptop namespace: suites share both, so run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
})
