/**
 * A key's abuse signals through `keyward.abuse.recent` (docs/monitoring.md): wrong secrets,
 * many networks, spikes, newest first, with whether the key was quarantined. Read with the usage
 * scope; in self-service confined to the signed-in owner's keys like every key route.
 */
import { createRoute } from '@hono/zod-openapi'
import { AdminScope } from '../access.ts'
import { AbuseEvents, AbuseQuery, KeyIdParams } from '../schemas.ts'
import { toAbuseEventJson } from '../serialize.ts'
import type { AbuseEventJson } from '../wire.ts'
import {
  type AdminApp,
  COMMON_PROBLEMS,
  guarded,
  INVALID,
  KEY_NOT_FOUND,
  type RouteContext,
  visibleKey,
} from './common.ts'

export function registerAbuseRoutes(app: AdminApp, context: RouteContext): void {
  const { keyward } = context.config
  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys/{id}/abuse',
      tags: ['usage'],
      summary: "A key's abuse signals",
      description:
        'The abuse events keyward emitted about the key (`wrong-secret`, `many-networks`, `spike`), newest first, ' +
        'kept as `abuse.history` configures.',
      ...guarded(context, AdminScope.USAGE_READ),
      request: { params: KeyIdParams, query: AbuseQuery },
      responses: {
        200: {
          description: 'Newest first.',
          content: { 'application/json': { schema: AbuseEvents } },
        },
        400: INVALID,
        404: KEY_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      await visibleKey(context, c.get('access'), id)
      const { limit } = c.req.valid('query')
      const events = await keyward.abuse.recent({ keyId: id, limit: limit ?? 20 })
      const items = events.map(toAbuseEventJson).filter((event): event is AbuseEventJson => event !== null)
      return c.json({ items }, 200)
    },
  )
}
