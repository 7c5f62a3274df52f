/**
 * The dashboard page at the root of the mount: one HTML document with the bundled script and
 * stylesheet inline (no asset URLs to resolve under an unknown mount path, no CDN), locked down
 * by a Content-Security-Policy that allows exactly those two by hash and API calls to this
 * origin. The mode is told to the script in a `<meta>` tag.
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { AdminConfig } from '../options.ts'
import type { AdminApp } from '../routes/common.ts'
import { type DashboardAssets, loadDashboardAssets } from './assets.ts'

interface Page {
  html: string
  csp: string
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
}

/** Inline text may not close its element early. */
function inline(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1')
}

async function render(mode: AdminConfig['mode'], assets: DashboardAssets): Promise<Page> {
  const script = inline(assets.script, 'script')
  const style = inline(assets.style, 'style')
  const title = mode === 'admin' ? 'keyward admin' : 'API keys'
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="keyward-mode" content="${mode}">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${style}</style>
</head>
<body>
<div id="app"><noscript>The keyward dashboard needs JavaScript.</noscript></div>
<script type="module">${script}</script>
</body>
</html>
`
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${await sha256(script)}'`,
    `style-src 'sha256-${await sha256(style)}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return { html, csp }
}

export function registerDashboard(app: AdminApp, config: AdminConfig): void {
  let page: Promise<Page> | undefined
  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['meta'],
      summary: 'The web dashboard',
      responses: {
        200: { description: 'The dashboard (HTML).', content: { 'text/html': { schema: z.string() } } },
      },
    }),
    async (c) => {
      page ??= loadDashboardAssets().then((assets) => render(config.mode, assets))
      const { html, csp } = await page.catch((error: unknown) => {
        page = undefined
        throw error
      })
      return c.html(html, 200, {
        'content-security-policy': csp,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      })
    },
  )
}
