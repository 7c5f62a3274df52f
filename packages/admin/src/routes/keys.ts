/**
 * `/keys`: create, list, read, update, revoke, rotate and delete keys through `keyward.keys`, with
 * the caller as the audit actor. The plaintext key appears only in the answers of create and
 * rotate. In self-service, a customer works on their own keys only and sets no limits, credits or
 * meta; anyone else's key answers like an unknown one.
 */
import { createRoute } from '@hono/zod-openapi'
import { AdminScope } from '../access.ts'
import { toCreateInput, toUpdatePatch } from '../input.ts'
import { validationProblem } from '../problems.ts'
import {
  CreatedKey,
  CreateKeyBody,
  DeleteQuery,
  Key,
  KeyIdParams,
  KeyPage,
  ListKeysQuery,
  RevokeKeyBody,
  RotatedKey,
  RotateKeyBody,
  SelfServiceCreateKeyBody,
  SelfServiceListKeysQuery,
  SelfServiceUpdateKeyBody,
  UpdateKeyBody,
} from '../schemas.ts'
import { toKeyJson } from '../serialize.ts'
import {
  type AdminApp,
  audit,
  COMMON_PROBLEMS,
  guarded,
  INVALID,
  KEY_NOT_FOUND,
  problem,
  type RouteContext,
  visibleKey,
} from './common.ts'

const TAGS = ['keys']

export function registerKeyRoutes(app: AdminApp, context: RouteContext): void {
  const { config, access } = context
  const { keyward } = config
  const selfService = config.mode === 'self-service'
  const read = guarded(context, AdminScope.KEYS_READ)
  const write = guarded(context, AdminScope.KEYS_WRITE)

  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys',
      tags: TAGS,
      summary: 'Create a key',
      description: selfService
        ? 'Creates a key for the signed-in owner. The plaintext key is in this response only.'
        : 'Creates a key for `ownerId`. The plaintext key is in this response only.',
      ...write,
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: selfService ? SelfServiceCreateKeyBody : CreateKeyBody } },
        },
      },
      responses: {
        201: {
          description: 'The key (shown once) and its record.',
          content: { 'application/json': { schema: CreatedKey } },
        },
        400: INVALID,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const body = c.req.valid('json')
      const caller = c.get('access')
      let ownerId: string
      if (caller.mode === 'self-service') {
        if (body.ownerId !== undefined && body.ownerId !== caller.ownerId) {
          throw validationProblem([
            { in: 'body', field: 'ownerId', message: 'must be your own owner id, or left out' },
          ])
        }
        ownerId = caller.ownerId
      } else {
        ownerId = body.ownerId as string
      }
      access.checkGrant(caller, body.scopes ?? [])
      const created = await keyward.keys.create(toCreateInput(body, ownerId), audit(caller, body.reason))
      // Relative to this request's URL, so it holds wherever the API is mounted.
      return c.json({ key: created.key, record: toKeyJson(created.record) }, 201, {
        location: `keys/${created.record.id}`,
      })
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys',
      tags: TAGS,
      summary: "List an owner's keys",
      description: selfService
        ? 'Lists the signed-in owner’s keys, a page at a time.'
        : 'Lists the keys of `ownerId`, a page at a time.',
      ...read,
      request: { query: selfService ? SelfServiceListKeysQuery : ListKeysQuery },
      responses: {
        200: { description: 'One page of keys.', content: { 'application/json': { schema: KeyPage } } },
        400: INVALID,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { ownerId, limit, cursor } = c.req.valid('query')
      const caller = c.get('access')
      const owner = caller.mode === 'self-service' ? (ownerId ?? caller.ownerId) : (ownerId as string)
      // Another owner's keys are answered as an owner without keys: the reply says nothing of them.
      if (!access.isOwnOwner(caller, owner)) return c.json({ items: [], cursor: null }, 200)
      const options: { ownerId: string; limit?: number; cursor?: string } = { ownerId: owner }
      if (limit !== undefined) options.limit = limit
      if (cursor !== undefined) options.cursor = cursor
      const page = await keyward.keys.list(options)
      const items = page.items.filter((record) => access.canSee(caller, record)).map(toKeyJson)
      return c.json({ items, cursor: page.cursor }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys/{id}',
      tags: TAGS,
      summary: 'Read a key',
      ...read,
      request: { params: KeyIdParams },
      responses: {
        200: { description: 'The key record.', content: { 'application/json': { schema: Key } } },
        404: KEY_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const record = await visibleKey(context, c.get('access'), c.req.valid('param').id)
      return c.json(toKeyJson(record), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/keys/{id}',
      tags: TAGS,
      summary: 'Update a key',
      description: 'Changes the given fields; `null` removes an optional one.',
      ...write,
      request: {
        params: KeyIdParams,
        body: {
          required: true,
          content: { 'application/json': { schema: selfService ? SelfServiceUpdateKeyBody : UpdateKeyBody } },
        },
      },
      responses: {
        200: { description: 'The updated record.', content: { 'application/json': { schema: Key } } },
        400: INVALID,
        404: KEY_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const caller = c.get('access')
      const { id } = c.req.valid('param')
      const body = c.req.valid('json')
      await visibleKey(context, caller, id)
      if (body.scopes !== undefined) access.checkGrant(caller, body.scopes)
      const updated = await keyward.keys.update(id, toUpdatePatch(body), audit(caller, body.reason))
      return c.json(toKeyJson(updated), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys/{id}/revoke',
      tags: TAGS,
      summary: 'Revoke a key',
      description: 'The key stops working at once, in every process. Revoking a revoked key changes nothing.',
      ...write,
      request: {
        params: KeyIdParams,
        body: { required: false, content: { 'application/json': { schema: RevokeKeyBody } } },
      },
      responses: {
        200: { description: 'The revoked record.', content: { 'application/json': { schema: Key } } },
        400: INVALID,
        404: KEY_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const caller = c.get('access')
      const { id } = c.req.valid('param')
      await visibleKey(context, caller, id)
      const revoked = await keyward.keys.revoke(id, audit(caller, c.req.valid('json').reason))
      return c.json(toKeyJson(revoked), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys/{id}/rotate',
      tags: TAGS,
      summary: 'Rotate a key',
      description:
        'Creates a successor with the same owner, scopes, limits, credits and meta; the old key keeps ' +
        'working for `gracePeriodMs` (0: revoked at once). The new plaintext key is in this response only.',
      ...write,
      request: {
        params: KeyIdParams,
        body: { required: false, content: { 'application/json': { schema: RotateKeyBody } } },
      },
      responses: {
        201: {
          description: 'The new key (shown once), its record and the old record.',
          content: { 'application/json': { schema: RotatedKey } },
        },
        400: INVALID,
        404: KEY_NOT_FOUND,
        409: problem('The key is revoked or was already rotated.'),
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const caller = c.get('access')
      const { id } = c.req.valid('param')
      const { gracePeriodMs, expiresAt, reason } = c.req.valid('json')
      const record = await visibleKey(context, caller, id)
      // Rotation hands out a new plaintext key with the old one's scopes: only for a caller who
      // could have granted them.
      access.checkGrant(caller, record.scopes)
      const options: Parameters<typeof keyward.keys.rotate>[1] & object = audit(caller, reason)
      if (gracePeriodMs !== undefined) options.gracePeriodMs = gracePeriodMs
      if (expiresAt !== undefined) options.expiresAt = expiresAt === null ? null : new Date(expiresAt)
      const rotated = await keyward.keys.rotate(id, options)
      return c.json(
        { key: rotated.key, record: toKeyJson(rotated.record), previous: toKeyJson(rotated.previous) },
        201,
        { location: `../${rotated.record.id}` },
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/keys/{id}',
      tags: TAGS,
      summary: 'Delete a key',
      description: 'Removes the key for good; its id then answers 404 here and 401 to requests.',
      ...write,
      request: { params: KeyIdParams, query: DeleteQuery },
      responses: {
        200: { description: 'The record as it was.', content: { 'application/json': { schema: Key } } },
        400: INVALID,
        404: KEY_NOT_FOUND,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const caller = c.get('access')
      const { id } = c.req.valid('param')
      await visibleKey(context, caller, id)
      const removed = await keyward.keys.delete(id, audit(caller, c.req.valid('query').reason))
      return c.json(toKeyJson(removed), 200)
    },
  )
}
