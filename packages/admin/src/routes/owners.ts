/**
 * `/owners/{id}`: an owner's record — rate limits and a credit pool shared by all of its keys —
 * through `keyward.owners`. In self-service a customer may read their own record only: limits and
 * credits are the provider's to set, so the write routes are not served there, and any other
 * owner id answers like one without a record.
 */
import { createRoute } from '@hono/zod-openapi'
import { AdminScope } from '../access.ts'
import { toOwnerInput } from '../input.ts'
import { ProblemError } from '../problems.ts'
import { DeleteQuery, Owner, OwnerBody, OwnerIdParams } from '../schemas.ts'
import { toOwnerJson } from '../serialize.ts'
import {
  type AdminApp,
  audit,
  COMMON_PROBLEMS,
  guarded,
  INVALID,
  problem,
  type RouteContext,
} from './common.ts'

const TAGS = ['owners']
const OWNER_NOT_FOUND = problem('The owner has no record (or is not the caller’s).')

export function registerOwnerRoutes(app: AdminApp, context: RouteContext): void {
  const { config, access } = context
  const { keyward } = config
  const read = guarded(context, AdminScope.OWNERS_READ)
  const write = guarded(context, AdminScope.OWNERS_WRITE)

  app.openapi(
    createRoute({
      method: 'get',
      path: '/owners/{id}',
      tags: TAGS,
      summary: "Read an owner's record",
      ...read,
      request: { params: OwnerIdParams },
      responses: {
        200: { description: 'The owner record.', content: { 'application/json': { schema: Owner } } },
        404: OWNER_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const owner = access.isOwnOwner(c.get('access'), id) ? await keyward.owners.get(id) : null
      if (owner === null) throw new ProblemError('OWNER_NOT_FOUND')
      return c.json(toOwnerJson(owner), 200)
    },
  )

  if (config.mode === 'self-service') return

  app.openapi(
    createRoute({
      method: 'put',
      path: '/owners/{id}',
      tags: TAGS,
      summary: "Create or replace an owner's record",
      description: 'Fields left out are removed (no limits, no credit pool, empty meta).',
      ...write,
      request: {
        params: OwnerIdParams,
        body: { required: true, content: { 'application/json': { schema: OwnerBody } } },
      },
      responses: {
        200: { description: 'The owner record.', content: { 'application/json': { schema: Owner } } },
        400: INVALID,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      const owner = await keyward.owners.set(id, toOwnerInput(body), audit(c.get('access'), body.reason))
      return c.json(toOwnerJson(owner), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/owners/{id}',
      tags: TAGS,
      summary: "Update an owner's record",
      description: 'Changes the given fields; `null` removes limits or the credit pool.',
      ...write,
      request: {
        params: OwnerIdParams,
        body: { required: true, content: { 'application/json': { schema: OwnerBody } } },
      },
      responses: {
        200: { description: 'The updated owner record.', content: { 'application/json': { schema: Owner } } },
        400: INVALID,
        404: OWNER_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      const owner = await keyward.owners.update(id, toOwnerInput(body), audit(c.get('access'), body.reason))
      return c.json(toOwnerJson(owner), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/owners/{id}',
      tags: TAGS,
      summary: "Delete an owner's record",
      description:
        "Removes the owner's limits and credit pool; its keys stay, limited by their own settings.",
      ...write,
      request: { params: OwnerIdParams, query: DeleteQuery },
      responses: {
        200: {
          description: 'The owner record as it was.',
          content: { 'application/json': { schema: Owner } },
        },
        400: INVALID,
        404: OWNER_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const owner = await keyward.owners.delete(id, audit(c.get('access'), c.req.valid('query').reason))
      return c.json(toOwnerJson(owner), 200)
    },
  )
}
