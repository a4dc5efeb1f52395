import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    allowOnly: !process.env['CI'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          sequence: { groupOrder: 0 }
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // integration suites start servers and openssl; two cores only
          maxWorkers: 2,
          sequence: { groupOrder: 1 }
        }
      }
    ]
  }
})
