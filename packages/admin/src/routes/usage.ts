/**
 * Usage reads through `keyward.usage`: one key's or one owner's verifications per outcome, in
 * minute, hour or day buckets, and keys ranked over a range (docs/usage.md). In
 * self-service they are confined to the signed-in owner.
 */
import { createRoute } from '@hono/zod-openapi'
import type {
  UsageGranularity,
  UsageReport as UsageReportData,
  UsageTopQuery as UsageTopOptions,
} from '@keyward/core'
import { AdminScope } from '../access.ts'
import { ProblemError } from '../problems.ts'
import { KeyIdParams, OwnerIdParams, UsageQuery, UsageReport, UsageTop, UsageTopQuery } from '../schemas.ts'
import type { UsageParams, UsageReportJson } from '../wire.ts'
import {
  type AdminApp,
  COMMON_PROBLEMS,
  guarded,
  INVALID,
  KEY_NOT_FOUND,
  problem,
  type RouteContext,
  visibleKey,
} from './common.ts'

const TAGS = ['usage']
const DAY_MS = 86_400_000
/** The range a usage read covers when `from` is not given: 60 buckets of minutes, a day of hours, 30 days. */
const DEFAULT_SPAN_MS: Readonly<Record<UsageGranularity, number>> = {
  minute: 3_600_000,
  hour: DAY_MS,
  day: 30 * DAY_MS,
}

function range(params: UsageParams, now: number, granularity: UsageGranularity): { from: Date; to: Date } {
  const to = params.to === undefined ? new Date(now) : new Date(params.to)
  const from =
    params.from === undefined ? new Date(to.getTime() - DEFAULT_SPAN_MS[granularity]) : new Date(params.from)
  return { from, to }
}

function reportJson(report: UsageReportData): UsageReportJson {
  return {
    granularity: report.granularity,
    buckets: report.buckets.map((bucket) => ({
      start: bucket.start.toISOString(),
      counts: bucket.counts,
      requests: bucket.requests,
      credits: bucket.credits,
    })),
    totals: report.totals,
  }
}

export function registerUsageRoutes(app: AdminApp, context: RouteContext): void {
  const { config, access } = context
  const { keyward } = config
  const read = guarded(context, AdminScope.USAGE_READ)
  const report = {
    description: 'Buckets of the range, oldest first, and totals.',
    content: { 'application/json': { schema: UsageReport } },
  }

  async function usageReport(
    target: { keyId: string } | { ownerId: string },
    params: UsageParams,
  ): Promise<UsageReportJson> {
    const granularity = params.granularity ?? 'hour'
    return reportJson(
      await keyward.usage.get(target, { ...range(params, keyward.now(), granularity), granularity }),
    )
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys/{id}/usage',
      tags: TAGS,
      summary: "A key's usage",
      description:
        'Verifications of the key per outcome (`VALID`, `RATE_LIMITED`, …) and credits spent, per bucket.',
      ...read,
      request: { params: KeyIdParams, query: UsageQuery },
      responses: { 200: report, 400: INVALID, 404: KEY_NOT_FOUND, ...COMMON_PROBLEMS },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      await visibleKey(context, c.get('access'), id)
      return c.json(await usageReport({ keyId: id }, c.req.valid('query')), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/owners/{id}/usage',
      tags: TAGS,
      summary: "An owner's usage",
      description: "Verifications of all the owner's keys per outcome and credits spent, per bucket.",
      ...read,
      request: { params: OwnerIdParams, query: UsageQuery },
      responses: {
        200: report,
        400: INVALID,
        404: problem('Not the caller’s own owner id (self-service).'),
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      if (!access.isOwnOwner(c.get('access'), id)) throw new ProblemError('OWNER_NOT_FOUND')
      return c.json(await usageReport({ ownerId: id }, c.req.valid('query')), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/usage/top',
      tags: TAGS,
      summary: 'Keys ranked by usage',
      description: 'Keys ranked by requests, rejections or credits over a range, highest first.',
      ...read,
      request: { query: UsageTopQuery },
      responses: {
        200: { description: 'The ranking.', content: { 'application/json': { schema: UsageTop } } },
        400: INVALID,
        ...COMMON_PROBLEMS,
      },
    }),
    async (c) => {
      const params = c.req.valid('query')
      const caller = c.get('access')
      const ownerId = caller.mode === 'self-service' ? (params.ownerId ?? caller.ownerId) : params.ownerId
      if (ownerId !== undefined && !access.isOwnOwner(caller, ownerId)) return c.json({ items: [] }, 200)
      const { from, to } = range(params, keyward.now(), 'hour')
      const query: UsageTopOptions = { from, to, by: params.by ?? 'requests', limit: params.limit ?? 10 }
      if (ownerId !== undefined) query.ownerId = ownerId
      if (params.granularity !== undefined) query.granularity = params.granularity
      let items = await keyward.usage.top(query)
      if (caller.mode === 'self-service') {
        // The provider's own keys under this owner id stay out of sight here too.
        const seen = await Promise.all(
          items.map(async (item) => {
            const record = await keyward.keys.get(item.keyId)
            return record === null || access.canSee(caller, record)
          }),
        )
        items = items.filter((_, index) => seen[index])
      }
      return c.json({ items }, 200)
    },
  )
}
