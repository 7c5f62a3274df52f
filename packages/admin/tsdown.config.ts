import { defineConfig } from 'tsdown'
import { packageConfig } from '../../tsdown.base.ts'
import { bundleDashboard } from './dashboard/bundle.ts'

// The dashboard ships inside the package: its bundle replaces src/dashboard/assets.ts (which,
// from source, would bundle it on first use) as two strings, so dist needs no file system access.
export default defineConfig({
  ...packageConfig(),
  plugins: [
    {
      name: 'keyward-dashboard-assets',
      async load(id: string) {
        if (!id.replaceAll('\\', '/').endsWith('/src/dashboard/assets.ts')) return null
        const assets = await bundleDashboard()
        return `const assets = ${JSON.stringify(assets)}
export async function loadDashboardAssets() { return assets }`
      },
    },
  ],
})
