/**
 * `createAdmin` checks its options once, when called: each mistake is a `ConfigError` naming the
 * option. And the dashboard page it serves: inline script and style allowed by hash and nothing
 * else, the mode told to the script, no dashboard when turned off.
 */
import { createHash } from 'node:crypto'
import { type AdminOptions, createAdmin } from '@keyward/admin'
import { ConfigError, createKeyward } from '@keyward/core'
import { describe, expect, it } from 'vitest'
import { call, expectProblem } from './support.ts'

const keyward = createKeyward({ prefix: 'acme' })

describe('createAdmin options', () => {
  const noOwner = (): null => null
  it.each<[string, unknown]>([
    ['options', null],
    ['keyward', {}],
    ['keyward', { keyward: { keys: {} } }],
    ['ownerFrom', { keyward, ownerFrom: 'org_42' }],
    ['grantableScopes', { keyward, ownerFrom: noOwner }],
    ['grantableScopes', { keyward, ownerFrom: noOwner, grantableScopes: 'orders:read' }],
    ['grantableScopes[1]', { keyward, ownerFrom: noOwner, grantableScopes: ['orders:read', 'has space'] }],
    ['grantableScopes', { keyward, ownerFrom: noOwner, grantableScopes: ['keyward:keys:read'] }],
    ['grantableScopes', { keyward, grantableScopes: ['orders:read'] }],
    ['trustedOrigins', { keyward, trustedOrigins: ['https://app.example.com'] }],
    [
      'trustedOrigins[0]',
      { keyward, ownerFrom: noOwner, grantableScopes: [], trustedOrigins: ['https://a.example/path'] },
    ],
    ['auth', { keyward, ownerFrom: noOwner, grantableScopes: [], auth: { realm: 'x' } }],
    ['dashboard', { keyward, dashboard: 'yes' }],
    ['openapi', { keyward, openapi: 'v1' }],
    ['ownerForm', { keyward, ownerForm: noOwner }],
    ['realm', { keyward, auth: { realm: 'bad"realm' } }],
  ])('throws ConfigError naming `%s`', (option, options) => {
    let error: unknown
    try {
      createAdmin(options as AdminOptions)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).option).toBe(option)
  })

  it('takes the realm, headers and OpenAPI info it is given', async () => {
    const admin = createAdmin({
      keyward,
      auth: { realm: 'ops', headers: ['x-admin-key'] },
      openapi: { title: 'Acme keys', version: '2.1', servers: [{ url: 'https://api.acme.test/admin' }] },
    })
    const answer = await call(admin, 'GET', '/keys?ownerId=o')
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="ops"')
    const { key } = await keyward.keys.create({ ownerId: 'ops', scopes: ['keyward:keys:read'] })
    expect((await call(admin, 'GET', '/keys?ownerId=o', { headers: { 'x-admin-key': key } })).status).toBe(
      200,
    )
    expect((await call(admin, 'GET', '/keys?ownerId=o', { key })).status).toBe(401)
    expect(admin.openapi()).toMatchObject({
      info: { title: 'Acme keys', version: '2.1' },
      servers: [{ url: 'https://api.acme.test/admin' }],
    })
  })
})

describe('the dashboard page', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64')

  it.each([
    ['admin', {}],
    ['self-service', { ownerFrom: () => null, grantableScopes: [] }],
  ] as const)('in %s mode: inline script and style allowed by hash, nothing else', async (mode, options) => {
    const page = await call(createAdmin({ keyward, ...options }), 'GET', '/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=UTF-8')
    expect(page.text).toContain(`<meta name="keyward-mode" content="${mode}">`)
    const script = /<script type="module">([\s\S]*)<\/script>/.exec(page.text)?.[1] as string
    const style = /<style>([\s\S]*?)<\/style>/.exec(page.text)?.[1] as string
    expect(script).toContain('uPlot')
    expect(script).not.toMatch(/<\/script/i)
    const csp = page.headers.get('content-security-policy') as string
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      `script-src 'sha256-${sha256(script)}'`,
      `style-src 'sha256-${sha256(style)}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ])
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    // No external asset of any kind.
    expect(page.text).not.toMatch(/\b(src|href)="(https?:)?\/\//)
  })

  it('is not served with dashboard: false', async () => {
    const admin = createAdmin({ keyward, dashboard: false })
    expectProblem(await call(admin, 'GET', '/'), 404, 'route-not-found')
    expect(Object.keys((admin.openapi() as { paths: object }).paths)).not.toContain('/')
  })
})
