import { defineConfig } from 'vitest/config'

// The soak runs on its own (`npm run soak`), never with the CI suites: it holds sessions for half
// an hour and hurts the cluster on purpose.
export default defineConfig({
  test: {
    name: 'soak',
    include: ['test/soak/**/*.test.ts'],
    environment: 'node',
    hookTimeout: 180_000,
    testTimeout: 60 * 60_000,
  },
})
