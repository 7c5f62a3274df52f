import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Spies are restored after every test, so one failing case cannot leave a store patched.
    restoreMocks: true,
    // The `*.test-d.ts` files hold type assertions (`expectTypeOf`); vitest runs them through tsc.
    typecheck: {
      enabled: true,
      include: ['packages/*/src/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
})
