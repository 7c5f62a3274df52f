// The one build config every package shares: ESM + CJS with declarations, for Node 20+.
import { defineConfig, type UserConfig } from 'tsdown'

export function packageConfig(entry: string[] = ['src/index.ts']): UserConfig {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    platform: 'node',
    target: 'node20',
    // Nothing from node_modules is bundled: dependencies and peers (ioredis, the frameworks,
    // vitest for `@keyward/core/testing`) stay imports, so the build fails if one is undeclared.
    deps: { onlyBundle: [] },
  })
}
