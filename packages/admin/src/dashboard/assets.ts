/**
 * The dashboard's script and stylesheet. In the published package this module is replaced, at
 * build time, by one that holds the bundle as strings (see tsdown.config.ts), so serving the
 * dashboard needs no file system and no build step on any runtime. Run from source — only inside
 * the keyward repository — it bundles dashboard/src with Vite on first use instead.
 */

export interface DashboardAssets {
  /** The bundled ES module (uPlot included). */
  script: string
  style: string
}

let bundled: Promise<DashboardAssets> | undefined

export function loadDashboardAssets(): Promise<DashboardAssets> {
  bundled ??= bundle().catch((error: unknown) => {
    bundled = undefined
    throw error
  })
  return bundled
}

async function bundle(): Promise<DashboardAssets> {
  // A computed specifier, so no bundler follows it into the published package.
  const bundler = new URL('../../dashboard/bundle.ts', import.meta.url).href
  const { bundleDashboard } = (await import(/* @vite-ignore */ bundler)) as {
    bundleDashboard(): Promise<DashboardAssets>
  }
  return bundleDashboard()
}
