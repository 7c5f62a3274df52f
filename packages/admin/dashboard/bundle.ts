/**
 * Bundles the dashboard (dashboard/src, uPlot included) into one script and one stylesheet with
 * Vite, in memory. The package build (tsdown.config.ts) embeds the result in dist; from source —
 * tests and `pnpm start` in this repository — `src/dashboard/assets.ts` calls it on first use.
 */
import { fileURLToPath } from 'node:url'
import { build, type Rollup } from 'vite'
import type { DashboardAssets } from '../src/dashboard/assets.ts'

const root = fileURLToPath(new URL('.', import.meta.url))

const LICENSES =
  '/*! keyward dashboard (MIT). Includes uPlot, (c) Leon Sorokin, MIT License, https://github.com/leeoniya/uPlot */\n'

export async function bundleDashboard(): Promise<DashboardAssets> {
  const result = await build({
    configFile: false,
    root,
    logLevel: 'warn',
    publicDir: false,
    envFile: false,
    build: {
      write: false,
      target: 'es2022',
      minify: true,
      cssCodeSplit: false,
      modulePreload: false,
      reportCompressedSize: false,
      rollupOptions: {
        input: fileURLToPath(new URL('src/main.ts', import.meta.url)),
        output: { format: 'es', inlineDynamicImports: true },
      },
    },
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rollup.RollupOutput[]
  const files = outputs.flatMap((output) => output.output)
  const entry = files.find((file): file is Rollup.OutputChunk => file.type === 'chunk' && file.isEntry)
  const styles = files.filter(
    (file): file is Rollup.OutputAsset => file.type === 'asset' && file.fileName.endsWith('.css'),
  )
  if (entry === undefined) throw new Error('the dashboard bundle has no entry chunk')
  return { script: LICENSES + entry.code, style: styles.map((asset) => String(asset.source)).join('\n') }
}
