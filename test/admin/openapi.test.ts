/**
 * The OpenAPI 3.1 document, in both modes: it passes a real validator (`@readme/openapi-parser`),
 * it lists exactly the routes the app serves (read from the Hono router), every documented
 * operation is answered by a route rather than the not-found problem, and each admin route names
 * the scope its admin key needs.
 */

import { type Admin, type AdminOptions, createAdmin } from '@keyward/admin'
import { createKeyward } from '@keyward/core'
import { validate } from '@readme/openapi-parser'
import { describe, expect, it } from 'vitest'
import { call } from './support.ts'

interface Operation {
  security?: Record<string, string[]>[]
  parameters?: { name: string; in: string }[]
}

interface Document {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes?: Record<string, unknown> }
}

const MODES: [string, Partial<AdminOptions>][] = [
  ['admin', {}],
  ['self-service', { ownerFrom: () => 'org_42', grantableScopes: ['orders:*'] }],
]

function documentOf(admin: Admin): Document {
  return admin.openapi() as unknown as Document
}

/** `METHOD /path/{param}` of every route the Hono app serves (middleware entries left out). */
function servedRoutes(admin: Admin): string[] {
  const routes = admin.app.routes
    .filter((route) => route.method !== 'ALL')
    .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`)
  return [...new Set(routes)].sort()
}

function documentedRoutes(document: Document): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort()
}

describe.each(MODES)('the OpenAPI document (%s mode)', (_mode, options) => {
  const admin = createAdmin({ keyward: createKeyward({ prefix: 'acme' }), ...options })
  const document = documentOf(admin)

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0')
    const result = await validate(structuredClone(document) as never)
    expect(result.valid ? [] : result.errors, JSON.stringify(result)).toEqual([])
    expect(result.warnings).toEqual([])
  })

  it('is served at /openapi.json, without a key', async () => {
    const answer = await call(admin, 'GET', '/openapi.json')
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(document)
  })

  it('documents every route the app serves, and nothing else', () => {
    expect(documentedRoutes(document)).toEqual(servedRoutes(admin))
  })

  it('has every documented operation answered by its route', async () => {
    for (const operation of documentedRoutes(document)) {
      const [method, template] = operation.split(' ') as [string, string]
      const answer = await call(admin, method, template.replace('{id}', 'org_42'))
      expect(answer.body === null ? null : (answer.body as { type?: string }).type, operation).not.toBe(
        'https://keyward.dev/problems/route-not-found',
      )
    }
  })
})

describe('security in the admin document', () => {
  const document = documentOf(createAdmin({ keyward: createKeyward({ prefix: 'acme' }) }))

  it('names the admin key scheme and, on every API route, the scope it needs', () => {
    expect(document.components.securitySchemes).toEqual({
      adminKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    })
    const scopes = Object.fromEntries(
      documentedRoutes(document).map((operation) => {
        const [method, path] = operation.split(' ') as [string, string]
        return [operation, document.paths[path]?.[method.toLowerCase()]?.security ?? []]
      }),
    )
    expect(scopes).toEqual({
      'GET /': [],
      'GET /openapi.json': [],
      'GET /keys': [{ adminKey: ['keyward:keys:read'] }],
      'POST /keys': [{ adminKey: ['keyward:keys:write'] }],
      'GET /keys/{id}': [{ adminKey: ['keyward:keys:read'] }],
      'PATCH /keys/{id}': [{ adminKey: ['keyward:keys:write'] }],
      'DELETE /keys/{id}': [{ adminKey: ['keyward:keys:write'] }],
      'POST /keys/{id}/revoke': [{ adminKey: ['keyward:keys:write'] }],
      'POST /keys/{id}/rotate': [{ adminKey: ['keyward:keys:write'] }],
      'GET /keys/{id}/usage': [{ adminKey: ['keyward:usage:read'] }],
      'GET /keys/{id}/abuse': [{ adminKey: ['keyward:usage:read'] }],
      'GET /owners/{id}': [{ adminKey: ['keyward:owners:read'] }],
      'PUT /owners/{id}': [{ adminKey: ['keyward:owners:write'] }],
      'PATCH /owners/{id}': [{ adminKey: ['keyward:owners:write'] }],
      'DELETE /owners/{id}': [{ adminKey: ['keyward:owners:write'] }],
      'GET /owners/{id}/usage': [{ adminKey: ['keyward:usage:read'] }],
      'GET /usage/top': [{ adminKey: ['keyward:usage:read'] }],
    })
  })

  it('in self-service mode, names no admin key: the application’s sign-in applies', () => {
    const selfService = documentOf(
      createAdmin({ ...MODES[1]![1], keyward: createKeyward({ prefix: 'acme' }) }),
    )
    expect(selfService.components.securitySchemes).toBeUndefined()
    for (const item of Object.values(selfService.paths)) {
      for (const operation of Object.values(item)) expect(operation.security).toBeUndefined()
    }
  })

  it('documents the query parameters of the usage routes as keyward.usage takes them', () => {
    const names = (path: string) => document.paths[path]?.get?.parameters?.map((parameter) => parameter.name)
    expect(names('/keys/{id}/usage')).toEqual(['id', 'from', 'to', 'granularity'])
    expect(names('/usage/top')).toEqual(['from', 'to', 'by', 'limit', 'ownerId', 'granularity'])
  })
})
