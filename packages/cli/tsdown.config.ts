// The library entry shares the root build config; the `keyward` binary is one ESM file (its
// shebang kept, made executable by tsdown) with no declarations or CommonJS twin.
import { defineConfig, type UserConfig } from 'tsdown'
import { packageConfig } from '../../tsdown.base.ts'

const library: UserConfig = packageConfig(['src/index.ts'])

export default [
  library,
  defineConfig({ ...library, entry: ['src/bin.ts'], format: ['esm'], dts: false, clean: false }),
]
