/**
 * The dashboard, tried as a new user would, in real headless Chromium (Debian's, driven by
 * playwright-core): start `pnpm start`'s demo, open the printed dashboard URL, sign in with the
 * printed admin key, create a key, call the demo API with it over HTTP, see the calls in the
 * chart's totals, revoke the key, and see the next call refused with 401; then wrong secrets for
 * its id, and the wrong-secret signal on its page. With
 * `KEYWARD_SCREENSHOT=1` the last view is saved as docs/dashboard.png (shown in the README); a
 * plain test run leaves the tree as it found it. Then the same dashboard in self-service mode, inside
 * an application whose own sign-in (a cookie) decides whose keys it shows.
 *
 * Without /usr/bin/chromium the test is skipped with a message — except in CI (`CI` set), where a
 * missing browser fails it: CI must install Debian's `chromium` package.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getRequestListener } from '@hono/node-server'
import { createAdmin } from '@keyward/admin'
import { createKeyward } from '@keyward/core'
import { formatKey, randomBase62 } from '@keyward/core/testing'
import { apiKeyAuth } from '@keyward/hono'
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CHROMIUM = '/usr/bin/chromium'
const root = join(dirname(fileURLToPath(import.meta.url)), '../..')
const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'
const haveChromium = existsSync(CHROMIUM)

if (!haveChromium && !inCi) {
  console.warn(
    `[keyward] skipping the dashboard browser test: ${CHROMIUM} not found (Debian/Ubuntu: apt-get install -y chromium)`,
  )
}

describe.skipIf(!haveChromium && !inCi)('the dashboard in headless Chromium', () => {
  let demo: ChildProcess
  let banner = ''
  let context: BrowserContext
  let page: Page
  let userDataDir: string
  const pageErrors: string[] = []

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package`)
    demo = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/server.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not start:\n${banner}`)), 30_000)
      const collect = (chunk: Buffer) => {
        banner += chunk.toString()
        if (banner.includes('Press Ctrl+C to stop.')) {
          clearTimeout(timer)
          resolve()
        }
      }
      demo.stdout?.on('data', collect)
      demo.stderr?.on('data', collect)
      demo.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${banner}`)))
    })
    userDataDir = mkdtempSync(join(tmpdir(), 'keyward-chromium-'))
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.on('pageerror', (error) => pageErrors.push(error.message))
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) pageErrors.push(message.text())
    })
  }, 90_000)

  afterAll(async () => {
    await context?.close()
    if (demo !== undefined && demo.exitCode === null) demo.kill('SIGTERM')
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true })
  })

  const printed = (pattern: RegExp): string => {
    const value = pattern.exec(banner)?.[1]
    if (value === undefined) throw new Error(`${pattern} not in the banner:\n${banner}`)
    return value
  }

  it('signs in, creates a key, shows its calls in the chart, revokes it; the next call gets 401', async () => {
    const api = printed(/listening on (http:\/\/\S+)/)
    const dashboard = printed(/^Dashboard: (\S+)$/m)
    const adminKey = printed(/KEYWARD_ADMIN_KEY=(\S+)/)
    const callApi = (key: string) =>
      fetch(`${api}/v1/orders`, { headers: { authorization: `Bearer ${key}` } })

    // Sign in, with the keyboard.
    await page.goto(dashboard)
    await page.getByLabel('Admin key').fill(adminKey)
    await page.getByLabel('Admin key').press('Enter')
    await expect.poll(() => page.evaluate("sessionStorage.getItem('keyward-admin-key')")).toBe(adminKey)
    expect(page.url()).not.toContain(adminKey)

    // The owner's keys, then a new key: shown once, with a copy button.
    await page.getByLabel('Owner id').fill('org_demo')
    await page.getByRole('button', { name: 'Show keys' }).click()
    await page.getByRole('heading', { name: 'Keys of org_demo' }).waitFor()
    await page.getByLabel('Name').fill('browser-test')
    await page.getByLabel('Scopes').fill('orders:read')
    await page.getByRole('button', { name: 'Create key' }).click()
    const dialog = page.getByRole('dialog')
    await expect.poll(() => dialog.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true)
    const key = await dialog.getByTestId('new-key').inputValue()
    expect(key).toMatch(/^demo_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/)
    await dialog.getByRole('button', { name: 'Done' }).click()
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'browser-test' }) })
    await row.waitFor()
    expect(await row.getByRole('cell', { name: key.split('_')[2] as string, exact: true }).count()).toBe(1)
    // The plaintext is nowhere on the page once the dialog is closed.
    expect(await page.content()).not.toContain(key)

    // Five calls to the demo API with the new key, over real HTTP.
    for (let call = 0; call < 5; call++) expect((await callApi(key)).status).toBe(200)

    // The key's page: the chart's totals show the calls.
    await row.getByRole('link', { name: 'browser-test' }).click()
    await page.getByRole('heading', { name: /browser-test/ }).waitFor()
    const total = page.getByTestId('usage-total')
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click()
        return total.textContent()
      })
      .toBe('5')
    expect(await page.locator('[data-outcome="VALID"] td').textContent()).toBe('5')
    expect(await page.locator('.uplot canvas').count()).toBeGreaterThan(0)
    expect(await page.getByTestId('key-last-used').textContent()).not.toBe('never')

    // Revoke it (confirmed in a dialog): the next call is refused.
    await page.getByRole('button', { name: 'Revoke browser-test' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
    await expect.poll(() => page.getByTestId('key-status').first().textContent()).toBe('revoked')
    const refused = await callApi(key)
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { code: string }).code).toBe('REVOKED')

    // The refusal is in the chart too.
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click()
        return page
          .locator('[data-outcome="REVOKED"] td')
          .textContent({ timeout: 1000 })
          .catch(() => null)
      })
      .toBe('1')
    expect(await total.textContent()).toBe('6')

    // Its abuse signals: none yet; then the key's id presented with ten wrong secrets (the default
    // wrong-secret threshold) shows up on the page once the demo's monitor has added them up.
    expect(await page.getByTestId('key-abuse-none').isVisible()).toBe(true)
    const [prefix, environment, id] = key.split('_') as [string, string, string]
    for (let attempt = 0; attempt < 10; attempt++) {
      const wrong = formatKey(prefix, environment as 'live', id, randomBase62(32))
      expect((await callApi(wrong)).status).toBe(401)
    }
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click()
          return page
            .locator('[data-testid="key-abuse"] tr[data-kind="wrong-secret"]')
            .count()
            .catch(() => 0)
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(1)
    if (process.env.KEYWARD_SCREENSHOT === '1') {
      await page.screenshot({ path: join(root, 'docs/dashboard.png'), fullPage: true })
    }
    expect(pageErrors).toEqual([])
  }, 120_000)

  it('in self-service mode: a customer signed in to the app manages their own keys, without an admin key', async () => {
    // An application with its own sign-in (a cookie), its API, and the self-service API mounted.
    const keyward = createKeyward({ prefix: 'shop' })
    const app = new Hono()
    app.get('/login', (c) => {
      c.header('set-cookie', 'session=org_customer; Path=/; HttpOnly; SameSite=Lax')
      return c.redirect('/account/keys/')
    })
    app.use('/v1/*', apiKeyAuth(keyward))
    app.get('/v1/orders', (c) => c.json({ orders: [] }))
    const selfService = createAdmin({
      keyward,
      ownerFrom: (c) => getCookie(c, 'session') ?? null,
      grantableScopes: ['orders:read'],
    })
    app.mount('/account/keys', selfService.fetch)
    const server: Server = createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      await page.goto(`${base}/login`)
      await page.getByRole('heading', { name: 'Your API keys' }).waitFor()
      expect(await page.getByLabel('Admin key').count()).toBe(0)
      expect(await page.getByLabel('Credits (optional)').count()).toBe(0)
      await page.getByLabel('Name').fill('ci')
      await page.getByLabel('Scopes').fill('orders:read')
      await page.getByRole('button', { name: 'Create key' }).click()
      const key = await page.getByRole('dialog').getByTestId('new-key').inputValue()
      await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click()
      const created = await keyward.keys.get(key.split('_')[2] as string)
      expect(created?.ownerId).toBe('org_customer')
      // A scope the application does not let customers grant is refused, with the reason shown.
      await page.getByLabel('Scopes').fill('orders:write')
      await page.getByRole('button', { name: 'Create key' }).click()
      await page.getByText('Scope not grantable').waitFor()

      expect((await fetch(`${base}/v1/orders`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
        200,
      )
      await page.getByRole('link', { name: 'ci' }).click()
      await expect
        .poll(async () => {
          await page.getByRole('button', { name: 'Refresh' }).click()
          return page
            .getByTestId('usage-total')
            .textContent({ timeout: 1000 })
            .catch(() => null)
        })
        .toBe('1')
      await page.getByRole('button', { name: 'Revoke ci' }).click()
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
      await expect.poll(() => page.getByTestId('key-status').first().textContent()).toBe('revoked')
      expect((await fetch(`${base}/v1/orders`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
        401,
      )
      expect(pageErrors).toEqual([])
    } finally {
      await new Promise((resolve) => server.close(resolve))
      await keyward.close()
    }
  }, 120_000)
})
