import { defaultClientConditions, defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

// Tests run on the packages' sources: `@keyward/*` imports take the `@keyward/source` export
// condition (src/*.ts) instead of the built dist/, so no build is needed first. Vite resolves
// for the test files; NODE_OPTIONS carries the condition to the processes the tests spawn
// (`node --import tsx …` for the demo, the propagation worker).
const SOURCE_CONDITION = '@keyward/source'
const nodeOptions = process.env.NODE_OPTIONS ?? ''

// Dependencies resolve as Node resolves them: without the bundlers' `module` condition, which
// points @opentelemetry/api at an ESM build Node cannot load (extensionless imports).
const serverConditions = defaultServerConditions.filter((condition) => condition !== 'module')

export default defineConfig({
  resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE_CONDITION, ...serverConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    env: {
      NODE_OPTIONS: nodeOptions.includes(`--conditions=${SOURCE_CONDITION}`)
        ? nodeOptions
        : `${nodeOptions} --conditions=${SOURCE_CONDITION}`.trim(),
    },
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
