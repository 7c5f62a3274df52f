/**
 * The OpenAPI 3.1 document, generated from the routes' own schemas (the ones that validate each
 * request) and served at `GET /openapi.json`, without authentication: it describes the API, it
 * holds no data. It is built once, on first use.
 */
import { createRoute, z } from '@hono/zod-openapi'
import type { AdminConfig } from './options.ts'
import type { AdminApp } from './routes/common.ts'

const ADMIN_DESCRIPTION =
  'Manage keyward API keys, owners and usage. Every route needs an admin key — a keyward key with ' +
  'scopes of the `keyward:` namespace — as `Authorization: Bearer <key>`; each route names the scope ' +
  'it needs. Errors are RFC 9457 problems (`application/problem+json`).'

const SELF_SERVICE_DESCRIPTION =
  'Manage your own API keys and read their usage. Requests are authenticated by your session with ' +
  'the application. Errors are RFC 9457 problems (`application/problem+json`).'

export function registerDocument(app: AdminApp, config: AdminConfig): () => Record<string, unknown> {
  if (config.mode === 'admin') {
    app.openAPIRegistry.registerComponent('securitySchemes', 'adminKey', {
      type: 'http',
      scheme: 'bearer',
      description: 'An admin key: a keyward key granted `keyward:*` or the scope a route names.',
    })
  }

  let document: Record<string, unknown> | undefined
  const build = (): Record<string, unknown> => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: config.openapi.title,
        version: config.openapi.version,
        description: config.mode === 'admin' ? ADMIN_DESCRIPTION : SELF_SERVICE_DESCRIPTION,
      },
      servers: config.openapi.servers,
      tags: [
        { name: 'keys', description: 'API keys' },
        { name: 'owners', description: 'Limits and credits shared by all of an owner’s keys' },
        { name: 'usage', description: 'Verifications per outcome, over time' },
        { name: 'meta', description: 'This document and the dashboard' },
      ],
    }) as unknown as Record<string, unknown>
    return document
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/openapi.json',
      tags: ['meta'],
      summary: 'This OpenAPI document',
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document of this API.',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
      },
    }),
    (c) => c.json(build(), 200, { 'cache-control': 'no-cache' }),
  )
  return build
}
